import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Readable } from 'node:stream';
import { Ticker } from '../shared/ticker.js';
import type { Access } from '../access/service.js';
import type { Ctx } from '../access/principal.js';
import type { ArtifactStore } from '../artifacts/store.js';
import type { DatasetService } from '../datasets/service.js';
import type { JobsConfig } from '../jobs/config.js';
import { priceOf } from '../jobs/spec.js';
import { isSlipwayError } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import { BatchClaims, type ClaimedMiniBatch } from './claims.js';
import { header, outputFormatOf, stageRows } from './output.js';
import { ModelCache } from './models.js';
import { scoreRows } from './score.js';
import { BatchStore } from './store.js';
import type { BatchRunRow } from './tables.js';
import { failureLimit, thresholdReason } from './rules.js';

/** Planning cut short by stop(). */
class PlanningStopped extends Error {}

export interface ScorerDeps {
  db: Db;
  artifacts: ArtifactStore;
  datasets: DatasetService;
  access: Access;
  config: JobsConfig;
  log(msg: string): void;
}

/** A mini-batch tried this many times (worker deaths, model errors) fails with its rows. */
const MAX_ATTEMPTS = 4;
/** Failures kept on the run for people to read (the counts are complete). */
const KEEP_FAILURES = 20;

/**
 * The batch worker loop, beside the job worker in every worker process: it
 * plans queued runs into mini-batches, scores mini-batches of any running
 * run, and writes finished runs out as dataset versions. All of it is
 * claimed from the store under leases, so any number of workers share one
 * run, and a worker's death costs only its leases.
 */
export class BatchScorer {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly claims: BatchClaims;
  private readonly store: BatchStore;
  private readonly models: ModelCache;
  private readonly active = new Set<Promise<void>>();
  private readonly ticker: Ticker;
  private started = false;
  private stopping: Promise<void> | undefined;
  /** Set by stop(): nothing new is claimed. */
  private stopped = false;
  /** Process CPU when the last mini-batch was committed (or work resumed after idling): the next commit is charged the difference. */
  private cpuMark = process.cpuUsage();

  constructor(private readonly d: ScorerDeps) {
    this.claims = new BatchClaims(d.db);
    this.store = new BatchStore(d.db);
    this.models = new ModelCache(d.artifacts, Math.max(1, d.config.slots));
    this.ticker = new Ticker(d.config.pollMs, () => this.tick());
  }

  private get slots() {
    return Math.max(1, this.d.config.slots);
  }

  start(): void {
    if (this.started || this.stopped || this.d.config.slots === 0) return;
    this.started = true;
    this.ticker.start();
  }

  private kick(): Promise<void> {
    return this.ticker.kick();
  }

  /** One pass: fill free slots with runs to plan or finalize, then with mini-batches. Never throws. */
  async tick(): Promise<void> {
    try {
      if (this.active.size === 0) this.models.closeIdle();
      while (!this.stopped && this.active.size < this.slots) {
        const run = await this.claims.claimRun(this.id, Date.now(), this.d.config.leaseMs);
        if (!run) break;
        this.launch(run.state === 'queued' ? this.plan(run) : this.finalize(run));
      }
      while (!this.stopped && this.active.size < this.slots) {
        const m = await this.claims.claimMiniBatch(this.id, Date.now(), this.d.config.leaseMs);
        if (!m) break;
        if (this.active.size === 0) this.cpuMark = process.cpuUsage();
        this.launch(this.score(m));
      }
    } catch (e) {
      if (!this.stopped) this.d.log(`batch scorer: ${(e as Error).message}`);
    }
  }

  private launch(work: Promise<void>) {
    const p = work.catch((e) => this.d.log(`batch scorer: ${(e as Error).message}`)).finally(() => {
      this.active.delete(p);
      if (this.started && !this.stopped) void this.kick();
    });
    this.active.add(p);
  }

  /** Keeps a lease alive while `work` runs; `lost` turns true when it was taken over. */
  private async leased<T>(extend: (until: number) => Promise<boolean>, work: (lost: () => boolean) => Promise<T>): Promise<T> {
    let lost = false;
    const every = Math.min(this.d.config.leaseMs / 3, 2000);
    const beat = setInterval(() => void extend(Date.now() + this.d.config.leaseMs).then((ok) => (lost ||= !ok), () => undefined), every);
    try {
      return await work(() => lost);
    } finally {
      clearInterval(beat);
    }
  }

