import { sql, type Kysely } from 'kysely';
import { tables, type Db } from '../store/db.js';
import type { FeedbackRow, MonitorRow, MonitorRunRow, MonitoringTables } from './tables.js';

type Tables = MonitoringTables & { workspaces: { id: number; name: string } };

const t = (db: Db): Kysely<Tables> => tables<Tables>(db);
const CHUNK = 500;

const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const monitorRow = (r: MonitorRow): MonitorRow => ({ ...r, id: Number(r.id), workspace_id: Number(r.workspace_id), created_at: Number(r.created_at), updated_at: Number(r.updated_at), schedule_tick: n(r.schedule_tick), schedule_running_until: n(r.schedule_running_until) });
const runRow = (r: MonitorRunRow): MonitorRunRow => ({ ...r, id: Number(r.id), monitor_id: Number(r.monitor_id), at: Number(r.at), window_from: Number(r.window_from), window_to: Number(r.window_to), schedule_tick: n(r.schedule_tick) });

/** SQL of monitors, their runs and endpoint feedback. No rules here. */
export class MonitoringStore {
  constructor(private readonly db: Db) {}

  async get(workspaceId: number, name: string, db: Db = this.db): Promise<MonitorRow | null> {
    const r = await t(db).selectFrom('monitors').selectAll().where('workspace_id', '=', workspaceId).where('name', '=', name).executeTakeFirst();
    return r ? monitorRow(r) : null;
  }

  async list(workspaceId: number): Promise<MonitorRow[]> {
    return (await t(this.db).selectFrom('monitors').selectAll().where('workspace_id', '=', workspaceId).orderBy('name').execute()).map(monitorRow);
  }

  /** Creates or replaces the spec of a monitor; answers the row and whether it was new. */
  async upsert(db: Db, workspaceId: number, name: string, endpoint: string, spec: string, by: string, now: number): Promise<MonitorRow> {
    const r = await t(db)
      .insertInto('monitors')
      .values({ workspace_id: workspaceId, name, endpoint, spec, created_by: by, created_at: now, updated_at: now })
      .onConflict((oc) => oc.columns(['workspace_id', 'name']).doUpdateSet({ endpoint, spec, updated_at: now }))
      .returningAll()
      .executeTakeFirstOrThrow();
    return monitorRow(r);
  }

  async delete(db: Db, id: number): Promise<void> {
    await t(db).deleteFrom('monitors').where('id', '=', id).execute();
  }

  /** Every monitor that has a schedule, with its workspace's name, for the scheduler. */
  async scheduled(): Promise<Array<MonitorRow & { workspace: string }>> {
    const rows = await t(this.db).selectFrom('monitors as m').innerJoin('workspaces as w', 'w.id', 'm.workspace_id').selectAll('m').select('w.name as workspace').where(sql<boolean>`m.spec::jsonb ? 'schedule'`).orderBy('m.id').execute();
    return rows.map((r) => ({ ...monitorRow(r as MonitorRow), workspace: (r as { workspace: string }).workspace }));
  }

  /**
   * Claims cron tick `tick` of a monitor: 'taken' when this or a later tick
   * was claimed already (another worker, or before a restart), 'overlap' when
   * a scheduled run is still in progress (the tick is spent, not run),
   * else 'run' with a lease until `leaseUntil`.
   */
  async claimTick(id: number, tick: number, now: number, leaseUntil: number): Promise<'run' | 'taken' | 'overlap'> {
    return this.db.transaction().execute(async (tx) => {
      const r = await t(tx).selectFrom('monitors').select(['schedule_tick', 'schedule_running_until']).where('id', '=', id).forUpdate().executeTakeFirst();
      if (!r || (r.schedule_tick !== null && Number(r.schedule_tick) >= tick)) return 'taken';
      const overlap = r.schedule_running_until !== null && Number(r.schedule_running_until) > now;
      await t(tx).updateTable('monitors').set({ schedule_tick: tick, ...(overlap ? {} : { schedule_running_until: leaseUntil }) }).where('id', '=', id).execute();
      return overlap ? 'overlap' : 'run';
    });
  }

  async releaseTick(id: number): Promise<void> {
    await t(this.db).updateTable('monitors').set({ schedule_running_until: null }).where('id', '=', id).execute();
  }

  async addRun(db: Db, r: Omit<MonitorRunRow, 'id'>): Promise<MonitorRunRow> {
    return runRow(await t(db).insertInto('monitor_runs').values(r).returningAll().executeTakeFirstOrThrow());
  }

  async runs(monitorId: number, limit: number): Promise<MonitorRunRow[]> {
    return (await t(this.db).selectFrom('monitor_runs').selectAll().where('monitor_id', '=', monitorId).orderBy('id', 'desc').limit(limit).execute()).map(runRow);
  }

  async run(monitorId: number, id: number): Promise<MonitorRunRow | null> {
    const r = await t(this.db).selectFrom('monitor_runs').selectAll().where('monitor_id', '=', monitorId).where('id', '=', id).executeTakeFirst();
    return r ? runRow(r) : null;
  }

  /** A request's newer feedback replaces the older. */
  async writeFeedback(endpointId: number, rows: Array<{ requestId: string; value: unknown }>, at: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      for (let i = 0; i < rows.length; i += CHUNK) {
        const part = rows.slice(i, i + CHUNK).map((r) => ({ endpoint_id: endpointId, request_id: r.requestId, value: JSON.stringify(r.value), at }));
        await t(tx)
          .insertInto('endpoint_feedback')
          .values(part)
          .onConflict((oc) => oc.columns(['endpoint_id', 'request_id']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value'), at: eb.ref('excluded.at') })))
          .execute();
      }
    });
  }

  /** Deletes runs made before `before` (retention, like the captures they read), except each monitor's newest. */
  async trimRuns(before: number): Promise<void> {
    await sql`
      delete from monitor_runs r
      where r.at < ${before} and r.id < (select max(n.id) from monitor_runs n where n.monitor_id = r.monitor_id)`.execute(this.db);
  }

  /** Deletes ground truth received before `before` (retention, like captures). */
  async trimFeedback(before: number): Promise<void> {
    await t(this.db).deleteFrom('endpoint_feedback').where('at', '<', before).execute();
  }

  async feedback(endpointId: number, requestIds: string[]): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    for (let i = 0; i < requestIds.length; i += CHUNK) {
      const rows: FeedbackRow[] = await t(this.db).selectFrom('endpoint_feedback').selectAll().where('endpoint_id', '=', endpointId).where('request_id', 'in', requestIds.slice(i, i + CHUNK)).execute();
      for (const r of rows) out.set(r.request_id, JSON.parse(r.value));
    }
    return out;
  }
}
