import { Transform } from 'node:stream';

const BAR = 30;
const REDRAW_MS = 100;

function mb(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}

/**
 * Byte progress on stderr: a redrawn bar on a terminal, plain percentage
 * lines (every 10%) when stderr is a file or a pipe, so logs stay readable.
 */
export class Progress {
  private done = 0;
  private lastDraw = 0;
  private lastTenth = -1;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  /** A pass-through stream that counts what flows through it. */
  meter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.advance(chunk.length);
        cb(null, chunk);
      },
    });
  }

  advance(n: number): void {
    this.done += n;
    if (this.out.isTTY) {
      const now = Date.now();
      if (now - this.lastDraw >= REDRAW_MS || this.done >= this.total) this.draw(now);
      return;
    }
    const tenth = this.total === 0 ? 10 : Math.floor((this.done / this.total) * 10);
    if (tenth > this.lastTenth && tenth < 10) {
      this.lastTenth = tenth;
      this.out.write(`${this.label}: ${tenth * 10}%\n`);
    }
  }

  /** The final 100% (once the server has answered, so it means "stored"). */
  finish(): void {
    if (this.out.isTTY) {
      this.done = this.total;
      this.draw(Date.now());
      this.out.write('\n');
    } else {
      this.out.write(`${this.label}: 100%\n`);
    }
  }

  private draw(now: number): void {
    this.lastDraw = now;
    const frac = this.total === 0 ? 1 : Math.min(1, this.done / this.total);
    const filled = Math.round(frac * BAR);
    const pct = String(Math.floor(frac * 100)).padStart(3);
    this.out.write(`\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${pct}%  ${mb(this.done)} / ${mb(this.total)}`);
  }
}

const SPIN = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/**
 * Numbered stages of a long command, each with a live detail line: a
 * spinner with the elapsed time redrawn in place on a terminal; on a file or
 * a pipe one line per new detail (at most one a second), so logs stay short.
 */
export class StageProgress {
  private n = 0;
  private title = '';
  private detail = '';
  private startedAt = 0;
  private lastPlain = 0;
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;

  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  start(title: string): void {
    this.n += 1;
    this.title = title;
    this.detail = '';
    this.startedAt = Date.now();
    if (this.out.isTTY) {
      this.timer = setInterval(() => this.draw(), REDRAW_MS);
      this.timer.unref();
      this.draw();
    } else {
      this.out.write(`[${this.n}/${this.total}] ${title}\n`);
    }
  }

  update(detail: string): void {
    if (detail === this.detail) return;
    this.detail = detail;
    if (this.out.isTTY) return this.draw();
    const now = Date.now();
    if (now - this.lastPlain < 1000) return;
    this.lastPlain = now;
    this.out.write(`      ${detail}\n`);
  }

  /** Ends the stage with a mark (✓ done, ✗ failed, - skipped) and one line of outcome. */
  end(outcome: string, mark: '✓' | '✗' | '-' = '✓'): void {
    clearInterval(this.timer);
    this.timer = undefined;
    const line = `${mark} [${this.n}/${this.total}] ${this.title}: ${outcome} (${secs(Date.now() - this.startedAt)})`;
    this.out.write(this.out.isTTY ? `\r\x1b[K${line}\n` : `${line}\n`);
  }

  private draw(): void {
    this.frame = (this.frame + 1) % SPIN.length;
    const width = this.out.columns || 100;
    const line = `${SPIN[this.frame]} [${this.n}/${this.total}] ${this.title} ${secs(Date.now() - this.startedAt)}${this.detail ? ` — ${this.detail}` : ''}`;
    this.out.write(`\r\x1b[K${line.slice(0, width - 1)}`);
  }
}
