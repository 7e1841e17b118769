import { Ticker } from '../../shared/ticker.js';
import { checkCron, ticksBetween } from './cron.js';
import type { PipelineService } from './service.js';
import type { PipelineSpec } from './spec.js';

/**
 * The worker's pipeline loop: every poll it advances the running pipeline
 * runs and fires cron ticks that fell since the last poll. A tick is fired
 * by inserting the run with a (pipeline, tick) that is unique in the store,
 * so with many workers exactly one starts it; a tick while the previous run
 * is still going is recorded as `skipped`. Ticks that fell while no worker
 * ran are not made up later.
 */
export class PipelineScheduler {
  private readonly ticker: Ticker;
  private checkedUpTo: number;

  constructor(
    private readonly pipelines: PipelineService,
    private readonly opts: { pollMs: number; log: (msg: string) => void; now?: () => number },
  ) {
    this.checkedUpTo = this.now();
    this.ticker = new Ticker(opts.pollMs, () => this.tick());
  }

  private get stopped(): boolean {
    return !this.ticker.running;
  }

  start(): void {
    if (!this.stopped) return;
    this.checkedUpTo = this.now();
    this.ticker.start();
  }

  private now() {
    return (this.opts.now ?? Date.now)();
  }

  /** One pass; never throws. */
  async tick(): Promise<void> {
    try {
      await this.fireSchedules();
      for (const id of await this.pipelines.store.activeRuns()) {
        if (this.stopped) return;
        // One run that cannot advance must not hold up the others.
        await this.pipelines.engine.advance(id).catch((e: Error) => this.opts.log(`pipeline run ${id}: ${e.message}`));
      }
    } catch (e) {
      if (!this.stopped) this.opts.log(`pipeline scheduler: ${(e as Error).message}`);
    }
  }

  private async fireSchedules(): Promise<void> {
    const now = this.now();
    const from = this.checkedUpTo;
    if (Math.floor(now / 60_000) === Math.floor(from / 60_000)) return;
    const pipelines = await this.pipelines.store.list(null);
    // Moved on only once the list was read: a failed read retries the same ticks.
    this.checkedUpTo = now;
    for (const p of pipelines) {
      for (const t of (JSON.parse(p.spec) as PipelineSpec).triggers) {
        if (!('schedule' in t)) continue;
        const tick = ticksBetween(checkCron(t.schedule), t.timezone, from, now).pop();
        if (tick === undefined) continue;
        try {
          await this.pipelines.startAs(p, { kind: 'schedule', schedule: t.schedule, timezone: t.timezone, tick }, tick);
        } catch (e) {
          this.opts.log(`pipeline ${p.name}: schedule tick not started: ${(e as Error).message}`);
        }
      }
    }
  }

  stop(): Promise<void> {
    return this.ticker.stop();
  }
}
