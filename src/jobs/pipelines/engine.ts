import type { Access } from '../../access/service.js';
import type { Authorizer } from '../../access/authorizer.js';
import type { Ctx } from '../../access/principal.js';
import { Invalid, isSlipwayError } from '../../shared/errors.js';
import type { Tracking } from '../../tracking/service.js';
import type { JobsConfig } from '../config.js';
import type { IoDeps } from '../io.js';
import { Value } from '@sinclair/typebox/value';
import { JobCreate } from '../schema.js';
import { jobExperiment, queuedJobRow } from '../queued.js';
import { checkJob, type JobSpec } from '../spec.js';
import type { JobStore } from '../store.js';
import { readResult, type StepJobSpec } from '../steps/index.js';
import { pinInputs } from './resolve.js';
import { substitute, type PipelineSpec, type StepSpec } from './spec.js';
import type { PipelineStore } from './store.js';
import type { JobRow } from '../tables.js';
import type { RunRow, StepRow } from './tables.js';

export interface EngineDeps extends IoDeps {
  store: PipelineStore;
  jobs: JobStore;
  access: Access;
  authz: Authorizer;
  tracking: Tracking;
  config: JobsConfig;
  log: (msg: string) => void;
  cancelJob: (ctx: Ctx, workspace: string, id: number, reason: string) => Promise<unknown>;
}

const DONE = new Set(['succeeded', 'cached']);
const ACTIVE = new Set(['queued', 'running']);
/** How long one advance may hold a run before another scheduler may take it. */
const HOLD_MS = 60_000;

/** A command step's `with` is a job definition: checked against the job schema, naming the step's field. */
function checkCommandStep(step: string, given: Record<string, unknown>): void {
  const error = Value.Errors(JobCreate, given).First();
  if (error) throw Invalid.field(`steps.${step}.with${error.path.replaceAll('/', '.')}`, error.message.toLowerCase());
}

/** A principal as a service call context: a run acts with the rights of whoever started (or applied) it. */
export async function principalCtx(access: Access, principalId: number, requestId: string): Promise<Ctx> {
  const p = await access.store.principalById(principalId);
  if (!p || p.kind === 'group') throw new Error(`principal ${principalId} no longer exists`);
  return { principal: { id: Number(p.id), name: p.name, kind: p.kind, isAdmin: p.is_admin, groupIds: await access.store.groupIdsOf(Number(p.id)) }, requestId };
}

/**
 * Moves pipeline runs forward. Everything is in the store: a step whose
 * needs are done is pinned (inputs resolved to versions and digested), then
 * either taken from the cache (`cached`, outputs reused) or queued as a job;
 * a finished job's outcome and outputs are copied back. Any scheduler may
 * advance any run; `claimRun` keeps two from advancing one at once.
 */
export class PipelineEngine {
  constructor(private readonly d: EngineDeps) {}

  async advance(runId: number): Promise<void> {
    const { store } = this.d;
    if (!(await store.claimRun(runId, Date.now(), HOLD_MS))) return;
    try {
      const run = await store.run(runId);
      if (run?.state === 'running') await this.step(run);
    } finally {
      await store.releaseRun(runId);
    }
  }

