import type { Authorizer } from '../access/authorizer.js';
import type { Ctx } from '../access/principal.js';
import type { ArtifactStore } from '../artifacts/index.js';
import { Invalid, SlipwayError } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import { decodePageToken, encodePageToken, parseFilter, parseOrderBy } from './filter.js';
import { VersionStorage } from './storage.js';
import { RegistryStore, type KV } from './store.js';
import { checkModelName, checkTag, modelNotFound, modelViews, requireModel, type ModelView } from './views.js';

/** A deployment serving a model version, as the serving domain reports it. */
export interface ServedVersion {
  endpoint: string;
  deployment: string;
  version: number;
}

/**
 * Deployments pinning versions of a registered model (by id), all versions or one.
 * The composition root wires it to serving; the registry never imports serving.
 */
export type ServedBy = (modelId: number, version?: number, db?: Db) => Promise<ServedVersion[]>;

export interface RegistryDeps {
  db: Db;
  authz: Authorizer;
  artifacts: ArtifactStore;
  /** Absent: nothing is served (a registry without serving, in tests). */
  servedBy?: ServedBy;
  /** Told of each version that turned READY (pipeline triggers); it must not throw. */
  onVersionReady?: (workspace: string, name: string, version: number, runId: string) => void;
}

/**
 * Refuses deleting what a deployment serves. MLflow clients see
 * RESOURCE_CONFLICT with 409, MLflow's own pair (its INVALID_STATE maps to a
 * 500, and a client's conflict is no server error).
 */
export async function refuseIfServed(deps: RegistryDeps, tx: Db, what: string, modelId: number, version?: number): Promise<void> {
  const users = deps.servedBy ? await deps.servedBy(modelId, version, tx) : [];
  if (!users.length) return;
  const list = users.map((u) => `endpoint '${u.endpoint}' deployment '${u.deployment}' (version ${u.version})`).join(', ');
  throw new SlipwayError('conflict', `${what} is served by ${list}: delete those deployments or point them at another version first`, {
    mlflowCode: 'RESOURCE_CONFLICT',
    mlflowStatus: 409,
    servedBy: users,
  });
}

export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

const alreadyExists = (name: string) =>
  new SlipwayError('conflict', `Registered Model (name=${name}) already exists.`);

/** Registered models: create, read, rename, describe, tag, delete. */
export class ModelService {
  readonly store: RegistryStore;
  readonly storage: VersionStorage;

  constructor(private readonly deps: RegistryDeps) {
    this.store = new RegistryStore(deps.db);
    this.storage = new VersionStorage(deps.artifacts);
  }

  async create(ctx: Ctx, workspace: string, input: { name: string; description?: string; tags?: KV[] }): Promise<ModelView> {
    const name = checkModelName(input.name);
    const tags = (input.tags ?? []).map((t) => checkTag(t.key, t.value, 'tags.key'));
    return this.deps.authz.mutate(ctx, { action: 'model.register', workspace, target: `model/${name}` }, async (tx, ws) => {
      const m = await this.store.insertModel(tx, { workspaceId: Number(ws!.id), name, description: input.description ?? '', createdBy: ctx.principal.name, now: Date.now() });
      if (!m) throw alreadyExists(name);
      for (const t of tags) await this.store.setModelTag(tx, Number(m.id), t.key, t.value);
      return (await modelViews(this.store, tx, [m]))[0];
    });
  }

