import { sql, type Insertable, type Kysely, type Updateable } from 'kysely';
import { tables, type Db } from '../store/db.js';
import type { BatchEndpointRow, BatchEndpointTable, BatchRunRow, BatchRunTable, BatchTables } from './tables.js';

const t = (db: Db): Kysely<BatchTables> => tables<BatchTables>(db);
const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export function endpointRow(r: Record<string, unknown>): BatchEndpointRow {
  const x = r as unknown as BatchEndpointRow;
  return { ...x, id: Number(x.id), workspace_id: Number(x.workspace_id), created_at: Number(x.created_at), updated_at: Number(x.updated_at) };
}

export function runRow(r: Record<string, unknown>): BatchRunRow {
  const x = r as unknown as BatchRunRow;
  return {
    ...x,
    id: Number(x.id),
    workspace_id: Number(x.workspace_id),
    endpoint_id: Number(x.endpoint_id),
    principal_id: Number(x.principal_id),
    job_id: n(x.job_id),
    lease_expires_at: n(x.lease_expires_at),
    max_failed_rows: n(x.max_failed_rows),
    max_failed_fraction: n(x.max_failed_fraction),
    total_rows: n(x.total_rows),
    rows_done: Number(x.rows_done),
    rows_failed: Number(x.rows_failed),
    batches_total: n(x.batches_total),
    cpu_seconds: Number(x.cpu_seconds),
    busy_ms: Number(x.busy_ms),
    peak_rss_bytes: Number(x.peak_rss_bytes),
    cost: Number(x.cost),
    created_at: Number(x.created_at),
    started_at: n(x.started_at),
    finished_at: n(x.finished_at),
    updated_at: Number(x.updated_at),
  };
}

/** SQL of batch endpoints and the run rows people read. No rules here. */
export class BatchStore {
  constructor(readonly db: Db) {}

  async endpoint(workspaceId: number, name: string, db: Db = this.db, lock = false): Promise<BatchEndpointRow | null> {
    let q = t(db).selectFrom('batch_endpoints').selectAll().where('workspace_id', '=', workspaceId).where('name', '=', name);
    if (lock) q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r ? endpointRow(r) : null;
  }

  async endpoints(workspaceId: number, db: Db = this.db): Promise<BatchEndpointRow[]> {
    return (await t(db).selectFrom('batch_endpoints').selectAll().where('workspace_id', '=', workspaceId).orderBy('name').execute()).map(endpointRow);
  }

  async insertEndpoint(tx: Db, e: Insertable<BatchEndpointTable>): Promise<BatchEndpointRow> {
    return endpointRow(await t(tx).insertInto('batch_endpoints').values(e).returningAll().executeTakeFirstOrThrow());
  }

  async updateEndpoint(tx: Db, id: number, set: Updateable<BatchEndpointTable>): Promise<void> {
    await t(tx).updateTable('batch_endpoints').set(set).where('id', '=', id).execute();
  }

  async deleteEndpoint(tx: Db, id: number): Promise<void> {
    await t(tx).deleteFrom('batch_endpoints').where('id', '=', id).execute();
  }

  async insertRun(tx: Db, r: Insertable<BatchRunTable>): Promise<BatchRunRow> {
    return runRow(await t(tx).insertInto('batch_runs').values(r).returningAll().executeTakeFirstOrThrow());
  }

  async run(endpointId: number, id: number, db: Db = this.db, lock = false): Promise<BatchRunRow | null> {
    let q = t(db).selectFrom('batch_runs').selectAll().where('endpoint_id', '=', endpointId).where('id', '=', id);
    if (lock) q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r ? runRow(r) : null;
  }

  async runById(id: number, db: Db = this.db): Promise<BatchRunRow | null> {
    const r = await t(db).selectFrom('batch_runs').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? runRow(r) : null;
  }

  async runOfJob(jobId: number, db: Db = this.db): Promise<BatchRunRow | null> {
    const r = await t(db).selectFrom('batch_runs').selectAll().where('job_id', '=', jobId).orderBy('id', 'desc').executeTakeFirst();
    return r ? runRow(r) : null;
  }

  async runs(endpointId: number, limit: number, db: Db = this.db): Promise<BatchRunRow[]> {
    return (await t(db).selectFrom('batch_runs').selectAll().where('endpoint_id', '=', endpointId).orderBy('id', 'desc').limit(limit).execute()).map(runRow);
  }

  /** Runs not ended yet (queued, running, finalizing), however many ended runs are newer. */
  async activeRuns(endpointId: number, db: Db = this.db): Promise<BatchRunRow[]> {
    return (await t(db).selectFrom('batch_runs').selectAll().where('endpoint_id', '=', endpointId).where('state', 'in', ['queued', 'running', 'finalizing']).orderBy('id').execute()).map(runRow);
  }

  /** The latest run of each endpoint of a workspace, for listings. */
  async latestRuns(workspaceId: number, db: Db = this.db): Promise<BatchRunRow[]> {
    const r = await sql<Record<string, unknown>>`select distinct on (endpoint_id) * from batch_runs where workspace_id = ${workspaceId} order by endpoint_id, id desc`.execute(db);
    return r.rows.map(runRow);
  }

  /** Mini-batches being scored now (a live lease), per run. */
  async inFlight(runIds: number[], now: number, db: Db = this.db): Promise<Map<number, number>> {
    if (!runIds.length) return new Map();
    const r = await t(db)
      .selectFrom('batch_minibatches')
      .select(['run_id', sql<number>`count(*)::int`.as('n')])
      .where('run_id', 'in', runIds)
      .where('state', '=', 'running')
      .where('lease_expires_at', '>=', now)
      .groupBy('run_id')
      .execute();
    return new Map(r.map((x) => [Number(x.run_id), Number(x.n)]));
  }

  async workspaceName(id: number, db: Db = this.db): Promise<string> {
    const r = await sql<{ name: string }>`select name from workspaces where id = ${id}`.execute(db);
    return r.rows[0].name;
  }

  async updateRun(tx: Db, id: number, set: Updateable<BatchRunTable>): Promise<void> {
    await t(tx).updateTable('batch_runs').set(set).where('id', '=', id).execute();
  }

  /** Frees the staged rows and output lines of an ended run. */
  async clearWork(tx: Db, runId: number): Promise<void> {
    await t(tx).updateTable('batch_minibatches').set({ input: null, output: null, lease_owner: null, lease_expires_at: null }).where('run_id', '=', runId).execute();
  }
}