  private async step(run: RunRow): Promise<void> {
    const { store } = this.d;
    const spec = JSON.parse(run.spec) as PipelineSpec;
    const params = JSON.parse(run.params) as Record<string, unknown>;
    let ctx: Ctx | undefined;
    for (let progressed = true; progressed; ) {
      progressed = false;
      const rows = await store.steps(run.id);
      for (const r of rows.filter((x) => ACTIVE.has(x.state))) progressed = (await this.collect(run, r)) || progressed;
      const steps = await store.steps(run.id);
      const byName = new Map(steps.map((x) => [x.name, x]));
      if (steps.some((x) => x.state === 'failed')) {
        for (const x of steps.filter((s) => s.state === 'pending')) await store.updateStep(run.id, x.name, { state: 'skipped', finished_at: Date.now() });
        if (!steps.some((x) => ACTIVE.has(x.state))) {
          const failed = steps.find((x) => x.state === 'failed')!;
          await store.finishRun(run.id, { state: 'failed', error: `step ${failed.name} failed: ${failed.error}`, finished_at: Date.now() });
        }
        return;
      }
      if (steps.every((x) => DONE.has(x.state))) {
        await store.finishRun(run.id, { state: 'succeeded', finished_at: Date.now() });
        return;
      }
      for (const s of spec.steps) {
        const row = byName.get(s.name)!;
        if (row.state !== 'pending' || !s.needs.every((n) => DONE.has(byName.get(n)!.state))) continue;
        try {
          ctx ??= await principalCtx(this.d.access, run.principal_id, `pipeline-run-${run.id}`);
        } catch (e) {
          // Whoever started (or applied) it is gone: nothing more can run on their behalf.
          await store.finishRun(run.id, { state: 'failed', error: (e as Error).message, finished_at: Date.now() });
          return;
        }
        const outputs = Object.fromEntries(steps.filter((x) => DONE.has(x.state)).map((x) => [x.name, JSON.parse(x.outputs) as Record<string, unknown>]));
        await this.start(ctx, run, spec, s, params, outputs);
        progressed = true;
      }
    }
  }

  /** A queued or running step's job, read back; true when the step changed state. */
  private async collect(run: RunRow, r: StepRow): Promise<boolean> {
    const job = r.job_id === null ? null : await this.d.jobs.byId(r.job_id);
    const now = Date.now();
    if (!job) {
      await this.d.store.updateStep(run.id, r.name, { state: 'failed', error: 'its job was deleted', finished_at: now });
      return true;
    }
    if (job.state === 'running' && r.state === 'queued') {
      await this.d.store.updateStep(run.id, r.name, { state: 'running', started_at: job.started_at ?? now });
      return false;
    }
    if (job.state === 'succeeded') {
      const result = job.kind === 'command' ? await this.commandOutputs(run, job) : await readResult(this.d.store.db, job.id);
      const outputs = JSON.stringify({ ...(result ?? {}), ...(job.run_id ? { runId: job.run_id } : {}), jobId: job.id });
      if (r.cache_key) await this.d.store.remember(run.workspace_id, r.cache_key, outputs, job.id, now);
      await this.d.store.updateStep(run.id, r.name, { state: 'succeeded', outputs, started_at: r.started_at ?? job.started_at, finished_at: job.finished_at ?? now });
      return true;
    }
    if (job.state === 'failed' || job.state === 'cancelled') {
      await this.d.store.updateStep(run.id, r.name, { state: 'failed', error: job.error || `job ${job.id} ${job.state}${job.exit_code !== null ? ` with exit code ${job.exit_code}` : ''}`, finished_at: job.finished_at ?? now });
      return true;
    }
    return false;
  }

  /** A command job's declared model outputs as the versions it registered (found by the job's run), so later steps can name them. */
  private async commandOutputs(run: RunRow, job: JobRow): Promise<Record<string, string>> {
    const spec = JSON.parse(job.spec) as JobSpec;
    const models = Object.entries(spec.outputs).filter(([, o]) => o.model);
    if (!models.length || !job.run_id) return {};
    const ctx = await principalCtx(this.d.access, run.principal_id, `pipeline-run-${run.id}`);
    const workspace = await this.d.jobs.workspaceName(run.workspace_id);
    const out: Record<string, string> = {};
    for (const [name, o] of models) {
      const mine = (await this.d.registry.reads.list(ctx, workspace, o.model!)).filter((v) => v.runId === job.run_id);
      if (mine.length) out[name] = `models:/${o.model}/${Math.max(...mine.map((v) => v.version))}`;
    }
    return out;
  }

