/**
 * The loop under each background part of the worker role (rollout
 * controller, schedulers, evaluators, delivery): runs `pass` at once, then
 * `everyMs` after each pass ends, so passes never overlap however long one
 * takes; `stop()` waits for the pass in progress. A pass reports its own
 * errors: one that throws is dropped here, and the loop goes on.
 */
export class Ticker {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private on = false;
  private again = false;

  constructor(
    private readonly everyMs: number,
    private readonly run: () => Promise<void>,
  ) {}

  get running(): boolean {
    return this.on;
  }

  start(): void {
    if (this.on) return;
    this.on = true;
    this.next(0);
  }

  /** Runs a pass now, or once more right after the one in progress (work was freed up or arrived). */
  kick(): Promise<void> {
    if (!this.on) return Promise.resolve();
    if (this.pass) {
      this.again = true;
      return this.pass;
    }
    clearTimeout(this.timer);
    return this.runPass();
  }

  async stop(): Promise<void> {
    this.on = false;
    clearTimeout(this.timer);
    await this.pass;
  }

  private next(ms: number): void {
    clearTimeout(this.timer);
    if (!this.on) return;
    this.timer = setTimeout(() => void this.runPass(), ms);
  }

  private runPass(): Promise<void> {
    this.pass = (async () => {
      do {
        this.again = false;
        await this.run().catch(() => undefined);
      } while (this.again && this.on);
    })().finally(() => {
      this.pass = undefined;
      this.next(this.everyMs);
    });
    return this.pass;
  }
}
