import type { Authorizer } from '../access/authorizer.js';
import type { Ctx } from '../access/principal.js';
import type { DatasetService } from '../datasets/service.js';
import { parseDatasetUri } from '../datasets/names.js';
import type { JobsConfig } from '../jobs/config.js';
import type { ModelResolver, PinnedModel } from '../serving/deployments.model.js';
import type { Registry } from '../registry/registry.js';
import type { Signature } from '../registry/onnx.js';
import { joinKey } from '../artifacts/index.js';
import { Conflict, Forbidden, Invalid, NotFound } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import { checkEndpointName, checkEndpointSpec, runSettings } from './rules.js';
import type { BatchEndpointPut, RunCreate } from './schema.js';
import { BatchStore } from './store.js';
import type { BatchEndpointRow, BatchRunRow } from './tables.js';
import { endpointView, runView, type BatchEndpointView, type BatchRunView } from './views.js';

export interface BatchServiceDeps {
  db: Db;
  authz: Authorizer;
  datasets: DatasetService;
  models: ModelResolver;
  /** For the pinned version's recorded signature (features checked against it). */
  registry: Registry;
  config: JobsConfig;
  now?: () => number;
}

const ACTIVE = ['queued', 'running', 'finalizing'];

/**
 * Batch endpoints and their runs as people drive them. Defining an endpoint
 * needs endpoint.deploy; starting and cancelling runs job.run (and
 * dataset.write for the output); reads workspace.read. Changes are audited
 * with the change. The work itself is done by BatchScorer on the workers.
 */
export class BatchService {
  readonly store: BatchStore;

  constructor(private readonly deps: BatchServiceDeps) {
    this.store = new BatchStore(deps.db);
  }

  private now() {
    return (this.deps.now ?? Date.now)();
  }

  /** Creates or replaces an endpoint's spec; the model reference must resolve now (runs resolve it again when they start). */
  async put(ctx: Ctx, workspace: string, name: string, input: BatchEndpointPut): Promise<BatchEndpointView> {
    checkEndpointName(name);
    const spec = checkEndpointSpec(input, this.deps.config.classes);
    return this.deps.authz.mutate(ctx, { action: 'endpoint.deploy', workspace, target: `batch-endpoint/${name}`, detail: { op: 'put', model: spec.model } }, async (tx, ws) => {
      await this.pin(tx, Number(ws!.id), spec.model);
      const now = this.now();
      const cur = await this.store.endpoint(Number(ws!.id), name, tx, true);
      if (cur) await this.store.updateEndpoint(tx, cur.id, { spec: JSON.stringify(spec), updated_at: now });
      else await this.store.insertEndpoint(tx, { workspace_id: Number(ws!.id), name, spec: JSON.stringify(spec), created_by: ctx.principal.name, created_at: now, updated_at: now });
      return endpointView((await this.store.endpoint(Number(ws!.id), name, tx))!, ws!.name);
    });
  }

