import { randomBytes } from 'node:crypto';
import type { Authorizer } from '../access/authorizer.js';
import type { Ctx } from '../access/principal.js';
import type { WorkspaceRow } from '../access/tables.js';
import { Conflict, NotFound } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import { canonical, checkCapture, checkLabel, checkMirror, checkRateLimit, checkTraffic } from './endpoints.rules.js';
import { endpointView, historyView, type EndpointView, type HistoryView } from './endpoints.views.js';
import type { EndpointCreate, EndpointUpdate, TrafficMap } from './schema.js';
import type { ServingStore } from './store.js';
import type { EndpointRow } from './tables.js';

export interface ServingDeps {
  db: Db;
  authz: Authorizer;
  store: ServingStore;
}

export interface EndpointKeys {
  primary: string;
  secondary: string;
}

/** An endpoint's routing as a rollout step sees it before changing it. */
export interface RoutingNow {
  traffic: TrafficMap;
  mirror: TrafficMap;
  deployments: string[];
}

/** 32 random bytes: guessing one is out of reach; the prefix makes a leaked key easy to recognise. */
export const newEndpointKey = () => `swk_${randomBytes(32).toString('base64url')}`;

/** The endpoint `name` of workspace `wsId`; one in another workspace is as absent as none. */
export async function requireEndpoint(store: ServingStore, db: Db, wsId: number, name: string, lock = false): Promise<EndpointRow> {
  const e = await store.endpoint(name, db, lock);
  if (!e || Number(e.workspace_id) !== wsId) throw new NotFound('endpoint', name);
  return e;
}

/**
 * Writes traffic and mirror after checking them against the endpoint's
 * deployments, and keeps a history row with who and why. No-op when equal.
 */
export async function writeTraffic(
  deps: ServingDeps,
  tx: Db,
  ctx: Ctx,
  e: EndpointRow,
  change: { traffic?: unknown; mirror?: unknown; reason?: string },
): Promise<boolean> {
  const names = (await deps.store.deployments([e.id], tx)).map((d) => d.name);
  const traffic = change.traffic === undefined ? (JSON.parse(e.traffic) as TrafficMap) : checkTraffic(change.traffic, names);
  const mirror = checkMirror(change.mirror === undefined ? JSON.parse(e.mirror) : change.mirror, traffic, names);
  const [t, m] = [canonical(traffic), canonical(mirror)];
  if (t === canonical(JSON.parse(e.traffic)) && m === canonical(JSON.parse(e.mirror))) return false;
  const now = Date.now();
  await deps.store.updateEndpoint(tx, e.id, { traffic: t, mirror: m, updated_at: now });
  await deps.store.addHistory(tx, { workspace_id: Number(e.workspace_id), endpoint: e.name, at: now, who: ctx.principal.name, reason: change.reason ?? '', traffic: t, mirror: m });
  await deps.store.bumpVersion(tx);
  return true;
}

/** Online endpoints: create, read, update, traffic and mirror, keys, history, delete. */
export class EndpointService {
  constructor(private readonly deps: ServingDeps) {}

  private async view(db: Db, e: EndpointRow, workspace: string): Promise<EndpointView> {
    return endpointView(e, workspace, await this.deps.store.deployments([e.id], db));
  }

  async create(ctx: Ctx, workspace: string, input: EndpointCreate): Promise<EndpointView> {
    const name = checkLabel(input.name, 'name');
    const rateLimit = checkRateLimit(input.rateLimit);
    const capture = checkCapture(input.capture);
    // A new endpoint has no deployments yet, so only an empty map is valid.
    const traffic = checkTraffic(input.traffic ?? {}, []);
    const mirror = checkMirror(input.mirror ?? {}, traffic, []);
    return this.deps.authz.mutate(ctx, { action: 'endpoint.deploy', workspace, target: `endpoint/${name}`, detail: { op: 'create' } }, async (tx, ws) => {
      const now = Date.now();
      const e = await this.deps.store.insertEndpoint(tx, {
        workspace_id: Number(ws!.id),
        name,
        description: input.description ?? '',
        auth: input.auth ?? 'key',
        primary_key: newEndpointKey(),
        secondary_key: newEndpointKey(),
        traffic: canonical(traffic),
        mirror: canonical(mirror),
        rate_limit: rateLimit && JSON.stringify(rateLimit),
        capture: capture && JSON.stringify(capture),
        created_by: ctx.principal.name,
        created_at: now,
        updated_at: now,
      });
      if (!e) throw new Conflict(`an endpoint named '${name}' already exists on this server (endpoint names are server-wide: they are inference paths)`);
      await this.deps.store.bumpVersion(tx);
      return this.view(tx, e, ws!.name);
    });
  }

