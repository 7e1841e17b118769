import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Ticker } from '../shared/ticker.js';
import { Attempt, type AttemptDeps } from './attempt.js';
import { killOrphan } from './runners/usage.js';
import type { JobRow } from './tables.js';

/** Lost attempts (a worker died under them) a job may have before it is failed rather than queued again. */
const MAX_LOST = 5;

export type WorkerDeps = Omit<AttemptDeps, 'worker'>;

/**
 * A job worker: polls the queue, claims up to `slots` jobs at once
 * (`for update skip locked`, see JobStore.claim), runs each as an Attempt,
 * and hands back the jobs of workers whose leases expired. Everything it
 * knows is in the store, so any number of workers share one database.
 */
export class JobWorker {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly host = hostname();
  private readonly running = new Map<number, Attempt>();
  private readonly ticker: Ticker;
  private stopped = true;

  constructor(private readonly deps: WorkerDeps) {
    this.ticker = new Ticker(deps.config.pollMs, () => this.tick());
  }

  start(): void {
    if (!this.stopped || this.deps.config.slots === 0) return;
    this.stopped = false;
    this.ticker.start();
  }

  /** Runs a tick now, or once more after the one in progress: ticks never overlap. */
  private kick(): Promise<void> {
    return this.ticker.kick();
  }

  /** Jobs running here now (for tests and status). */
  get active(): number {
    return this.running.size;
  }

  /** One pass: hand back expired leases, then fill free slots. Never throws; a failure waits for the next poll. */
  async tick(): Promise<void> {
    try {
      await this.reclaim();
      while (!this.stopped && this.running.size < this.deps.config.slots) {
        const job = await this.deps.store.claim({ worker: this.id, host: this.host, now: Date.now(), leaseMs: this.deps.config.leaseMs, workspaceLimit: this.deps.config.workspaceLimit });
        if (!job) break;
        this.launch(job);
      }
    } catch (e) {
      if (!this.stopped) this.deps.log(`job worker: ${(e as Error).message}`);
    }
  }

  private launch(job: JobRow) {
    const a = new Attempt({ ...this.deps, worker: this.id }, job);
    this.running.set(job.id, a);
    void a.done.finally(() => {
      this.running.delete(job.id);
      // A slot came free: look for the next job now rather than at the next poll.
      if (!this.stopped) void this.kick();
    });
  }

  /**
   * Jobs whose worker stopped heartbeating: the attempt is recorded as lost
   * and the job queued again at once (cancelled if that was asked, failed
   * after MAX_LOST). A dead worker's process group on this host is killed.
   */
  private async reclaim(): Promise<void> {
    const { store } = this.deps;
    const now = Date.now();
    const orphans: Array<{ pid: number; start: string }> = [];
    await store.db.transaction().execute(async (tx) => {
      for (const j of await store.lockExpired(tx, now)) {
        const a = await store.attempt(j.id, j.attempt, tx);
        if (a?.pid && a.pid_start && a.host === this.host && a.worker !== this.id) orphans.push({ pid: a.pid, start: a.pid_start });
        // Losses in a row, this one included: a failure, a release (worker shutdown) or a manual retry in between starts over.
        const earlier = (await store.attempts(j.id, tx)).filter((x) => x.attempt < j.attempt);
        let lost = 1;
        for (let i = earlier.length - 1; i >= 0 && earlier[i].outcome === 'lost'; i--) lost++;
        const state = j.cancel_requested ? 'cancelled' : lost >= MAX_LOST ? 'failed' : 'queued';
        const why = `attempt ${j.attempt} lost: worker ${j.lease_owner} stopped heartbeating (lease expired)`;
        await store.updateAttempt(tx, j.id, j.attempt, { outcome: 'lost', finished_at: now, error: why });
        await store.update(tx, j.id, {
          state,
          lease_owner: null,
          lease_expires_at: null,
          run_after: now,
          error: state === 'failed' ? `${why}; ${MAX_LOST} attempts lost, giving up` : j.error,
          finished_at: state === 'queued' ? null : now,
          updated_at: now,
        });
        await store.appendLogs([{ job_id: j.id, attempt: j.attempt, at: now, stream: 'system', line: state === 'queued' ? `${why}; queued again` : why }], tx);
      }
    });
    for (const o of orphans) killOrphan(o.pid, o.start);
  }

  /**
   * Stops claiming, lets running jobs finish for up to `drainMs`, then kills
   * the rest and queues them again for other workers (not counted as failures).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.ticker.stop();
    const all = () => Promise.all([...this.running.values()].map((a) => a.done));
    let drained = false;
    const wait = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, this.deps.config.drainMs);
      void all().then(() => {
        drained = true;
        clearTimeout(t);
        resolve();
      });
    });
    await wait;
    if (drained) return;
    for (const a of this.running.values()) a.stop('released');
    await all();
  }
}
