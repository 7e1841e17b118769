import type { Ctx } from '../access/principal.js';
import type { WorkspaceRow } from '../access/tables.js';
import { Conflict, Invalid, NotFound } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import { requireEndpoint, writeTraffic, type ServingDeps } from './endpoints.js';
import { checkBatching, checkInt, checkLabel } from './endpoints.rules.js';
import { deploymentView, type DeploymentView } from './endpoints.views.js';
import type { ModelResolver, PinnedModel } from './deployments.model.js';
import type { DeploymentCreate, DeploymentUpdate, TrafficMap } from './schema.js';
import type { DeploymentRow, DeploymentTable, EndpointRow } from './tables.js';

/**
 * maxConcurrent 32: an onnx worker runs one inference at a time anyway, but
 * requests handed to it together ride one cross-thread message, and each
 * wake-up of a sleeping worker cost ~18 µs on a 2-vCPU VM (bench:gateway).
 */
export const DEPLOYMENT_DEFAULTS = { runtime: 'onnx', instances: 1, maxConcurrent: 32, timeoutMs: 30_000 } as const;

type Settings = Pick<DeploymentTable, 'runtime' | 'command' | 'url' | 'instances' | 'max_concurrent' | 'timeout_ms' | 'batching'>;

/** Checks a deployment's runtime settings; `base` holds the current values on an update. */
function settings(input: Partial<DeploymentCreate>, base?: DeploymentRow): Settings {
  const runtime = input.runtime ?? base?.runtime ?? DEPLOYMENT_DEFAULTS.runtime;
  if (!['onnx', 'process', 'http'].includes(runtime)) throw Invalid.field('runtime', 'must be onnx, process or http');
  const command = input.command ?? (base?.command ? (JSON.parse(base.command) as string[]) : undefined);
  const url = input.url ?? base?.url ?? undefined;
  if (runtime === 'process' && (!Array.isArray(command) || !command.length || command.some((c) => typeof c !== 'string' || !c))) {
    throw Invalid.field('command', 'is required for runtime process: the model server argv, such as ["python", "serve.py"]');
  }
  if (runtime === 'http' && (typeof url !== 'string' || !/^https?:\/\/[^\s]+$/.test(url))) throw Invalid.field('url', 'is required for runtime http: an http:// or https:// base URL');
  const batching = input.batching === undefined ? (base?.batching ? JSON.parse(base.batching) : null) : input.batching;
  const b = checkBatching(batching);
  return {
    runtime,
    command: runtime === 'process' ? JSON.stringify(command) : null,
    url: runtime === 'http' ? (url as string) : null,
    instances: checkInt(input.instances, 'instances', 1, 64, base?.instances ?? DEPLOYMENT_DEFAULTS.instances),
    max_concurrent: checkInt(input.maxConcurrent, 'maxConcurrent', 1, 10_000, base?.max_concurrent ?? DEPLOYMENT_DEFAULTS.maxConcurrent),
    timeout_ms: checkInt(input.timeoutMs, 'timeoutMs', 1, 3_600_000, base?.timeout_ms ?? DEPLOYMENT_DEFAULTS.timeoutMs),
    batching: b && JSON.stringify(b),
  };
}

function pinned(m: PinnedModel) {
  return { model_ref: m.ref, model_id: m.modelId, model_name: m.name, model_version: m.version, model_digest: m.digest, storage_prefix: m.storagePrefix, model_file: m.file };
}

/** The onnx runtime needs a graph to load; a version without one can only back process or http runtimes. */
function checkRuntimeModel(runtime: string, m: PinnedModel) {
  if (runtime === 'onnx' && !m.file) throw Invalid.field('model', `model '${m.name}' version ${m.version} holds no .onnx file; use runtime process or http`);
}

/** Deployments of an endpoint: each serves one pinned model version with its runtime settings. */
export class DeploymentService {
  constructor(
    private readonly deps: ServingDeps,
    private readonly models: ModelResolver,
  ) {}

  async create(ctx: Ctx, workspace: string, endpoint: string, input: DeploymentCreate): Promise<DeploymentView> {
    const name = checkLabel(input.name, 'name');
    const s = settings(input);
    return this.mutate(ctx, workspace, endpoint, name, 'create', async (tx, e, ws) => {
      const m = await this.models.resolve(tx, Number(ws.id), input.model);
      checkRuntimeModel(s.runtime, m);
      const now = Date.now();
      const d = await this.deps.store.insertDeployment(tx, { endpoint_id: e.id, name, ...pinned(m), ...s, state: 'Pending', created_by: ctx.principal.name, created_at: now, updated_at: now });
      if (!d) throw new Conflict(`endpoint '${endpoint}' already has a deployment named '${name}'`);
      await this.touch(tx, e);
      return deploymentView(endpoint, d);
    });
  }

