import { randomUUID } from 'node:crypto';
import type { Authorizer } from '../access/authorizer.js';
import type { Ctx } from '../access/principal.js';
import { Invalid, NotFound } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import { experimentArtifactLocation } from '../tracking/artifacts.js';
import { decodePageToken, encodePageToken, parseFilter } from './filter.js';
import { LoggedModelStore, type LoggedRow } from './logged-models.store.js';
import type { Page } from './service.js';
import type { KV } from './store.js';
import { checkTag } from './views.js';

export const LOGGED_MODEL_STATUSES = ['LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED'] as const;

export interface LoggedModel {
  modelId: string;
  experimentId: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  artifactUri: string;
  status: string;
  statusMessage: string;
  modelType: string;
  sourceRunId: string;
  tags: KV[];
  params: KV[];
}

export interface LoggedModelDeps {
  db: Db;
  authz: Authorizer;
  experimentExists(ctx: Ctx, workspace: string, experimentId: string): Promise<boolean>;
}

/**
 * MLflow 3 logged models: a model logged by a run, with its own artifact
 * location (`mlflow-artifacts:/<exp>/models/<id>/artifacts`) that clients
 * upload to through the proxy, then mark READY. Registering one copies its
 * files into the registry like any other source.
 */
export class LoggedModelService {
  readonly store: LoggedModelStore;

  constructor(private readonly deps: LoggedModelDeps) {
    this.store = new LoggedModelStore(deps.db);
  }

  async create(ctx: Ctx, workspace: string, input: { experimentId?: string; name?: string; modelType?: string; sourceRunId?: string; params?: KV[]; tags?: KV[] }): Promise<LoggedModel> {
    const exp = input.experimentId;
    if (!exp || !/^\d{1,18}$/.test(exp)) throw Invalid.field('experiment_id', 'is required (an experiment id)');
    const params = (input.params ?? []).map((p) => checkTag(p.key, p.value, 'params.key'));
    const tags = (input.tags ?? []).map((t) => checkTag(t.key, t.value, 'tags.key'));
    if (!(await this.deps.experimentExists(ctx, workspace, exp))) throw new NotFound('experiment', exp);
    const id = `m-${randomUUID().replace(/-/g, '')}`;
    const now = Date.now();
    const row: LoggedRow = {
      id,
      workspace_id: 0,
      experiment_id: exp,
      name: input.name || id,
      model_type: input.modelType ?? '',
      source_run_id: input.sourceRunId ?? '',
      status: 'LOGGED_MODEL_PENDING',
      status_message: '',
      artifact_uri: `${experimentArtifactLocation(workspace, exp)}/models/${id}/artifacts`,
      created_at: now,
      updated_at: now,
    };
    await this.deps.authz.mutate(ctx, { action: 'tracking.write', workspace, target: `logged-model/${id}` }, async (tx, ws) => {
      await this.store.insert(tx, { ...row, workspace_id: Number(ws!.id) }, params, tags);
    });
    return this.get(ctx, workspace, id);
  }

  async get(ctx: Ctx, workspace: string, id: string): Promise<LoggedModel> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const row = await this.store.get(Number(ws.id), id);
    if (!row) throw new NotFound('logged model', id);
    return (await this.views([row]))[0];
  }

  /** For registry sources: the logged model's artifact URI and run, without a second authorization. */
  async lookup(workspaceId: number, id: string): Promise<LoggedRow | null> {
    return this.store.get(workspaceId, id);
  }

  async setTags(ctx: Ctx, workspace: string, id: string, tags: KV[]): Promise<void> {
    const checked = tags.map((t) => checkTag(t.key, t.value, 'tags.key'));
    await this.change(ctx, workspace, id, { op: 'set-tags' }, async (tx) => {
      for (const t of checked) await this.store.setTag(tx, id, t);
    });
  }

  async deleteTag(ctx: Ctx, workspace: string, id: string, key: string): Promise<void> {
    await this.change(ctx, workspace, id, { op: 'delete-tag', key }, async (tx) => {
      await this.store.deleteTag(tx, id, key);
    });
  }

  async finalize(ctx: Ctx, workspace: string, id: string, status: string | undefined): Promise<LoggedModel> {
    if (!status || !(LOGGED_MODEL_STATUSES as readonly string[]).includes(status)) throw Invalid.field('status', `must be one of ${LOGGED_MODEL_STATUSES.join(', ')}`);
    await this.change(ctx, workspace, id, { op: 'finalize', status }, (tx) => this.store.update(tx, id, { status, updated_at: Date.now() }));
    return this.get(ctx, workspace, id);
  }

  async delete(ctx: Ctx, workspace: string, id: string): Promise<void> {
    await this.change(ctx, workspace, id, { op: 'delete' }, (tx) => this.store.delete(tx, id));
  }

  async search(ctx: Ctx, workspace: string, q: { experimentIds: string[]; filter?: string; maxResults?: number; pageToken?: string; orderDesc?: boolean }): Promise<Page<LoggedModel>> {
    const max = q.maxResults ?? 100;
    if (!Number.isInteger(max) || max < 1 || max > 1000) throw Invalid.field('max_results', 'must be an integer between 1 and 1000');
    const conds = parseFilter(q.filter, { keys: ['name', 'status', 'model_type', 'source_run_id'] });
    const offset = decodePageToken(q.pageToken);
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const rows = await this.store.search(Number(ws.id), q.experimentIds, conds, q.orderDesc ?? true, offset, max + 1);
    return { items: await this.views(rows.slice(0, max)), nextPageToken: rows.length > max ? encodePageToken(offset + max) : undefined };
  }

  /** runs/outputs: records the logged models a run produced. */
  async logOutputs(ctx: Ctx, workspace: string, runId: string, outputs: Array<{ modelId: string; step: number }>): Promise<void> {
    if (!runId) throw Invalid.field('run_id', 'is required');
    await this.deps.authz.mutate(ctx, { action: 'tracking.write', workspace, target: `run/${runId}`, detail: { op: 'log-outputs' } }, async (tx, ws) => {
      for (const o of outputs) if (!(await this.store.get(Number(ws!.id), o.modelId, tx))) throw new NotFound('logged model', o.modelId);
      await this.store.addOutputs(tx, runId, outputs);
    });
  }

  private async change(ctx: Ctx, workspace: string, id: string, detail: Record<string, unknown>, fn: (tx: Db) => Promise<void>): Promise<void> {
    await this.deps.authz.mutate(ctx, { action: 'tracking.write', workspace, target: `logged-model/${id}`, detail }, async (tx, ws) => {
      if (!(await this.store.get(Number(ws!.id), id, tx))) throw new NotFound('logged model', id);
      await fn(tx);
      await this.store.update(tx, id, { updated_at: Date.now() });
    });
  }

  private async views(rows: LoggedRow[]): Promise<LoggedModel[]> {
    const { tags, params } = await this.store.tagsAndParams(rows.map((r) => r.id));
    return rows.map((r) => ({
      modelId: r.id,
      experimentId: r.experiment_id,
      name: r.name,
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
      artifactUri: r.artifact_uri,
      status: r.status,
      statusMessage: r.status_message,
      modelType: r.model_type,
      sourceRunId: r.source_run_id,
      tags: tags.get(r.id) ?? [],
      params: params.get(r.id) ?? [],
    }));
  }
}
