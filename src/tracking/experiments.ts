import type { Authorizer } from '../access/authorizer.js';
import type { Ctx } from '../access/principal.js';
import type { WorkspaceRow } from '../access/tables.js';
import { Conflict, Invalid, NotFound } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import { ARTIFACT_SCHEME, experimentArtifactLocation } from './artifacts.js';
import { parseFilter, parseOrderBy } from './filter.js';
import { LIMITS, type Experiment, type ExperimentSearch, type KeyValue, type Page } from './model.js';
import type { ExperimentStore } from './store.experiments.js';
import { checkExperimentId, checkKey, checkTags, checkValue, decodeToken, encodeToken, isOffsetToken, required } from './validate.js';

export const DEFAULT_EXPERIMENT = 'Default';

/** Experiments: rules, authorization and audit. Each lives in one workspace; ids are global numbers. */
export class ExperimentService {
  constructor(
    private readonly authz: Authorizer,
    private readonly store: ExperimentStore,
  ) {}

  private read(ctx: Ctx, workspace: string): Promise<WorkspaceRow> {
    return this.authz.authorize(ctx, 'workspace.read', workspace);
  }

  /**
   * Resolves an id as seen from a workspace. MLflow clients send "0" when no
   * experiment is set; outside the default workspace that means the
   * workspace's own Default experiment.
   */
  async resolveId(ws: WorkspaceRow, raw: unknown, db?: Db, field = 'experiment_id'): Promise<number | undefined> {
    const id = checkExperimentId(raw, field);
    if (id !== 0 || ws.name === 'default') return id;
    const d = await this.store.byName(Number(ws.id), DEFAULT_EXPERIMENT, db);
    return d ? Number(d.experimentId) : undefined;
  }

  /** The workspace's Default experiment, created on first use outside the default workspace. */
  async ensureDefault(tx: Db, ws: WorkspaceRow): Promise<number> {
    const found = await this.store.byName(Number(ws.id), DEFAULT_EXPERIMENT, tx);
    if (found) return Number(found.experimentId);
    return this.store.insert(tx, { workspaceId: Number(ws.id), name: DEFAULT_EXPERIMENT, artifactLocation: (id) => experimentArtifactLocation(ws.name, id), now: Date.now() });
  }

  async get(ctx: Ctx, workspace: string, rawId: unknown): Promise<Experiment> {
    const ws = await this.read(ctx, workspace);
    const id = await this.resolveId(ws, rawId);
    const e = id === undefined ? undefined : await this.store.byId(Number(ws.id), id);
    if (!e) throw notFound(rawId);
    return e;
  }

  /**
   * Whether the workspace holds this experiment (any lifecycle stage), for the
   * artifact proxy; the caller needs `workspace.read`. Ids here are literal:
   * artifact paths carry real ids, never the "0" alias.
   */
  async exists(ctx: Ctx, workspace: string, experimentId: string): Promise<boolean> {
    const ws = await this.read(ctx, workspace);
    if (!/^\d{1,18}$/.test(experimentId)) return false;
    return (await this.store.byId(Number(ws.id), Number(experimentId))) !== undefined;
  }

  async getByName(ctx: Ctx, workspace: string, name: string | undefined): Promise<Experiment> {
    const ws = await this.read(ctx, workspace);
    const e = await this.store.byName(Number(ws.id), required(name, 'experiment_name'));
    if (!e) throw new NotFound('experiment', name);
    return e;
  }

  async create(ctx: Ctx, workspace: string, input: { name?: string; artifactLocation?: string; tags?: KeyValue[] }): Promise<string> {
    const name = required(input.name, 'name');
    if (typeof name !== 'string') throw Invalid.field('name', 'a string is required');
    checkValue(name, 'name', LIMITS.nameLength);
    const tags = checkTags(input.tags ?? []);
    // mlflow-artifacts: locations are the server's to assign: one given by a
    // client could point an experiment into another workspace's artifacts.
    if (input.artifactLocation?.startsWith(ARTIFACT_SCHEME)) {
      throw Invalid.field('artifact_location', `${ARTIFACT_SCHEME} locations are assigned by the server; omit artifact_location or give an external URI`);
    }
    return this.authz.mutate(ctx, { action: 'tracking.write', workspace, target: `experiment/${name}` }, async (tx, ws) => {
      const wsId = Number(ws!.id);
      if (await this.store.nameTaken(tx, wsId, name)) throw new Conflict(`Experiment '${name}' already exists.`);
      const given = input.artifactLocation;
      const id = await this.store.insert(tx, { workspaceId: wsId, name, artifactLocation: (n) => given || experimentArtifactLocation(ws!.name, n), now: Date.now() });
      await this.store.setTags(tx, id, tags);
      return String(id);
    });
  }