  /** Checks a would-be deployment without writing (apply plans): settings, and the model reference when `resolve`. */
  async preview(ctx: Ctx, workspace: string, input: DeploymentCreate, resolve: boolean): Promise<PinnedModel | null> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    checkLabel(input.name, 'name');
    const s = settings(input);
    if (!resolve) return null;
    const m = await this.models.resolve(this.deps.db, Number(ws.id), input.model);
    checkRuntimeModel(s.runtime, m);
    return m;
  }

  async list(ctx: Ctx, workspace: string, endpoint: string): Promise<DeploymentView[]> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const e = await requireEndpoint(this.deps.store, this.deps.db, Number(ws.id), endpoint);
    return (await this.deps.store.deployments([e.id])).map((d) => deploymentView(endpoint, d));
  }

  async get(ctx: Ctx, workspace: string, endpoint: string, name: string): Promise<DeploymentView> {
    const d = (await this.list(ctx, workspace, endpoint)).find((x) => x.name === name);
    if (!d) throw new NotFound('deployment', `${endpoint}/${name}`);
    return d;
  }

  /** Changes settings; a new model reference is resolved and pinned again, the same one is left alone. */
  async update(ctx: Ctx, workspace: string, endpoint: string, name: string, input: DeploymentUpdate): Promise<DeploymentView> {
    return this.mutate(ctx, workspace, endpoint, name, 'update', async (tx, e, ws) => {
      const cur = await this.require(tx, e, name);
      const s = settings(input, cur);
      const m = input.model !== undefined && input.model !== cur.model_ref ? await this.models.resolve(tx, Number(ws.id), input.model) : null;
      if (m) checkRuntimeModel(s.runtime, m);
      else if (s.runtime === 'onnx' && !cur.model_file) throw Invalid.field('runtime', `the pinned model '${cur.model_name}' version ${cur.model_version} holds no .onnx file`);
      await this.deps.store.updateDeployment(tx, cur.id, { ...s, ...(m ? pinned(m) : {}), updated_at: Date.now() });
      await this.touch(tx, e);
      return deploymentView(endpoint, await this.require(tx, e, name));
    });
  }

  /** Refused while the deployment takes live or mirrored traffic; a 0% entry is dropped from the maps (and the history). */
  async delete(ctx: Ctx, workspace: string, endpoint: string, name: string, reason = ''): Promise<void> {
    await this.mutate(ctx, workspace, endpoint, name, 'delete', (tx, e) => this.remove(tx, ctx, e, name, reason));
  }

  /** Server-internal (a rollout retiring its stable): deletes inside the caller's audited transaction. */
  async retire(tx: Db, ctx: Ctx, endpoint: string, name: string, reason: string): Promise<void> {
    const e = await this.deps.store.endpoint(endpoint, tx, true);
    if (!e) throw new NotFound('endpoint', endpoint);
    await this.remove(tx, ctx, e, name, reason);
  }

  private async remove(tx: Db, ctx: Ctx, e: EndpointRow, name: string, reason: string): Promise<void> {
    const endpoint = e.name;
    const d = await this.require(tx, e, name);
    const traffic = JSON.parse(e.traffic) as TrafficMap;
    const mirror = JSON.parse(e.mirror) as TrafficMap;
    if ((traffic[name] ?? 0) > 0 || (mirror[name] ?? 0) > 0) {
      throw new Conflict(`deployment '${name}' takes ${traffic[name] ?? 0}% of traffic and ${mirror[name] ?? 0}% mirror of endpoint '${endpoint}': move them to other deployments first`);
    }
    if (name in traffic || name in mirror) {
      delete traffic[name];
      delete mirror[name];
      await writeTraffic(this.deps, tx, ctx, e, { traffic, mirror, reason: reason || `deployment ${name} deleted` });
    }
    await this.deps.store.deleteDeployment(tx, d.id);
    await this.touch(tx, e);
  }

  /** Runtime state as the serving side reports it (Pending, Ready, Failed…); no authorization: server-internal. */
  async setState(endpoint: string, name: string, state: string): Promise<void> {
    const e = await this.deps.store.endpoint(endpoint);
    const d = e && (await this.deps.store.deployments([e.id])).find((x) => x.name === name);
    if (!d) throw new NotFound('deployment', `${endpoint}/${name}`);
    await this.deps.store.updateDeployment(this.deps.db, d.id, { state, updated_at: Date.now() });
  }

  private async require(tx: Db, e: EndpointRow, name: string): Promise<DeploymentRow> {
    const d = (await this.deps.store.deployments([e.id], tx)).find((x) => x.name === name);
    if (!d) throw new NotFound('deployment', `${e.name}/${name}`);
    return d;
  }

  /** The endpoint's generation and the server's serving version move with every deployment change. */
  private async touch(tx: Db, e: EndpointRow) {
    await this.deps.store.updateEndpoint(tx, e.id, { updated_at: Date.now() });
    await this.deps.store.bumpVersion(tx);
  }

  private mutate<T>(ctx: Ctx, workspace: string, endpoint: string, name: string, op: string, change: (tx: Db, e: EndpointRow, ws: WorkspaceRow) => Promise<T>): Promise<T> {
    return this.deps.authz.mutate(ctx, { action: 'endpoint.deploy', workspace, target: `endpoint/${endpoint}/deployment/${name}`, detail: { op } }, async (tx, ws) =>
      change(tx, await requireEndpoint(this.deps.store, tx, Number(ws!.id), endpoint, true), ws!),
    );
  }
}
