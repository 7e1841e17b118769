import { timingSafeEqual } from 'node:crypto';
import type { Authorizer } from '../../access/authorizer.js';
import type { Ctx } from '../../access/principal.js';
import { Conflict, Invalid, NotFound } from '../../shared/errors.js';
import type { Db } from '../../store/db.js';
import type { AlertNotification } from '../notification.js';
import type { AlertDeliveryConfig } from './config.js';
import { attempt, leaseMs } from './delivery.js';
import type { ChannelSpec, ChannelView, DeliveriesQuery, DeliveryView } from './schema.js';
import { ChannelStore } from './store.js';
import type { AttemptRow, ChannelRow, DeliveryRow } from './tables.js';

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const view = (workspace: string, r: ChannelRow): ChannelView => ({
  name: r.name,
  workspace,
  type: r.type,
  url: r.url,
  secretSet: r.secret !== null,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

function deliveryView(d: DeliveryRow, attempts: AttemptRow[]): DeliveryView {
  const n = JSON.parse(d.notification) as AlertNotification;
  return {
    id: d.id,
    channel: d.channel,
    alert: d.alert_id,
    test: d.test,
    status: n.status,
    repeat: n.repeat,
    state: d.state,
    error: d.error,
    createdAt: new Date(d.created_at).toISOString(),
    finishedAt: iso(d.finished_at),
    nextAttemptAt: d.state === 'pending' ? iso(d.next_attempt_at) : null,
    attempts: attempts.map((a) => ({ attempt: a.attempt, at: new Date(a.at).toISOString(), statusCode: a.status_code, error: a.error, durationMs: a.duration_ms, retryInMs: a.retry_in_ms })),
  };
}

function checkUrl(text: string): void {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw Invalid.field('url', `an http or https URL, got ${JSON.stringify(text)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw Invalid.field('url', `an http or https URL, got ${JSON.stringify(text)}`);
}

/** The secret a spec leaves stored: kept when omitted, removed by "", only webhooks have one. */
function resolveSecret(spec: ChannelSpec, current: ChannelRow | null): string | null {
  if (!NAME.test(spec.name)) throw Invalid.field('name', 'lowercase letters, digits and dashes (at most 63), starting and ending with a letter or digit');
  checkUrl(spec.url);
  if (spec.type !== 'webhook') {
    if (spec.secret) throw Invalid.field('secret', `only webhook channels take a secret (a ${spec.type} channel's credential is its URL)`);
    return null;
  }
  const secret = spec.secret === undefined ? (current?.secret ?? null) : spec.secret || null;
  if (!secret) throw Invalid.field('secret', 'a secret: webhook notifications are signed with HMAC-SHA256');
  return secret;
}

const same = (a: string | null, b: string | null) => a === b || (a !== null && b !== null && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b)));

/** A notification that says it is a test, so a receiver's owner recognises it. */
function testNotification(workspace: string, channel: string): AlertNotification {
  return {
    status: 'firing',
    repeat: false,
    alert: { id: 0, workspace, rule: 'slipway-test', state: 'firing', severity: 'info', labels: { test: 'true' }, summary: `Test notification from Slipway to channel '${channel}'`, value: null, threshold: null, startsAt: new Date().toISOString(), endsAt: null, runbook: 'This is a test of the channel: nothing to do.', url: null },
  };
}

/**
 * Alert channels (monitor.write to change, workspace.read to see; secrets
 * never leave), test sends, and the delivery log.
 */
export class ChannelService {
  readonly store: ChannelStore;

  constructor(private readonly deps: { db: Db; authz: Authorizer; delivery: AlertDeliveryConfig }) {
    this.store = new ChannelStore(deps.db);
  }

  async put(ctx: Ctx, workspace: string, spec: ChannelSpec, expectNew = false): Promise<ChannelView> {
    return this.deps.authz.mutate(ctx, { action: 'monitor.write', workspace, target: `alert-channel/${spec.name}`, detail: { op: 'put', type: spec.type, secret: spec.secret === undefined ? 'kept' : spec.secret ? 'set' : 'removed' } }, async (tx, ws) => {
      const cur = await this.store.get(Number(ws!.id), spec.name, tx);
      if (expectNew && cur) throw new Conflict(`alert channel '${spec.name}' already exists in workspace '${workspace}'`);
      const secret = resolveSecret(spec, cur);
      const now = Date.now();
      return view(workspace, await this.store.upsert(tx, { workspace_id: Number(ws!.id), name: spec.name, type: spec.type, url: spec.url, secret, created_by: ctx.principal.name, created_at: now, updated_at: now }));
    });
  }

  /** What applying `spec` would change (`secret` when the stored one differs), or null for a new channel. */
  async changes(ctx: Ctx, workspace: string, spec: ChannelSpec): Promise<string[] | null> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const cur = await this.store.get(Number(ws.id), spec.name);
    const secret = resolveSecret(spec, cur);
    if (!cur) return null;
    return [cur.type !== spec.type && 'type', cur.url !== spec.url && 'url', !same(cur.secret, secret) && 'secret'].filter((x): x is string => !!x);
  }

  async list(ctx: Ctx, workspace: string): Promise<ChannelView[]> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    return (await this.store.list(Number(ws.id))).map((r) => view(workspace, r));
  }

  async get(ctx: Ctx, workspace: string, name: string): Promise<ChannelView> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    return view(workspace, await this.require(Number(ws.id), name));
  }

  async delete(ctx: Ctx, workspace: string, name: string): Promise<void> {
    await this.deps.authz.mutate(ctx, { action: 'monitor.write', workspace, target: `alert-channel/${name}`, detail: { op: 'delete' } }, async (tx, ws) => {
      const row = await this.store.get(Number(ws!.id), name, tx);
      if (!row) throw new NotFound('alert channel', name);
      await this.store.delete(tx, row.id);
    });
  }

  /** Sends a test notification now (one attempt, no retries) and answers its logged delivery. */
  async test(ctx: Ctx, workspace: string, name: string): Promise<DeliveryView> {
    const audit = { action: 'monitor.write' as const, workspace, target: `alert-channel/${name}`, detail: { op: 'test' } };
    const claimed = await this.deps.authz.mutate(ctx, audit, async (tx, ws) => {
      const row = await this.store.get(Number(ws!.id), name, tx);
      if (!row) throw new NotFound('alert channel', name);
      const now = Date.now();
      // Inserted as already claimed (attempt 1, due after the lease), so no delivery loop takes it too.
      const [d] = await this.store.insertDeliveries(tx, [{ workspace_id: row.workspace_id, channel_id: row.id, channel: name, alert_id: null, test: true, notification: JSON.stringify(testNotification(workspace, name)), state: 'pending', next_attempt_at: now + leaseMs(this.deps.delivery), error: '', created_at: now, attempts: 1 }]);
      return d;
    });
    await attempt(this.store, { ...this.deps.delivery, maxAttempts: 1 }, claimed);
    const [d] = await this.views(claimed.workspace_id, { limit: 1, ids: [claimed.id] });
    return d;
  }

  async deliveries(ctx: Ctx, workspace: string, q: DeliveriesQuery): Promise<DeliveryView[]> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    return this.views(Number(ws.id), { alert: q.alert, channel: q.channel, limit: q.limit ?? 100 });
  }

  private async views(workspaceId: number, f: Parameters<ChannelStore['deliveries']>[1]): Promise<DeliveryView[]> {
    const rows = await this.store.deliveries(workspaceId, f);
    const attempts = await this.store.attempts(rows.map((r) => r.id));
    return rows.map((r) => deliveryView(r, attempts.filter((a) => a.delivery_id === r.id)));
  }

  private async require(workspaceId: number, name: string): Promise<ChannelRow> {
    const row = await this.store.get(workspaceId, name);
    if (!row) throw new NotFound('alert channel', name);
    return row;
  }
}
