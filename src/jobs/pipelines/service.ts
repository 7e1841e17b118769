import type { Authorizer } from '../../access/authorizer.js';
import type { Access } from '../../access/service.js';
import type { Ctx } from '../../access/principal.js';
import { Conflict, isSlipwayError, NotFound } from '../../shared/errors.js';
import type { Db } from '../../store/db.js';
import { principalCtx, PipelineEngine, type EngineDeps } from './engine.js';
import { parsePipeline, runParams, type PipelineSpec } from './spec.js';
import { PipelineStore } from './store.js';
import type { Cause, PipelineRow, RunRow } from './tables.js';
import { pipelineView, runView, type PipelineView, type RunView } from './views.js';

export type PipelineServiceDeps = Omit<EngineDeps, 'store'> & {
  db: Db;
  authz: Authorizer;
  access: Access;
  /** Cancels one job as `slipway job cancel` does (jobs' own rules and audit). */
  cancelJob: (ctx: Ctx, workspace: string, id: number, reason: string) => Promise<unknown>;
};

/**
 * Pipelines as people and triggers drive them: define (apply), read, start
 * runs. Defining and starting need job.run and are audited; reads need
 * workspace.read. Runs started by a schedule or a trigger act with the
 * rights of whoever applied the pipeline last, checked again each time.
 */
export class PipelineService {
  readonly store: PipelineStore;
  readonly engine: PipelineEngine;

  constructor(private readonly d: PipelineServiceDeps) {
    this.store = new PipelineStore(d.db);
    this.engine = new PipelineEngine({ ...d, store: this.store });
  }

  async put(ctx: Ctx, spec: PipelineSpec): Promise<PipelineView> {
    const checked = parsePipeline({ ...spec } as unknown as Record<string, unknown>);
    return this.d.authz.mutate(ctx, { action: 'job.run', workspace: checked.workspace, target: `pipeline/${checked.name}`, detail: { op: 'apply' } }, async (tx, ws) => {
      await this.store.upsert(tx, { workspace_id: Number(ws!.id), name: checked.name, spec: JSON.stringify(checked), principal_id: ctx.principal.id, created_by: ctx.principal.name, now: Date.now() });
      return pipelineView((await this.store.get(Number(ws!.id), checked.name, tx))!, ws!.name);
    });
  }

  async delete(ctx: Ctx, workspace: string, name: string): Promise<void> {
    await this.d.authz.mutate(ctx, { action: 'job.run', workspace, target: `pipeline/${name}`, detail: { op: 'delete' } }, async (tx, ws) => {
      const p = await this.store.get(Number(ws!.id), name, tx);
      if (!p) throw new NotFound('pipeline', name);
      await this.store.delete(tx, p.id);
    });
  }

  /** The pipeline, or null when there is none (apply plans against it). */
  async find(ctx: Ctx, workspace: string, name: string): Promise<PipelineView | null> {
    const ws = await this.d.authz.authorize(ctx, 'workspace.read', workspace);
    const p = await this.store.get(Number(ws.id), name);
    return p ? pipelineView(p, ws.name, (await this.store.runs(p.id, 1))[0]) : null;
  }

  async get(ctx: Ctx, workspace: string, name: string): Promise<PipelineView & { runs: RunView[] }> {
    const ws = await this.d.authz.authorize(ctx, 'workspace.read', workspace);
    const p = await this.require(Number(ws.id), name);
    const runs = await this.store.runs(p.id, 20);
    return { ...pipelineView(p, ws.name), runs: runs.map((r) => runView(r, p.name, ws.name)) };
  }

  async list(ctx: Ctx, workspace: string): Promise<PipelineView[]> {
    const ws = await this.d.authz.authorize(ctx, 'workspace.read', workspace);
    const out: PipelineView[] = [];
    for (const p of await this.store.list(Number(ws.id))) out.push(pipelineView(p, ws.name, (await this.store.runs(p.id, 1))[0]));
    return out;
  }

  async run(ctx: Ctx, workspace: string, name: string, id: number): Promise<RunView> {
    const ws = await this.d.authz.authorize(ctx, 'workspace.read', workspace);
    const p = await this.require(Number(ws.id), name);
    const r = await this.store.run(id);
    if (!r || r.pipeline_id !== p.id) throw new NotFound('pipeline run', id);
    return runView(r, p.name, ws.name, await this.store.steps(r.id));
  }

  /**
   * Starts a run by hand (`manual by <caller>`) or for an alert. An alert
   * cause also needs alert.ack: only whoever handles alerts may claim one
   * started the run.
   */
  async start(ctx: Ctx, workspace: string, name: string, input: { params?: Record<string, unknown>; cause?: { kind: 'manual' } | { kind: 'alert'; id: string } }): Promise<RunView> {
    const cause: Cause = input.cause?.kind === 'alert' ? { kind: 'alert', id: input.cause.id, by: ctx.principal.name } : { kind: 'manual', by: ctx.principal.name };
    if (cause.kind === 'alert') await this.d.authz.authorize(ctx, 'alert.ack', workspace);
    const ws = await this.d.authz.workspace(workspace);
    const p = await this.require(Number(ws.id), name);
    const r = await this.insertRun(ctx, p, ws.name, runParams(JSON.parse(p.spec) as PipelineSpec, input.params), cause, null);
    void this.engine.advance(r!.id).catch((e) => this.d.log(`pipeline run ${r!.id}: ${(e as Error).message}`));
    return runView(r!, p.name, ws.name, await this.store.steps(r!.id));
  }

