import { sql, type Insertable, type Kysely, type Updateable } from 'kysely';
import { tables, type Db } from '../store/db.js';
import type { DeploymentRow, DeploymentTable, EndpointRow, EndpointTable, ServingTables, TrafficHistoryRow } from './tables.js';

const t = (db: Db): Kysely<ServingTables> => tables<ServingTables>(db);
/** int8 columns come back as strings on some paths; rows leave the store with numbers. */
const num = <R extends { id: unknown }>(r: R): R => ({ ...r, id: Number(r.id) });

/** SQL of endpoints, deployments, traffic history and the serving change counter. No rules here. */
export class ServingStore {
  constructor(private readonly db: Db) {}

  async endpoint(name: string, db: Db = this.db, lock = false): Promise<EndpointRow | null> {
    let q = t(db).selectFrom('endpoints').selectAll().where('name', '=', name);
    if (lock) q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r ? (num(r) as EndpointRow) : null;
  }

  async endpoints(workspaceId?: number, db: Db = this.db): Promise<EndpointRow[]> {
    let q = t(db).selectFrom('endpoints').selectAll().orderBy('name');
    if (workspaceId !== undefined) q = q.where('workspace_id', '=', workspaceId);
    return (await q.execute()).map((r) => num(r) as EndpointRow);
  }

  /** Inserts, or answers null when the name is taken on the server (also by a concurrent creator). */
  async insertEndpoint(db: Db, row: Insertable<EndpointTable>): Promise<EndpointRow | null> {
    const r = await t(db).insertInto('endpoints').values(row).onConflict((oc) => oc.column('name').doNothing()).returningAll().executeTakeFirst();
    return r ? (num(r) as EndpointRow) : null;
  }

  /** Every update bumps the endpoint's generation, so a gateway can tell what changed. */
  async updateEndpoint(db: Db, id: number, set: Updateable<EndpointTable>): Promise<void> {
    await t(db)
      .updateTable('endpoints')
      .set({ ...set, generation: sql`generation + 1` })
      .where('id', '=', id)
      .execute();
  }

  async deleteEndpoint(db: Db, id: number): Promise<void> {
    await t(db).deleteFrom('endpoints').where('id', '=', id).execute();
  }

  async deployments(endpointIds: number[], db: Db = this.db): Promise<DeploymentRow[]> {
    if (!endpointIds.length) return [];
    const rows = await t(db).selectFrom('deployments').selectAll().where('endpoint_id', 'in', endpointIds).orderBy('endpoint_id').orderBy('name').execute();
    return rows.map((r) => num(r) as DeploymentRow);
  }

  /** Deployments pinning versions of a registered model (all versions, or one). */
  async pinning(modelId: number, version?: number, db: Db = this.db): Promise<Array<{ endpoint: string; deployment: string; version: number }>> {
    let q = t(db)
      .selectFrom('deployments')
      .innerJoin('endpoints', 'endpoints.id', 'deployments.endpoint_id')
      .select(['endpoints.name as endpoint', 'deployments.name as deployment', 'deployments.model_version as version'])
      .where('deployments.model_id', '=', modelId)
      .orderBy('endpoints.name')
      .orderBy('deployments.name');
    if (version !== undefined) q = q.where('deployments.model_version', '=', version);
    return (await q.execute()).map((r) => ({ ...r, version: Number(r.version) }));
  }

  async insertDeployment(db: Db, row: Insertable<DeploymentTable>): Promise<DeploymentRow | null> {
    const r = await t(db)
      .insertInto('deployments')
      .values(row)
      .onConflict((oc) => oc.columns(['endpoint_id', 'name']).doNothing())
      .returningAll()
      .executeTakeFirst();
    return r ? (num(r) as DeploymentRow) : null;
  }

  async updateDeployment(db: Db, id: number, set: Updateable<DeploymentTable>): Promise<void> {
    await t(db).updateTable('deployments').set(set).where('id', '=', id).execute();
  }

  async deleteDeployment(db: Db, id: number): Promise<void> {
    await t(db).deleteFrom('deployments').where('id', '=', id).execute();
  }

  async addHistory(db: Db, row: Omit<TrafficHistoryRow, 'id'>): Promise<void> {
    await t(db).insertInto('traffic_history').values(row).execute();
  }

  async history(workspaceId: number, endpoint: string, limit: number, db: Db = this.db): Promise<TrafficHistoryRow[]> {
    const rows = await t(db)
      .selectFrom('traffic_history')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('endpoint', '=', endpoint)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => num(r) as TrafficHistoryRow);
  }

  /** Bumps the server-wide serving change counter; call in the transaction of every serving change. */
  async bumpVersion(db: Db): Promise<void> {
    await t(db)
      .updateTable('serving_config')
      .set({ version: sql`version + 1` })
      .where('id', '=', 1)
      .execute();
  }

  async version(db: Db = this.db): Promise<number> {
    const r = await t(db).selectFrom('serving_config').select('version').where('id', '=', 1).executeTakeFirstOrThrow();
    return Number(r.version);
  }

  async workspaceNames(ids: number[], db: Db = this.db): Promise<Map<number, string>> {
    if (!ids.length) return new Map();
    const rows = await t(db).selectFrom('workspaces').select(['id', 'name']).where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [Number(r.id), r.name]));
  }
}
