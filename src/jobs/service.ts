import type { Authorizer } from '../access/authorizer.js';
import type { Ctx } from '../access/principal.js';
import { Conflict, NotFound } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import type { Tracking } from '../tracking/service.js';
import type { JobsConfig } from './config.js';
import { checkInputs, type IoDeps } from './io.js';
import { renderKubernetesJob } from './render-k8s.js';
import type { JobCreate, JobDocument } from './schema.js';
import { checkJob } from './spec.js';
import { jobExperiment, queuedJobRow } from './queued.js';
import { JobStore } from './store.js';
import type { JobLogRow, JobRow } from './tables.js';
import { jobView, type JobView } from './views.js';

export interface JobServiceDeps extends IoDeps {
  db: Db;
  authz: Authorizer;
  tracking: Tracking;
  config: JobsConfig;
  now?: () => number;
}

export interface LogPage {
  lines: Array<{ id: number; attempt: number; at: number; stream: string; line: string }>;
  /** Pass as `after` for the lines that follow; null when there were none. */
  next: number | null;
  state: JobRow['state'];
  exitCode: number | null;
}

const TERMINAL = ['succeeded', 'failed', 'cancelled'];

/**
 * Jobs as people drive them: submit, read, cancel, retry, logs. Changes need
 * job.run and are audited with the change; reads need workspace.read. A job
 * runs later, on a worker, with the rights of whoever submitted it.
 */
export class JobService {
  readonly store: JobStore;

  constructor(private readonly deps: JobServiceDeps) {
    this.store = new JobStore(deps.db);
  }

  private now() {
    return (this.deps.now ?? Date.now)();
  }

  async create(ctx: Ctx, workspace: string, input: JobCreate): Promise<JobView> {
    const job = checkJob(input, this.deps.config.classes);
    const audit = { action: 'job.run' as const, workspace, target: `job/${job.name}`, detail: { op: 'create', command: job.spec.command[0] } };
    // Checked before the run is created, so a refused submission leaves no tracking run behind (and is audited).
    if (!(await this.deps.authz.can(ctx.principal, 'job.run', workspace))) return this.deps.authz.mutate(ctx, audit, async () => undefined as never);
    await checkInputs(this.deps, ctx, workspace, job.spec.inputs);
    const experimentId = await jobExperiment(this.deps.tracking, ctx, workspace, job.spec.experiment);
    const run = await this.deps.tracking.runs.create(ctx, workspace, { experimentId, runName: job.name, tags: [{ key: 'slipway.job.kind', value: job.kind }] });
    await this.deps.tracking.runs.update(ctx, workspace, run.info.runId, { status: 'SCHEDULED' });
    return this.deps.authz.mutate(ctx, audit, async (tx, ws) => {
      const now = this.now();
      const row = await this.store.insert(tx, queuedJobRow(job, { workspaceId: Number(ws!.id), experimentId, runId: run.info.runId, ctx, now }));
      return jobView(row, ws!.name, []);
    });
  }

  async list(ctx: Ctx, workspace: string, opts: { state?: string; limit?: number }): Promise<JobView[]> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    return (await this.store.list(Number(ws.id), { state: opts.state, limit: opts.limit ?? 100 })).map((j) => jobView(j, ws.name));
  }

  async get(ctx: Ctx, workspace: string, id: number): Promise<JobView> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const j = await this.require(this.deps.db, Number(ws.id), id);
    return jobView(j, ws.name, await this.store.attempts(j.id));
  }

  async logs(ctx: Ctx, workspace: string, id: number, after = 0, limit = 1000): Promise<LogPage> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    // The state is read before the lines: a follower that sees a final state has then seen every line.
    const j = await this.require(this.deps.db, Number(ws.id), id);
    const lines = await this.store.logs(j.id, after, limit);
    return { lines: lines.map(logLine), next: lines.length ? lines[lines.length - 1].id : after || null, state: j.state, exitCode: j.exit_code };
  }

  /** A queued job is cancelled at once; a running one is flagged and its worker kills it at the next heartbeat. */
  async cancel(ctx: Ctx, workspace: string, id: number, reason?: string): Promise<JobView> {
    const view = await this.mutate(ctx, workspace, id, 'cancel', async (tx, j) => {
      if (TERMINAL.includes(j.state)) throw new Conflict(`job ${id} is already ${j.state}`);
      const now = this.now();
      const error = `cancelled by ${ctx.principal.name}${reason ? `: ${reason}` : ''}`;
      if (j.state === 'queued') await this.store.update(tx, j.id, { state: 'cancelled', cancel_requested: true, error, finished_at: now, updated_at: now });
      else await this.store.update(tx, j.id, { cancel_requested: true, error, updated_at: now });
    });
    if (view.state === 'cancelled' && view.runId) await this.deps.tracking.runs.update(ctx, workspace, view.runId, { status: 'KILLED', endTime: this.now() });
    return view;
  }

  /** Queues a failed or cancelled job again, with its retries counted afresh. */
  async retry(ctx: Ctx, workspace: string, id: number): Promise<JobView> {
    const view = await this.mutate(ctx, workspace, id, 'retry', async (tx, j) => {
      if (j.state !== 'failed' && j.state !== 'cancelled') throw new Conflict(`job ${id} is ${j.state}; only a failed or cancelled job may be retried`);
      const now = this.now();
      await this.store.update(tx, j.id, { state: 'queued', failures: 0, run_after: now, cancel_requested: false, exit_code: null, error: '', finished_at: null, updated_at: now });
    });
    if (view.runId) await this.deps.tracking.runs.update(ctx, workspace, view.runId, { status: 'SCHEDULED' });
    return view;
  }

  /** The Kubernetes batch/v1 Job a cluster would run for this definition. */
  async render(ctx: Ctx, workspace: string, doc: JobCreate | JobDocument): Promise<Record<string, unknown>> {
    await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const { kind: _kind, workspace: _ws, ...input } = doc as JobDocument;
    return renderKubernetesJob(checkJob(input, this.deps.config.classes), { workspace, image: this.deps.config.defaultImage, classes: this.deps.config.classes, serverUrl: this.deps.config.serverUrl });
  }

  private async require(db: Db, wsId: number, id: number, lock = false): Promise<JobRow> {
    const j = await this.store.get(wsId, id, db, lock);
    if (!j) throw new NotFound('job', id);
    return j;
  }

  private mutate(ctx: Ctx, workspace: string, id: number, op: string, change: (tx: Db, j: JobRow) => Promise<void>): Promise<JobView> {
    return this.deps.authz.mutate(ctx, { action: 'job.run', workspace, target: `job/${id}`, detail: { op } }, async (tx, ws) => {
      await change(tx, await this.require(tx, Number(ws!.id), id, true));
      return jobView(await this.require(tx, Number(ws!.id), id), ws!.name);
    });
  }
}

const logLine = (l: JobLogRow) => ({ id: l.id, attempt: l.attempt, at: l.at, stream: l.stream, line: l.line });