  async list(ctx: Ctx, workspace: string): Promise<EndpointView[]> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const rows = await this.deps.store.endpoints(Number(ws.id));
    const deps = await this.deps.store.deployments(rows.map((e) => e.id));
    return rows.map((e) => endpointView(e, ws.name, deps));
  }

  async get(ctx: Ctx, workspace: string, name: string): Promise<EndpointView> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    return this.view(this.deps.db, await requireEndpoint(this.deps.store, this.deps.db, Number(ws.id), name), ws.name);
  }

  /** The endpoint if it exists in the workspace, else null (apply plans use it). */
  async find(ctx: Ctx, workspace: string, name: string): Promise<EndpointView | null> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const e = await this.deps.store.endpoint(name);
    if (!e) return null;
    if (Number(e.workspace_id) !== Number(ws.id)) throw new Conflict(`endpoint name '${name}' is taken by another workspace (endpoint names are server-wide)`);
    return this.view(this.deps.db, e, ws.name);
  }

  async update(ctx: Ctx, workspace: string, name: string, input: EndpointUpdate): Promise<EndpointView> {
    const rateLimit = input.rateLimit === undefined ? undefined : checkRateLimit(input.rateLimit);
    const capture = input.capture === undefined ? undefined : checkCapture(input.capture);
    return this.mutate(ctx, workspace, name, 'update', async (tx, e, ws) => {
      const set: Partial<EndpointRow> = {};
      if (input.description !== undefined) set.description = input.description;
      if (input.auth !== undefined) set.auth = input.auth;
      if (rateLimit !== undefined) set.rate_limit = rateLimit && JSON.stringify(rateLimit);
      if (capture !== undefined) set.capture = capture && JSON.stringify(capture);
      if (Object.keys(set).length) {
        await this.deps.store.updateEndpoint(tx, e.id, { ...set, updated_at: Date.now() });
        await this.deps.store.bumpVersion(tx);
      }
      if (input.traffic !== undefined || input.mirror !== undefined) {
        await writeTraffic(this.deps, tx, ctx, (await this.deps.store.endpoint(name, tx))!, input);
      }
      return this.view(tx, (await this.deps.store.endpoint(name, tx))!, ws.name);
    });
  }

  async setTraffic(ctx: Ctx, workspace: string, name: string, input: { traffic: unknown; mirror?: unknown; reason?: string }): Promise<EndpointView> {
    return this.mutate(ctx, workspace, name, 'traffic', async (tx, e, ws) => {
      await writeTraffic(this.deps, tx, ctx, e, input);
      return this.view(tx, (await this.deps.store.endpoint(name, tx))!, ws.name);
    }, { traffic: input.traffic, mirror: input.mirror, reason: input.reason });
  }

  /**
   * Server-internal (rollouts): rewrites traffic and mirror inside the
   * caller's transaction, which authorized the change and audits it; the
   * history names `ctx.principal` as who. `change` sees the current maps and
   * deployment names. Answers false when nothing changed.
   */
  async shift(tx: Db, ctx: Ctx, endpointId: number, name: string, change: (cur: RoutingNow) => { traffic: TrafficMap; mirror: TrafficMap; reason: string }): Promise<boolean> {
    const e = await this.deps.store.endpoint(name, tx, true);
    if (!e || e.id !== endpointId) throw new NotFound('endpoint', name);
    const deployments = (await this.deps.store.deployments([e.id], tx)).map((d) => d.name);
    return writeTraffic(this.deps, tx, ctx, e, change({ traffic: JSON.parse(e.traffic) as TrafficMap, mirror: JSON.parse(e.mirror) as TrafficMap, deployments }));
  }

  async delete(ctx: Ctx, workspace: string, name: string): Promise<void> {
    await this.mutate(ctx, workspace, name, 'delete', async (tx, e) => {
      await this.deps.store.deleteEndpoint(tx, e.id);
      await this.deps.store.bumpVersion(tx);
    });
  }

  /** Both keys; shown to holders of endpoint.deploy, and every showing is audited. */
  async keys(ctx: Ctx, workspace: string, name: string): Promise<EndpointKeys> {
    return this.mutate(ctx, workspace, name, 'show-keys', async (_tx, e) => ({ primary: e.primary_key, secondary: e.secondary_key }));
  }

  /** Replaces one key; the other keeps working, so clients rotate without downtime. */
  async regenerateKey(ctx: Ctx, workspace: string, name: string, which: 'primary' | 'secondary'): Promise<EndpointKeys> {
    return this.mutate(ctx, workspace, name, `regenerate-${which}-key`, async (tx, e) => {
      const key = newEndpointKey();
      await this.deps.store.updateEndpoint(tx, e.id, { [which === 'primary' ? 'primary_key' : 'secondary_key']: key, updated_at: Date.now() });
      await this.deps.store.bumpVersion(tx);
      return which === 'primary' ? { primary: key, secondary: e.secondary_key } : { primary: e.primary_key, secondary: key };
    });
  }

  async history(ctx: Ctx, workspace: string, name: string, limit = 100): Promise<HistoryView[]> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    await requireEndpoint(this.deps.store, this.deps.db, Number(ws.id), name);
    return (await this.deps.store.history(Number(ws.id), name, limit)).map(historyView);
  }

  private mutate<T>(ctx: Ctx, workspace: string, name: string, op: string, change: (tx: Db, e: EndpointRow, ws: WorkspaceRow) => Promise<T>, detail: Record<string, unknown> = {}): Promise<T> {
    return this.deps.authz.mutate(ctx, { action: 'endpoint.deploy', workspace, target: `endpoint/${name}`, detail: { op, ...detail } }, async (tx, ws) =>
      change(tx, await requireEndpoint(this.deps.store, tx, Number(ws!.id), name, true), ws!),
    );
  }
}