  async get(ctx: Ctx, workspace: string, name: string): Promise<ModelView> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const m = await requireModel(this.store, this.deps.db, Number(ws.id), name);
    return (await modelViews(this.store, this.deps.db, [m]))[0];
  }

  async update(ctx: Ctx, workspace: string, name: string, description: string | undefined): Promise<ModelView> {
    return this.deps.authz.mutate(ctx, { action: 'model.register', workspace, target: `model/${name}`, detail: { op: 'update' } }, async (tx, ws) => {
      const m = await requireModel(this.store, tx, Number(ws!.id), name, true);
      if (description !== undefined) await this.store.updateModel(tx, Number(m.id), { description, updated_at: Date.now() });
      return (await modelViews(this.store, tx, [(await this.store.modelById(Number(m.id), tx))!]))[0];
    });
  }

  async rename(ctx: Ctx, workspace: string, name: string, newName: string): Promise<ModelView> {
    const to = checkModelName(newName, 'new_name');
    return this.deps.authz.mutate(ctx, { action: 'model.register', workspace, target: `model/${name}`, detail: { op: 'rename', to } }, async (tx, ws) => {
      const m = await requireModel(this.store, tx, Number(ws!.id), name, true);
      if (to !== name && (await this.store.model(Number(ws!.id), to, tx))) throw alreadyExists(to);
      await this.store.updateModel(tx, Number(m.id), { name: to, updated_at: Date.now() });
      return (await modelViews(this.store, tx, [(await this.store.modelById(Number(m.id), tx))!]))[0];
    });
  }

  /** Deletes the model, its versions and their stored files (owner only). */
  async delete(ctx: Ctx, workspace: string, name: string): Promise<void> {
    const prefixes = await this.deps.authz.mutate(ctx, { action: 'model.delete', workspace, target: `model/${name}` }, async (tx, ws) => {
      const m = await requireModel(this.store, tx, Number(ws!.id), name, true);
      await refuseIfServed(this.deps, tx, `registered model '${name}'`, Number(m.id));
      const versions = await this.store.versionsOf(tx, [Number(m.id)]);
      await this.store.deleteModel(tx, Number(m.id));
      return versions.map((v) => v.storage_prefix).filter(Boolean);
    });
    // Files go after the rows: a crash in between leaves unreachable files, never a version without files.
    for (const p of prefixes) await this.storage.remove(p);
  }

  async search(ctx: Ctx, workspace: string, q: { filter?: string; maxResults?: number; orderBy?: string[]; pageToken?: string }): Promise<Page<ModelView>> {
    const max = q.maxResults ?? 100;
    if (!Number.isInteger(max) || max < 1 || max > 1000) throw Invalid.field('max_results', 'must be an integer between 1 and 1000');
    const conds = parseFilter(q.filter, { keys: ['name'] });
    const order = parseOrderBy(q.orderBy, { name: 'name', timestamp: 'updated_at', last_updated_timestamp: 'updated_at', creation_timestamp: 'created_at' });
    const offset = decodePageToken(q.pageToken);
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const rows = await this.store.searchModels(Number(ws.id), conds, order, offset, max + 1);
    const items = await modelViews(this.store, this.deps.db, rows.slice(0, max));
    return { items, nextPageToken: rows.length > max ? encodePageToken(offset + max) : undefined };
  }

  async setTag(ctx: Ctx, workspace: string, name: string, key: string, value: string): Promise<void> {
    const tag = checkTag(key, value);
    await this.deps.authz.mutate(ctx, { action: 'model.register', workspace, target: `model/${name}`, detail: { op: 'set-tag', key } }, async (tx, ws) => {
      const m = await requireModel(this.store, tx, Number(ws!.id), name);
      await this.store.setModelTag(tx, Number(m.id), tag.key, tag.value);
    });
  }

  async deleteTag(ctx: Ctx, workspace: string, name: string, key: string): Promise<void> {
    if (typeof key !== 'string' || !key) throw Invalid.field('key', 'is required (a tag key)');
    await this.deps.authz.mutate(ctx, { action: 'model.register', workspace, target: `model/${name}`, detail: { op: 'delete-tag', key } }, async (tx, ws) => {
      const m = await requireModel(this.store, tx, Number(ws!.id), name);
      if (!(await this.store.deleteModelTag(tx, Number(m.id), key))) throw new SlipwayError('not_found', `No tag with name: ${key} in model ${name}`);
    });
  }

  /** For `models:/name/...` lookups in other services; null when absent. */
  async exists(workspaceId: number, name: string): Promise<boolean> {
    return (await this.store.model(workspaceId, name)) !== null;
  }
}

export { modelNotFound };
