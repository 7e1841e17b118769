import { sql, type Insertable, type Kysely, type Updateable } from 'kysely';
import { tables, type Db } from '../store/db.js';
import type { RolloutEventRow, RolloutRow, RolloutTable, RolloutTables } from './tables.js';

const t = (db: Db): Kysely<RolloutTables> => tables<RolloutTables>(db);
const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** int8 columns leave the store as numbers whichever driver read them. */
function row(r: Record<string, unknown>): RolloutRow {
  const x = r as unknown as RolloutRow;
  return {
    ...x,
    id: Number(x.id),
    workspace_id: Number(x.workspace_id),
    endpoint_id: Number(x.endpoint_id),
    drain_ms: Number(x.drain_ms),
    step: Number(x.step),
    step_started_at: n(x.step_started_at),
    paused_ms: Number(x.paused_ms),
    paused_at: n(x.paused_at),
    retire_at: n(x.retire_at),
    version: Number(x.version),
    created_at: Number(x.created_at),
    updated_at: Number(x.updated_at),
  };
}

/** SQL of rollouts and their events. No rules here. */
export class RolloutStore {
  constructor(private readonly db: Db) {}

  /** Inserts, or answers null when the workspace already has a rollout of that name. */
  async insert(db: Db, r: Insertable<RolloutTable>): Promise<RolloutRow | null> {
    const out = await t(db).insertInto('rollouts').values(r).onConflict((oc) => oc.columns(['workspace_id', 'name']).doNothing()).returningAll().executeTakeFirst();
    return out ? row(out) : null;
  }

  async get(workspaceId: number, name: string, db: Db = this.db, lock = false): Promise<RolloutRow | null> {
    let q = t(db).selectFrom('rollouts').selectAll().where('workspace_id', '=', workspaceId).where('name', '=', name);
    if (lock) q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r ? row(r) : null;
  }

  async list(workspaceId: number, db: Db = this.db): Promise<RolloutRow[]> {
    return (await t(db).selectFrom('rollouts').selectAll().where('workspace_id', '=', workspaceId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute()).map(row);
  }

  /** Running or paused rollouts of an endpoint: at most one may drive it. */
  async activeOn(endpointId: number, db: Db = this.db): Promise<RolloutRow[]> {
    return (await t(db).selectFrom('rollouts').selectAll().where('endpoint_id', '=', endpointId).where('state', 'in', ['running', 'paused']).execute()).map(row);
  }

  /** What a controller tick looks at: running rollouts and promoted ones with a retirement due by `now`. */
  async due(now: number, db: Db = this.db): Promise<RolloutRow[]> {
    const rows = await t(db)
      .selectFrom('rollouts')
      .selectAll()
      .where((eb) => eb.or([eb('state', '=', 'running'), eb.and([eb('state', '=', 'succeeded'), eb('retire_at', '<=', now)])]))
      .orderBy('id')
      .execute();
    return rows.map(row);
  }

  /**
   * Locks the row as it was read (same version) for one decision; null when
   * another worker holds it or has changed it since: that worker decides.
   */
  async claim(tx: Db, id: number, version: number): Promise<RolloutRow | null> {
    const r = await t(tx).selectFrom('rollouts').selectAll().where('id', '=', id).where('version', '=', version).forUpdate().skipLocked().executeTakeFirst();
    return r ? row(r) : null;
  }

  /** Every change moves the version, so decisions taken on an older read are dropped. */
  async update(db: Db, id: number, set: Updateable<RolloutTable>): Promise<void> {
    await t(db)
      .updateTable('rollouts')
      .set({ ...set, version: sql`version + 1` })
      .where('id', '=', id)
      .execute();
  }

  /** Readings are observations, not decisions: written only onto the version they were taken for, without moving it. */
  async setReadings(id: number, version: number, readings: string): Promise<void> {
    await t(this.db).updateTable('rollouts').set({ readings }).where('id', '=', id).where('version', '=', version).execute();
  }

  async workspaceName(id: number, db: Db = this.db): Promise<string> {
    const r = await tables<{ workspaces: { id: number; name: string } }>(db).selectFrom('workspaces').select('name').where('id', '=', id).executeTakeFirstOrThrow();
    return r.name;
  }

  async delete(db: Db, id: number): Promise<void> {
    await t(db).deleteFrom('rollouts').where('id', '=', id).execute();
  }

  async addEvent(db: Db, e: Omit<RolloutEventRow, 'id'>): Promise<void> {
    await t(db).insertInto('rollout_events').values(e).execute();
  }

  async events(rolloutId: number, limit = 200, db: Db = this.db): Promise<RolloutEventRow[]> {
    const rows = await t(db).selectFrom('rollout_events').selectAll().where('rollout_id', '=', rolloutId).orderBy('id', 'desc').limit(limit).execute();
    return rows.reverse().map((e) => ({ ...e, id: Number(e.id), rollout_id: Number(e.rollout_id), at: Number(e.at) }));
  }
}