  /** Stages the input's rows into mini-batches (idempotent, so a re-plan after a crash inserts nothing twice). */
  private async plan(run: BatchRunRow): Promise<void> {
    const h = await this.d.datasets.datasetVersion(await this.workspaceName(run), run.input_dataset, run.input_version).catch((e) => (isSlipwayError(e) ? e : Promise.reject(e)));
    if (h instanceof Error) return this.failRun(run, 'queued', `input ${run.input_uri}: ${h.message}`);
    const columns = h.meta.schema.columns.map((c) => c.name);
    const features = run.features ? (JSON.parse(run.features) as string[]) : null;
    const missing = features?.filter((f) => !columns.includes(f)) ?? [];
    if (missing.length) return this.failRun(run, 'queued', `features ${missing.join(', ')} are not columns of ${run.input_uri} (${columns.join(', ')})`);
    let leaseLost = false;
    await this.leased((until) => this.claims.extendRun(run.id, this.id, 'queued', until), async (lost) => {
      let seq = 0;
      let total = 0;
      let buf: unknown[][] = [];
      const flush = async () => {
        if ((leaseLost = lost())) throw new Error(`batch run ${run.id}: planning lease lost`);
        if (this.stopped) throw new PlanningStopped();
        await this.claims.insertMiniBatches([{ run_id: run.id, seq, first_row: total - buf.length, row_count: buf.length, state: 'pending', lease_owner: null, lease_expires_at: null, input: stageRows(buf), output: null }]);
        seq++;
        buf = [];
      };
      for await (const row of h.rows()) {
        buf.push(columns.map((c) => row[c] ?? null));
        total++;
        if (buf.length >= run.mini_batch_rows) await flush();
      }
      if (buf.length) await flush();
      if (!(await this.claims.startRun(run.id, this.id, { totalRows: total, batches: seq, columns, now: Date.now() }))) await this.claims.clearIfEnded(run.id);
    }).catch(async (e) => {
      // Shutting down: hand the run back now (planning is idempotent) rather than hold the shutdown, or the run until the lease ends.
      if (e instanceof PlanningStopped) await this.claims.releaseRun(run.id, this.id, 'queued');
      // Another worker took the planning over (its business now), or the run was cancelled: what this planner staged after that goes.
      if (e instanceof PlanningStopped || leaseLost) await this.claims.clearIfEnded(run.id);
      if (e instanceof PlanningStopped) return;
      if (leaseLost) throw e;
      // Anything else (an unreadable file) would fail every re-plan too.
      return this.failRun(run, 'queued', `planning failed: ${(e as Error).message}`);
    });
  }

  private async score(m: ClaimedMiniBatch): Promise<void> {
    const started = Date.now();
    const run = await this.store.runById(m.runId);
    if (!run || run.state !== 'running') return;
    await this.leased((until) => this.claims.heartbeat(m, this.id, until), async (lost) => {
      if (m.attempt > MAX_ATTEMPTS) return this.commit(run, m, started, { lines: '', failedRows: m.rows.map((_, i) => ({ index: i, error: `mini-batch ${m.seq} failed ${MAX_ATTEMPTS} times` })), predictionColumns: [] });
      let scored;
      try {
        const predictor = await this.models.get(run.model_key, run.model_name);
        scored = await scoreRows(predictor, { rows: m.rows, columns: JSON.parse(run.columns ?? '[]') as string[], features: run.features ? (JSON.parse(run.features) as string[]) : null, format: outputFormatOf(run.input_format) });
      } catch (e) {
        // The model or runtime failed, not the rows: another attempt (here or on another worker) may succeed.
        if (!lost()) await this.claims.release(m, this.id, (e as Error).message);
        return;
      }
      if (lost()) return;
      await this.commit(run, m, started, { lines: scored.lines, failedRows: scored.failed, predictionColumns: scored.predictionColumns });
    });
  }

  /**
   * One transaction: the mini-batch's output and its completion mark (only if
   * this worker still holds it), the run's counters and usage, and the run's
   * next state (failed past the error threshold, finalizing when all are done).
   */
  private async commit(run0: BatchRunRow, m: ClaimedMiniBatch, started: number, r: { lines: string; failedRows: Array<{ index: number; error: string }>; predictionColumns: string[] }): Promise<void> {
    const now = Date.now();
    const cpuNow = process.cpuUsage();
    const cpu = (cpuNow.user - this.cpuMark.user + cpuNow.system - this.cpuMark.system) / 1e6;
    this.cpuMark = cpuNow;
    const wall = now - started;
    const rss = process.memoryUsage().rss;
    const cls = this.d.config.classes[run0.resource_class] ?? this.d.config.classes.small;
    const failedAll = r.failedRows.length === m.rows.length;
    const ended = await this.d.db.transaction().execute(async (tx) => {
      const run = await this.claims.lockRun(tx, m.runId);
      // A run cancelled or failed meanwhile keeps no more output.
      if (!run || run.state !== 'running') return false;
      const error = r.failedRows[0]?.error ?? '';
      const ok = await this.claims.complete(tx, m, this.id, { state: failedAll && m.rows.length ? 'failed' : 'done', output: r.lines, rowsFailed: r.failedRows.length, error });
      if (!ok) return false;
      const rowsFailed = run.rows_failed + r.failedRows.length;
      const done = run.batches_done + (failedAll && m.rows.length ? 0 : 1);
      const failedBatches = run.batches_failed + (failedAll && m.rows.length ? 1 : 0);
      const failures = (JSON.parse(run.failures) as unknown[]).concat(r.failedRows.map((f) => ({ row: m.firstRow + f.index + 1, error: f.error }))).slice(0, KEEP_FAILURES);
      const over = rowsFailed > failureLimit(run);
      const state = over ? 'failed' : done + failedBatches >= (run.batches_total ?? 0) ? 'finalizing' : 'running';
      await this.store.updateRun(tx, run.id, {
        rows_done: run.rows_done + m.rows.length - r.failedRows.length,
        rows_failed: rowsFailed,
        batches_done: done,
        batches_failed: failedBatches,
        failures: JSON.stringify(failures),
        prediction_columns: run.prediction_columns ?? (r.predictionColumns.length ? JSON.stringify(r.predictionColumns) : null),
        cpu_seconds: run.cpu_seconds + cpu,
        busy_ms: run.busy_ms + wall,
        peak_rss_bytes: Math.max(run.peak_rss_bytes, rss),
        cost: Math.round((run.cost + priceOf(cls, wall)) * 1e12) / 1e12,
        state,
        error: over ? thresholdReason(run, rowsFailed) : '',
        finished_at: over ? now : null,
        updated_at: now,
      });
      if (over) await this.store.clearWork(tx, run.id);
      return state !== 'running';
    });
    // The last mini-batch done: write the output now rather than at the next poll.
    if (ended && this.started && !this.stopped) void this.kick();
  }