  async search(ctx: Ctx, workspace: string, q: ExperimentSearch): Promise<Page<Experiment>> {
    const ws = await this.read(ctx, workspace);
    const conditions = parseFilter(q.filter);
    const order = parseOrderBy(q.orderBy.length ? q.orderBy : ['creation_time DESC']);
    const offset = decodeToken(q.pageToken, 'page_token', isOffsetToken)?.offset ?? 0;
    const rows = await this.store.search(Number(ws.id), { conditions, view: q.viewType, order, offset, limit: q.maxResults + 1 });
    const more = rows.length > q.maxResults;
    return { items: rows.slice(0, q.maxResults), nextPageToken: more ? encodeToken({ offset: offset + q.maxResults }) : undefined };
  }

  /** Runs a change on one experiment, locked, in the workspace; `change` sees its current state. */
  private change<T>(ctx: Ctx, workspace: string, rawId: unknown, detail: Record<string, unknown> | undefined, change: (tx: Db, id: number, current: { name: string; lifecycle_stage: string }, ws: WorkspaceRow) => Promise<T>): Promise<T> {
    const idText = String(rawId ?? '');
    return this.authz.mutate(ctx, { action: 'tracking.write', workspace, target: `experiment/${idText}`, detail }, async (tx, ws) => {
      const id = await this.resolveId(ws!, rawId, tx);
      const current = id === undefined ? undefined : await this.store.lock(tx, Number(ws!.id), id);
      if (!current || id === undefined) throw notFound(rawId);
      return change(tx, id, current, ws!);
    });
  }

  async rename(ctx: Ctx, workspace: string, rawId: unknown, newName: string | undefined): Promise<void> {
    const name = checkValue(required(newName, 'new_name'), 'new_name', LIMITS.nameLength);
    await this.change(ctx, workspace, rawId, { newName: name }, async (tx, id, cur, ws) => {
      if (cur.lifecycle_stage !== 'active') throw Invalid.field('experiment_id', `cannot rename a non-active experiment (it is '${cur.lifecycle_stage}')`);
      if (cur.name === name) return;
      if (await this.store.nameTaken(tx, Number(ws.id), name)) throw new Conflict(`Experiment '${name}' already exists.`);
      await this.store.update(tx, id, { name, last_update_time: Date.now() });
    });
  }

  async setLifecycle(ctx: Ctx, workspace: string, rawId: unknown, stage: 'active' | 'deleted'): Promise<void> {
    await this.change(ctx, workspace, rawId, { lifecycle: stage }, async (tx, id, cur) => {
      if (cur.lifecycle_stage === stage) {
        throw Invalid.field('experiment_id', stage === 'deleted' ? `experiment ${id} is already deleted` : `cannot restore an active experiment (${id})`);
      }
      const now = Date.now();
      await this.store.update(tx, id, { lifecycle_stage: stage, last_update_time: now });
      await this.store.setRunsLifecycle(tx, id, stage, now);
    });
  }

  async setTag(ctx: Ctx, workspace: string, rawId: unknown, key: unknown, value: unknown): Promise<void> {
    const tag = { key: checkKey(key, 'key'), value: checkValue(value, 'value', LIMITS.tagValueLength) };
    await this.change(ctx, workspace, rawId, { tag: tag.key }, async (tx, id, cur) => {
      if (cur.lifecycle_stage !== 'active') throw Invalid.field('experiment_id', `the experiment ${id} must be in the 'active' state`);
      await this.store.setTags(tx, id, [tag]);
    });
  }

  async deleteTag(ctx: Ctx, workspace: string, rawId: unknown, key: unknown): Promise<void> {
    const k = checkKey(key, 'key');
    await this.change(ctx, workspace, rawId, { tag: k }, async (tx, id) => {
      if (!(await this.store.deleteTag(tx, id, k))) throw new NotFound(`tag '${k}' on experiment`, id);
    });
  }
}

function notFound(rawId: unknown) {
  return new NotFound('experiment', String(rawId ?? ''));
}
