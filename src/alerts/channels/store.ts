import { sql, type Kysely } from 'kysely';
import { tables, type Db } from '../../store/db.js';
import type { AlertChannelTables, AttemptRow, ChannelRow, DeliveryRow, DeliveryState } from './tables.js';

const t = (db: Db): Kysely<AlertChannelTables> => tables<AlertChannelTables>(db);
const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));

const channelRow = (r: ChannelRow): ChannelRow => ({ ...r, id: Number(r.id), workspace_id: Number(r.workspace_id), created_at: Number(r.created_at), updated_at: Number(r.updated_at) });
export const deliveryRow = (r: DeliveryRow): DeliveryRow => ({
  ...r,
  id: Number(r.id),
  workspace_id: Number(r.workspace_id),
  channel_id: n(r.channel_id),
  alert_id: n(r.alert_id),
  attempts: Number(r.attempts),
  next_attempt_at: Number(r.next_attempt_at),
  created_at: Number(r.created_at),
  finished_at: n(r.finished_at),
});
const attemptRow = (r: AttemptRow): AttemptRow => ({ ...r, delivery_id: Number(r.delivery_id), attempt: Number(r.attempt), at: Number(r.at), status_code: n(r.status_code), duration_ms: Number(r.duration_ms), retry_in_ms: n(r.retry_in_ms) });

export type NewDelivery = Omit<DeliveryRow, 'id' | 'attempts' | 'finished_at'> & { attempts?: number; finished_at?: number | null };

/** SQL of alert channels and the delivery outbox. No rules here. */
export class ChannelStore {
  constructor(private readonly db: Db) {}

  async workspaceId(name: string, db: Db = this.db): Promise<number | null> {
    const r = await t(db).selectFrom('workspaces').select('id').where('name', '=', name).executeTakeFirst();
    return r ? Number(r.id) : null;
  }

  async get(workspaceId: number, name: string, db: Db = this.db): Promise<ChannelRow | null> {
    const r = await t(db).selectFrom('alert_channels').selectAll().where('workspace_id', '=', workspaceId).where('name', '=', name).executeTakeFirst();
    return r ? channelRow(r) : null;
  }

  async byId(id: number): Promise<ChannelRow | null> {
    const r = await t(this.db).selectFrom('alert_channels').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? channelRow(r) : null;
  }

  async byNames(db: Db, workspaceId: number, names: string[]): Promise<ChannelRow[]> {
    if (!names.length) return [];
    return (await t(db).selectFrom('alert_channels').selectAll().where('workspace_id', '=', workspaceId).where('name', 'in', names).execute()).map(channelRow);
  }

  async list(workspaceId: number): Promise<ChannelRow[]> {
    return (await t(this.db).selectFrom('alert_channels').selectAll().where('workspace_id', '=', workspaceId).orderBy('name').execute()).map(channelRow);
  }

  async upsert(db: Db, r: Omit<ChannelRow, 'id'>): Promise<ChannelRow> {
    const row = await t(db)
      .insertInto('alert_channels')
      .values(r)
      .onConflict((oc) => oc.columns(['workspace_id', 'name']).doUpdateSet({ type: r.type, url: r.url, secret: r.secret, updated_at: r.updated_at }))
      .returningAll()
      .executeTakeFirstOrThrow();
    return channelRow(row);
  }

  async delete(db: Db, id: number): Promise<void> {
    await t(db).deleteFrom('alert_channels').where('id', '=', id).execute();
  }

  async insertDeliveries(db: Db, rows: NewDelivery[]): Promise<DeliveryRow[]> {
    if (!rows.length) return [];
    return (await t(db).insertInto('alert_deliveries').values(rows.map((r) => ({ ...r, attempts: r.attempts ?? 0, finished_at: r.finished_at ?? null }))).returningAll().execute()).map(deliveryRow);
  }

  /**
   * Takes up to `limit` due deliveries for one attempt each: one statement
   * whose row locks (`for update skip locked`) keep two workers off the same
   * row, and which moves `next_attempt_at` past the attempt's time limit, so
   * the row is not due again unless this worker dies mid-attempt.
   * One alert's notifications reach a channel in the order they were queued:
   * a delivery waits while an earlier one of the same alert to the same
   * channel is still pending (in backoff, say), so a receiver never hears
   * "resolved" before the "firing" it ends.
   */
  async claim(now: number, leaseMs: number, limit: number): Promise<DeliveryRow[]> {
    const r = await sql<DeliveryRow>`
      update alert_deliveries set attempts = attempts + 1, next_attempt_at = ${now + leaseMs}
      where id in (
        select d.id from alert_deliveries d
        where d.state = 'pending' and d.next_attempt_at <= ${now}
          and not exists (
            select 1 from alert_deliveries e
            where e.workspace_id = d.workspace_id and e.alert_id = d.alert_id and e.channel = d.channel and e.id < d.id and e.state = 'pending')
        order by d.next_attempt_at, d.id
        limit ${limit}
        for update skip locked)
      returning *`.execute(this.db);
    return r.rows.map(deliveryRow).sort((a, b) => a.id - b.id);
  }

  /**
   * Records an attempt and its outcome, only if the delivery is still this
   * attempt's (a claim that lapsed and was taken over records nothing).
   */
  async finishAttempt(a: AttemptRow, outcome: { state: DeliveryState; nextAttemptAt: number; error: string }): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const done = outcome.state !== 'pending';
      const u = await t(tx)
        .updateTable('alert_deliveries')
        .set({ state: outcome.state, next_attempt_at: outcome.nextAttemptAt, error: outcome.error, finished_at: done ? a.at + a.duration_ms : null })
        .where('id', '=', a.delivery_id)
        .where('attempts', '=', a.attempt)
        .where('state', '=', 'pending')
        .executeTakeFirst();
      if (Number(u.numUpdatedRows) === 0) return false;
      await t(tx).insertInto('alert_delivery_attempts').values(a).execute();
      return true;
    });
  }

  /** A delivery that cannot be attempted (its channel is gone): failed without an attempt. */
  async fail(id: number, attempt: number, error: string, now: number): Promise<void> {
    await t(this.db).updateTable('alert_deliveries').set({ state: 'failed', error, finished_at: now }).where('id', '=', id).where('attempts', '=', attempt).where('state', '=', 'pending').execute();
  }

  /** Deletes deliveries (and their attempts) that finished before `before`. */
  async trimFinished(before: number): Promise<void> {
    await t(this.db).deleteFrom('alert_deliveries').where('state', '!=', 'pending').where('finished_at', '<', before).execute();
  }

  async deliveries(workspaceId: number, f: { alert?: number; channel?: string; limit: number; ids?: number[] }): Promise<DeliveryRow[]> {
    let q = t(this.db).selectFrom('alert_deliveries').selectAll().where('workspace_id', '=', workspaceId);
    if (f.alert !== undefined) q = q.where('alert_id', '=', f.alert);
    if (f.channel !== undefined) q = q.where('channel', '=', f.channel);
    if (f.ids) q = q.where('id', 'in', f.ids.length ? f.ids : [-1]);
    return (await q.orderBy('id', 'desc').limit(f.limit).execute()).map(deliveryRow);
  }

  async attempts(deliveryIds: number[]): Promise<AttemptRow[]> {
    if (!deliveryIds.length) return [];
    return (await t(this.db).selectFrom('alert_delivery_attempts').selectAll().where('delivery_id', 'in', deliveryIds).orderBy('delivery_id').orderBy('attempt').execute()).map(attemptRow);
  }
}
