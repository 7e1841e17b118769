import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import type { JobStore } from './store.js';
import type { JobLogRow } from './tables.js';

const FLUSH_MS = 250;
const FLUSH_LINES = 500;
/** Lines of one attempt kept in the store; the whole output is kept as run artifacts. */
export const MAX_STORED_LINES = 10_000;

/**
 * One attempt's output: every line to `<dir>/stdout.log` / `stderr.log`
 * (archived as run artifacts at the end), and the first MAX_STORED_LINES to
 * the store in batches, so `job logs -f` follows it live. A failed store
 * write drops that batch (counted in a note) rather than the job.
 */
export class AttemptLog {
  private pending: Array<Omit<JobLogRow, 'id'>> = [];
  private stored = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly files: Record<'stdout' | 'stderr', WriteStream>;

  constructor(
    private readonly store: JobStore,
    private readonly jobId: number,
    private readonly attempt: number,
    readonly dir: string,
  ) {
    this.files = { stdout: this.file('stdout.log'), stderr: this.file('stderr.log') };
  }

  /** A full disk must not crash the worker (and with it `up`): the file stops, the stored lines go on. */
  private file(name: string): WriteStream {
    const f = createWriteStream(join(this.dir, name));
    f.on('error', (e) => this.note(`writing ${name} failed: ${e.message}; the rest of it is not kept as an artifact`));
    return f;
  }

  /** A line from the program. */
  line(stream: 'stdout' | 'stderr', line: string): void {
    const f = this.files[stream];
    if (!f.destroyed) f.write(line + '\n');
    this.add(stream, line);
  }

  /** A line from the worker itself (attempt started, retrying, killed...). */
  note(line: string): void {
    this.add('system', line);
  }

  private add(stream: string, line: string) {
    if (this.stored >= MAX_STORED_LINES) {
      this.dropped++;
      return;
    }
    this.stored++;
    this.pending.push({ job_id: this.jobId, attempt: this.attempt, at: Date.now(), stream, line });
    if (this.stored === MAX_STORED_LINES) this.pending.push({ job_id: this.jobId, attempt: this.attempt, at: Date.now(), stream: 'system', line: `log limit of ${MAX_STORED_LINES} lines reached; the full output is in the run's artifacts` });
    if (this.pending.length >= FLUSH_LINES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes what is pending; writes are serialised so lines keep their order. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(async () => {
      if (!batch.length) return;
      try {
        await this.store.appendLogs(batch);
      } catch {
        this.dropped += batch.length;
      }
    });
    return this.flushing;
  }

  /** Flushes the store and closes the files. */
  async close(): Promise<void> {
    await this.flush();
    for (const f of Object.values(this.files)) {
      if (f.closed) continue;
      const closed = once(f, 'close').catch(() => undefined);
      f.end();
      await closed;
    }
  }
}