  /**
   * Stops a running run: no further step starts, steps not started are
   * skipped, and the jobs of queued or running steps are cancelled (a running
   * one has its process group terminated by its worker).
   */
  async cancel(ctx: Ctx, workspace: string, name: string, id: number, reason?: string): Promise<RunView> {
    const why = `cancelled by ${ctx.principal.name}${reason ? `: ${reason}` : ''}`;
    const audit = { action: 'job.run' as const, workspace, target: `pipeline/${name}`, detail: { op: 'cancel', run: id } };
    const { p, jobs } = await this.d.authz.mutate(ctx, audit, async (tx, ws) => {
      const p = await this.require(Number(ws!.id), name, tx);
      const r = await this.store.run(id, tx);
      if (!r || r.pipeline_id !== p.id) throw new NotFound('pipeline run', id);
      if (r.state !== 'running') throw new Conflict(`pipeline run ${id} is already ${r.state}`);
      const now = Date.now();
      await this.store.updateRun(id, { state: 'cancelled', error: why, finished_at: now }, tx);
      const jobs: number[] = [];
      for (const s of await this.store.steps(id, tx)) {
        if (s.state === 'pending') await this.store.updateStep(id, s.name, { state: 'skipped', finished_at: now }, tx);
        if (s.state !== 'queued' && s.state !== 'running') continue;
        await this.store.updateStep(id, s.name, { state: 'failed', error: why, finished_at: now }, tx);
        if (s.job_id !== null) jobs.push(s.job_id);
      }
      return { p, jobs };
    });
    for (const j of jobs) {
      await this.d.cancelJob(ctx, workspace, j, why).catch((e) => {
        if (!isSlipwayError(e) || e.code !== 'conflict') throw e; // it had just finished
      });
    }
    return this.run(ctx, workspace, p.name, id);
  }

  /** A run started by the platform (schedule, trigger) as the pipeline's applier; null if the tick was already taken. */
  async startAs(p: PipelineRow, cause: Cause, tick: number | null): Promise<RunRow | null> {
    const ctx = await principalCtx(this.d.access, p.principal_id, `pipeline-${p.name}-${cause.kind}`);
    const workspace = await this.d.jobs.workspaceName(p.workspace_id);
    const overlap = cause.kind === 'schedule' && (await this.store.hasActiveRun(p.id));
    return this.insertRun(ctx, p, workspace, runParams(JSON.parse(p.spec) as PipelineSpec), cause, tick, overlap);
  }

  private insertRun(ctx: Ctx, p: PipelineRow, workspace: string, params: Record<string, unknown>, cause: Cause, tick: number | null, skip = false): Promise<RunRow | null> {
    const spec = JSON.parse(p.spec) as PipelineSpec;
    const audit = { action: 'job.run' as const, workspace, target: `pipeline/${p.name}`, detail: { op: 'run', cause: cause.kind } };
    return this.d.authz.mutate(ctx, audit, async (tx) => {
      const now = Date.now();
      return this.store.insertRun(
        tx,
        {
          workspace_id: p.workspace_id,
          pipeline_id: p.id,
          spec: p.spec,
          params: JSON.stringify(params),
          // A tick while the previous run is still going is recorded, not run: schedules never overlap.
          state: skip ? 'skipped' : 'running',
          error: skip ? 'the previous run was still running' : '',
          cause_kind: cause.kind,
          cause: JSON.stringify(cause),
          schedule_tick: tick,
          principal_id: ctx.principal.id,
          created_by: ctx.principal.name,
          advancing_until: null,
          created_at: now,
          finished_at: skip ? now : null,
        },
        skip ? [] : spec.steps.map((s, i) => ({ name: s.name, position: i, uses: s.uses, state: 'pending' as const, job_id: null, cache_key: null, started_at: null, finished_at: null })),
      );
    });
  }

  /** Runs of pipelines triggered by a new version of a model (not by a version their own steps made). */
  async onModelRegistered(workspace: string, model: string, version: number, runId: string): Promise<void> {
    await this.trigger(workspace, (t) => 'modelRegistered' in t && t.modelRegistered === model, { kind: 'model', model, version }, runId);
  }

  async onDatasetVersion(workspace: string, dataset: string, version: number, source: string | undefined): Promise<void> {
    await this.trigger(workspace, (t) => 'datasetVersion' in t && t.datasetVersion === dataset, { kind: 'dataset', dataset, version }, source?.startsWith('runs:/') ? source.slice(6) : '');
  }

  private async trigger(workspace: string, match: (t: PipelineSpec['triggers'][number]) => boolean, cause: Cause, producerRun: string): Promise<void> {
    const ws = await this.d.access.store.workspace(workspace);
    if (!ws) return;
    for (const p of await this.store.list(Number(ws.id))) {
      if (!(JSON.parse(p.spec) as PipelineSpec).triggers.some(match)) continue;
      if (producerRun && (await this.store.producedBy(p.id, producerRun))) continue;
      try {
        const r = await this.startAs(p, cause, null);
        if (r) void this.engine.advance(r.id).catch(() => undefined);
      } catch (e) {
        this.d.log(`pipeline ${p.name}: trigger ${cause.kind} not started: ${(e as Error).message}`);
      }
    }
  }

  private async require(wsId: number, name: string, db: Db = this.d.db): Promise<PipelineRow> {
    const p = await this.store.get(wsId, name, db);
    if (!p) throw new NotFound('pipeline', name);
    return p;
  }
}