  /** Writes the scored lines as a new version of the output dataset, then ends the run. */
  private async finalize(run: BatchRunRow): Promise<void> {
    const workspace = await this.workspaceName(run);
    const format = outputFormatOf(run.input_format);
    const filename = `${run.endpoint}-run-${run.id}.${format}`;
    await this.leased((until) => this.claims.extendRun(run.id, this.id, 'finalizing', until), async () => {
      const ctx = await this.submitter(run);
      // A worker that died after uploading left the version behind: adopt it rather than write a second one.
      const existing = await this.d.datasets.get(ctx, workspace, run.output_dataset).then((d) => d.versions.find((v) => v.filename === filename), () => undefined);
      let version = existing?.version;
      if (version === undefined && run.rows_done > 0) {
        const columns = [...(JSON.parse(run.columns ?? '[]') as string[]), ...(JSON.parse(run.prediction_columns ?? '[]') as string[])];
        const claims = this.claims;
        const body = Readable.from((async function* () {
          yield header(format, columns);
          yield* claims.outputs(run.id);
        })());
        version = (await this.d.datasets.upload(ctx, workspace, run.output_dataset, body, { filename, format, source: `batch-endpoints/${run.endpoint}/runs/${run.id}` })).version;
      }
      const now = Date.now();
      await this.d.db.transaction().execute(async (tx) => {
        const cur = await this.claims.lockRun(tx, run.id);
        if (!cur || cur.state !== 'finalizing' || cur.lease_owner !== this.id) return;
        await this.store.updateRun(tx, run.id, { state: 'succeeded', output_version: version ?? null, lease_owner: null, lease_expires_at: null, finished_at: now, updated_at: now });
        await this.store.clearWork(tx, run.id);
      });
    }).catch((e) => this.failRun(run, 'finalizing', `writing the output dataset '${run.output_dataset}' failed: ${(e as Error).message}`));
  }

  private async failRun(run: BatchRunRow, from: string, error: string): Promise<void> {
    const now = Date.now();
    await this.d.db.transaction().execute(async (tx) => {
      const cur = await this.claims.lockRun(tx, run.id);
      if (!cur || cur.state !== from || cur.lease_owner !== this.id) return;
      await this.store.updateRun(tx, run.id, { state: 'failed', error, lease_owner: null, lease_expires_at: null, finished_at: now, updated_at: now });
      await this.store.clearWork(tx, run.id);
    });
  }

  /** The run's starter as a call context: the output is written with exactly their rights. */
  private async submitter(run: BatchRunRow): Promise<Ctx> {
    const p = await this.d.access.store.principalById(run.principal_id);
    if (!p || p.kind === 'group') throw new Error(`the run's starter (principal ${run.principal_id}) no longer exists`);
    const principal = { id: Number(p.id), name: p.name, kind: p.kind, isAdmin: p.is_admin, groupIds: await this.d.access.store.groupIdsOf(Number(p.id)) };
    return { principal, requestId: `batch-run-${run.id}` };
  }

  private workspaceName(run: BatchRunRow): Promise<string> {
    return this.store.workspaceName(run.workspace_id);
  }

  /** Stops claiming and waits for work in hand (a run being planned is handed back at its next mini-batch); the leases of anything cut short expire and other workers take it over. */
  async stop(): Promise<void> {
    if (this.stopped) return this.stopping;
    this.stopping = this.halt();
    return this.stopping;
  }

  private async halt(): Promise<void> {
    this.stopped = true;
    await this.ticker.stop();
    await Promise.all([...this.active]);
    await this.models.close();
  }
}