  /** Checks that a model reference resolves to a version with an ONNX graph (apply plans, before anything is written). */
  async checkModel(ctx: Ctx, workspace: string, ref: string): Promise<void> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    await this.pin(this.deps.db, Number(ws.id), ref);
  }

  async list(ctx: Ctx, workspace: string): Promise<BatchEndpointView[]> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const latest = new Map((await this.store.latestRuns(Number(ws.id))).map((r) => [r.endpoint_id, r]));
    return (await this.store.endpoints(Number(ws.id))).map((e) => {
      const r = latest.get(e.id);
      return endpointView(e, ws.name, r ? runView(r, ws.name) : undefined);
    });
  }

  async get(ctx: Ctx, workspace: string, name: string): Promise<BatchEndpointView> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    return endpointView(await this.require(this.deps.db, Number(ws.id), name), ws.name);
  }

  /** Deletes an endpoint and its run history; refused while a run is active. */
  async delete(ctx: Ctx, workspace: string, name: string): Promise<void> {
    await this.deps.authz.mutate(ctx, { action: 'endpoint.deploy', workspace, target: `batch-endpoint/${name}`, detail: { op: 'delete' } }, async (tx, ws) => {
      const e = await this.require(tx, Number(ws!.id), name, true);
      const active = await this.store.activeRuns(e.id, tx);
      if (active.length) throw new Conflict(`batch endpoint '${name}' has active runs (${active.map((r) => r.id).join(', ')}); cancel them first`);
      await this.store.deleteEndpoint(tx, e.id);
    });
  }

  /**
   * Starts a run: the input version and the model are pinned now (an alias
   * moving later changes nothing), then workers plan, score and write it.
   * `jobId` links a pipeline step's run to its job, so a retried attempt finds it;
   * `model` (a step's pinned `with.model`) replaces the endpoint's reference.
   */
  async startRun(ctx: Ctx, workspace: string, name: string, input: RunCreate, opts: { jobId?: number; model?: string } = {}): Promise<BatchRunView> {
    const audit = { action: 'job.run' as const, workspace, target: `batch-endpoint/${name}`, detail: { op: 'run', input: input.input } };
    if (!(await this.deps.authz.can(ctx.principal, 'job.run', workspace))) return this.deps.authz.mutate(ctx, audit, async () => undefined as never);
    const ws = await this.deps.authz.workspace(workspace);
    const e = await this.require(this.deps.db, Number(ws.id), name);
    const spec = JSON.parse(e.spec) as BatchEndpointPut;
    const s = runSettings(name, spec, input, this.deps.config.classes);
    const ref = parseDatasetUri(input.input, 'input');
    const data = await this.deps.datasets.datasetVersion(workspace, ref.name, ref.version);
    const columns = data.meta.schema.columns.map((c) => c.name);
    const missing = (s.features ?? []).filter((f) => !columns.includes(f));
    if (missing.length) throw Invalid.field('features', `columns of ${data.meta.uri} (${columns.join(', ')}); ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not`);
    if (!(await this.deps.authz.can(ctx.principal, 'dataset.write', workspace))) throw new Forbidden(`writing the output dataset '${s.output}' needs 'dataset.write' in workspace '${workspace}'`, 'dataset.write');
    return this.deps.authz.mutate(ctx, audit, async (tx, w) => {
      const model = await this.pin(tx, Number(w!.id), opts.model ?? spec.model);
      await this.checkFeatures(tx, model, s.features ?? columns);
      const now = this.now();
      const row = await this.store.insertRun(tx, {
        workspace_id: Number(w!.id),
        endpoint_id: e.id,
        endpoint: name,
        principal_id: ctx.principal.id,
        created_by: ctx.principal.name,
        job_id: opts.jobId ?? null,
        model_ref: opts.model ?? spec.model,
        model_name: model.name,
        model_version: model.version,
        model_digest: model.digest,
        model_key: joinKey(model.storagePrefix, model.file),
        input_uri: data.meta.uri,
        input_dataset: data.meta.dataset,
        input_version: data.meta.version,
        input_format: data.meta.format,
        features: s.features ? JSON.stringify(s.features) : null,
        output_dataset: s.output,
        output_version: null,
        mini_batch_rows: s.miniBatchRows,
        parallelism: s.parallelism,
        max_failed_rows: s.errorThreshold.rows ?? null,
        max_failed_fraction: s.errorThreshold.fraction ?? null,
        resource_class: s.resources,
        state: 'queued',
        lease_owner: null,
        lease_expires_at: null,
        columns: null,
        prediction_columns: null,
        total_rows: null,
        batches_total: null,
        created_at: now,
        started_at: null,
        finished_at: null,
        updated_at: now,
      });
      return runView(row, w!.name);
    });
  }

  async runs(ctx: Ctx, workspace: string, name: string, limit = 50): Promise<BatchRunView[]> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const e = await this.require(this.deps.db, Number(ws.id), name);
    return this.views(await this.store.runs(e.id, limit), ws.name);
  }

  async run(ctx: Ctx, workspace: string, name: string, id: number): Promise<BatchRunView> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const e = await this.require(this.deps.db, Number(ws.id), name);
    const r = await this.store.run(e.id, id);
    if (!r) throw new NotFound(`run ${id} of batch endpoint`, name);
    return (await this.views([r], ws.name))[0];
  }

  /** Stops a run: no mini-batch is claimed after this; ones being scored finish and are dropped. */
  async cancel(ctx: Ctx, workspace: string, name: string, id: number): Promise<BatchRunView> {
    return this.deps.authz.mutate(ctx, { action: 'job.run', workspace, target: `batch-endpoint/${name}/runs/${id}`, detail: { op: 'cancel' } }, async (tx, ws) => {
      const e = await this.require(tx, Number(ws!.id), name);
      const r = await this.store.run(e.id, id, tx, true);
      if (!r) throw new NotFound(`run ${id} of batch endpoint`, name);
      if (!ACTIVE.includes(r.state)) throw new Conflict(`run ${id} is already ${r.state}`);
      const now = this.now();
      await this.store.updateRun(tx, id, { state: 'cancelled', error: `cancelled by ${ctx.principal.name}`, lease_owner: null, lease_expires_at: null, finished_at: now, updated_at: now });
      await this.store.clearWork(tx, id);
      return runView((await this.store.run(e.id, id, tx))!, ws!.name);
    });
  }

  /** The run a pipeline step job started, if it did (read without authorization: the step runs as its submitter already). */
  async runOfJob(jobId: number): Promise<BatchRunView | null> {
    const r = await this.store.runOfJob(jobId);
    return r ? (await this.views([r], await this.store.workspaceName(r.workspace_id)))[0] : null;
  }

  private async views(rows: BatchRunRow[], workspace: string): Promise<BatchRunView[]> {
    const now = this.now();
    const running = await this.store.inFlight(rows.filter((r) => r.state === 'running').map((r) => r.id), now);
    return rows.map((r) => runView(r, workspace, running.get(r.id) ?? 0, now));
  }

  private async pin(tx: Db, workspaceId: number, ref: string) {
    const model = await this.deps.models.resolve(tx, workspaceId, ref, 'model');
    if (!model.file) throw Invalid.field('model', `a model version with an ONNX graph; models:/${model.name}/${model.version} has none`);
    return model;
  }

  /** A model of one [N, F] input with a fixed F takes exactly F feature columns: refused now rather than failing every row later. */
  private async checkFeatures(db: Db, model: PinnedModel, features: string[]): Promise<void> {
    const row = await this.deps.registry.models.store.version(db, model.modelId, model.version);
    const sig = row?.signature ? (JSON.parse(row.signature) as Signature) : null;
    const only = sig?.inputs.length === 1 ? sig.inputs[0] : undefined;
    const width = only?.shape.length === 2 ? only.shape[1] : undefined;
    if (typeof width !== 'number' || width === features.length) return;
    throw Invalid.field('features', `${width} columns for models:/${model.name}/${model.version} (input '${only!.name}' is [N, ${width}]); ${features.length} given (${features.join(', ')})`);
  }

  private async require(db: Db, wsId: number, name: string, lock = false): Promise<BatchEndpointRow> {
    const e = await this.store.endpoint(wsId, name, db, lock);
    if (!e) throw new NotFound('batch endpoint', name);
    return e;
  }
}