  /** Pins a ready step's inputs; reuses a cached result or queues its job. A step that cannot start fails, naming why. */
  private async start(ctx: Ctx, run: RunRow, spec: PipelineSpec, s: StepSpec, params: Record<string, unknown>, outputs: Record<string, Record<string, unknown>>): Promise<void> {
    const { store } = this.d;
    const workspace = await this.d.jobs.workspaceName(run.workspace_id);
    const now = Date.now();
    try {
      const given = substitute(s.with, { params, steps: outputs }, s.name) as Record<string, unknown>;
      const pinned = await pinInputs(this.d, ctx, workspace, s.uses, given);
      const useCache = given.cache !== false;
      const hit = useCache ? await store.cached(run.workspace_id, pinned.key) : null;
      if (hit !== null && (await this.stillThere(ctx, workspace, hit))) {
        await store.updateStep(run.id, s.name, { state: 'cached', cache_key: pinned.key, outputs: hit, started_at: now, finished_at: now });
        return;
      }
      // A run cancelled while this advance was under way starts nothing more.
      if ((await store.run(run.id))?.state !== 'running') return;
      const jobId = await this.submit(ctx, workspace, run, spec, s, pinned.with);
      // A cancel that committed between the check above and here has skipped this step: its job must not run untracked.
      if (!(await store.updateStep(run.id, s.name, { state: 'queued', job_id: jobId, cache_key: useCache ? pinned.key : null }, undefined, 'pending'))) {
        await this.d.cancelJob(ctx, workspace, jobId, `pipeline run ${run.id} was cancelled`).catch(() => undefined);
      }
    } catch (e) {
      const msg = isSlipwayError(e) ? e.message : (e as Error).message;
      await store.updateStep(run.id, s.name, { state: 'failed', error: msg, finished_at: now });
    }
  }

  /** Whether the versions a cached result names still exist (one deleted since must be made again). */
  private async stillThere(ctx: Ctx, workspace: string, outputs: string): Promise<boolean> {
    const refs = Object.values(JSON.parse(outputs) as Record<string, unknown>).filter((v) => typeof v === 'string' && (v.startsWith('models:/') || v.startsWith('datasets:/')));
    try {
      await pinInputs(this.d, ctx, workspace, 'check', { refs });
      return true;
    } catch (e) {
      if (isSlipwayError(e) && e.code === 'not_found') return false;
      throw e;
    }
  }

  /** Queues the step as a job with its own tracking run, audited as job.run on behalf of the run's principal. */
  private async submit(ctx: Ctx, workspace: string, run: RunRow, spec: PipelineSpec, s: StepSpec, given: Record<string, unknown>): Promise<number> {
    const { tracking, jobs, authz, config } = this.d;
    const experiment = `pipeline/${spec.name}`;
    const { cache: _cache, ...rest } = given;
    if (s.uses === 'command') checkCommandStep(s.name, rest);
    const checked =
      s.uses === 'command'
        ? checkJob({ ...(rest as unknown as JobCreate), name: `${spec.name}/${s.name}`, experiment }, config.classes)
        : { name: `${spec.name}/${s.name}`, spec: { command: ['slipway-step', s.uses], env: {}, secretEnv: {}, experiment, inputs: {}, outputs: {}, step: { uses: s.uses, with: rest } } as JobSpec & StepJobSpec, priority: 0, maxRetries: 0, timeoutMs: null, resourceClass: 'small' };
    const experimentId = await jobExperiment(tracking, ctx, workspace, experiment);
    const tags = [
      { key: 'slipway.job.kind', value: s.uses },
      { key: 'slipway.pipeline', value: spec.name },
      { key: 'slipway.pipeline.run', value: String(run.id) },
      { key: 'slipway.pipeline.step', value: s.name },
    ];
    const tr = await tracking.runs.create(ctx, workspace, { experimentId, runName: checked.name, tags });
    await tracking.runs.update(ctx, workspace, tr.info.runId, { status: 'SCHEDULED' });
    const audit = { action: 'job.run' as const, workspace, target: `pipeline/${spec.name}`, detail: { op: 'step', run: run.id, step: s.name, uses: s.uses } };
    return authz.mutate(ctx, audit, async (tx, ws) => {
      const row = await jobs.insert(tx, queuedJobRow({ ...checked, kind: s.uses }, { workspaceId: Number(ws!.id), experimentId, runId: tr.info.runId, ctx, now: Date.now() }));
      return row.id;
    });
  }
}
