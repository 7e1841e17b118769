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
