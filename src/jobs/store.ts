import { sql, type Insertable, type Kysely, type Updateable } from 'kysely';
import { tables, type Db } from '../store/db.js';
import type { AttemptRow, JobAttemptTable, JobLogRow, JobRow, JobTable, JobTables } from './tables.js';

const t = (db: Db): Kysely<JobTables> => tables<JobTables>(db);
const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Namespace of the advisory lock that serialises claims within one workspace ('jobs' in ASCII). */
const CLAIM_LOCK = 0x6a6f6273;

function row(r: Record<string, unknown>): JobRow {
  const x = r as unknown as JobRow;
  return {
    ...x,
    id: Number(x.id),
    workspace_id: Number(x.workspace_id),
    timeout_ms: n(x.timeout_ms),
    run_after: Number(x.run_after),
    lease_expires_at: n(x.lease_expires_at),
    experiment_id: n(x.experiment_id),
    principal_id: Number(x.principal_id),
    cpu_seconds: Number(x.cpu_seconds),
    wall_ms: Number(x.wall_ms),
    peak_rss_bytes: Number(x.peak_rss_bytes),
    cost: Number(x.cost),
    created_at: Number(x.created_at),
    started_at: n(x.started_at),
    finished_at: n(x.finished_at),
    updated_at: Number(x.updated_at),
  };
}

function attemptRow(r: Record<string, unknown>): AttemptRow {
  const x = r as unknown as AttemptRow;
  return {
    ...x,
    job_id: Number(x.job_id),
    started_at: Number(x.started_at),
    finished_at: n(x.finished_at),
    cpu_seconds: Number(x.cpu_seconds),
    wall_ms: Number(x.wall_ms),
    peak_rss_bytes: Number(x.peak_rss_bytes),
    cost: Number(x.cost),
  };
}

export interface ClaimRequest {
  worker: string;
  host: string;
  now: number;
  leaseMs: number;
  workspaceLimit: number;
}

/** SQL of jobs, attempts and logs. No rules here. */
export class JobStore {
  constructor(readonly db: Db) {}

  async insert(tx: Db, j: Insertable<JobTable>): Promise<JobRow> {
    return row(await t(tx).insertInto('jobs').values(j).returningAll().executeTakeFirstOrThrow());
  }

  async get(workspaceId: number, id: number, db: Db = this.db, lock = false): Promise<JobRow | null> {
    let q = t(db).selectFrom('jobs').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id);
    if (lock) q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r ? row(r) : null;
  }

  async byId(id: number, db: Db = this.db): Promise<JobRow | null> {
    const r = await t(db).selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? row(r) : null;
  }

  async list(workspaceId: number, opts: { state?: string; limit: number }, db: Db = this.db): Promise<JobRow[]> {
    let q = t(db).selectFrom('jobs').selectAll().where('workspace_id', '=', workspaceId);
    if (opts.state) q = q.where('state', '=', opts.state as JobRow['state']);
    return (await q.orderBy('id', 'desc').limit(opts.limit).execute()).map(row);
  }

  async workspaceName(id: number, db: Db = this.db): Promise<string> {
    return (await t(db).selectFrom('workspaces').select('name').where('id', '=', id).executeTakeFirstOrThrow()).name;
  }

  /**
   * Takes the next runnable job (highest priority, then oldest) for one
   * worker: `for update skip locked` so concurrent workers never take the
   * same row, and an advisory lock per workspace so the running count it
   * checks cannot be passed by two claims at once. Null when nothing is due.
   */
  async claim(c: ClaimRequest): Promise<JobRow | null> {
    return this.db.transaction().execute(async (tx) => {
      const cand = await sql<{ id: number; workspace_id: number }>`
        select j.id, j.workspace_id from jobs j
        where j.state = 'queued' and j.run_after <= ${c.now}
          and (select count(*) from jobs r where r.workspace_id = j.workspace_id and r.state = 'running') < ${c.workspaceLimit}
        order by j.priority desc, j.id
        limit 1
        for update of j skip locked`.execute(tx);
      const pick = cand.rows[0];
      if (!pick) return null;
      await sql`select pg_advisory_xact_lock(${CLAIM_LOCK}::int4, ${Number(pick.workspace_id)}::int4)`.execute(tx);
      const running = await sql<{ n: number }>`select count(*)::int as n from jobs where workspace_id = ${Number(pick.workspace_id)} and state = 'running'`.execute(tx);
      if (Number(running.rows[0].n) >= c.workspaceLimit) return null;
      const claimed = row(
        await t(tx)
          .updateTable('jobs')
          .set({ state: 'running', attempt: sql`attempt + 1`, lease_owner: c.worker, lease_expires_at: c.now + c.leaseMs, started_at: sql`coalesce(started_at, ${c.now})`, updated_at: c.now })
          .where('id', '=', Number(pick.id))
          .returningAll()
          .executeTakeFirstOrThrow(),
      );
      await t(tx).insertInto('job_attempts').values({ job_id: claimed.id, attempt: claimed.attempt, worker: c.worker, host: c.host, pid: null, pid_start: null, started_at: c.now, finished_at: null, outcome: 'running', exit_code: null, error: '' }).execute();
      return claimed;
    });
  }

  /** Running jobs whose lease has expired, locked for this transaction (others skip them). */
  async lockExpired(tx: Db, now: number): Promise<JobRow[]> {
    const rows = await t(tx).selectFrom('jobs').selectAll().where('state', '=', 'running').where('lease_expires_at', '<', now).orderBy('id').limit(100).forUpdate().skipLocked().execute();
    return rows.map(row);
  }

  /** Extends the lease of an attempt this worker still owns; null when it does not (taken over, or finished). */
  async heartbeat(id: number, attempt: number, worker: string, until: number): Promise<{ cancel: boolean } | null> {
    const r = await t(this.db)
      .updateTable('jobs')
      .set({ lease_expires_at: until })
      .where('id', '=', id)
      .where('attempt', '=', attempt)
      .where('lease_owner', '=', worker)
      .where('state', '=', 'running')
      .returning('cancel_requested')
      .executeTakeFirst();
    return r ? { cancel: r.cancel_requested } : null;
  }

  /** The job locked for finishing an attempt, only if this worker still owns that attempt. */
  async lockOwned(tx: Db, id: number, attempt: number, worker: string): Promise<JobRow | null> {
    const r = await t(tx).selectFrom('jobs').selectAll().where('id', '=', id).where('attempt', '=', attempt).where('lease_owner', '=', worker).where('state', '=', 'running').forUpdate().executeTakeFirst();
    return r ? row(r) : null;
  }

  async update(tx: Db, id: number, set: Updateable<JobTable>): Promise<void> {
    await t(tx).updateTable('jobs').set(set).where('id', '=', id).execute();
  }

  async updateAttempt(db: Db, jobId: number, attempt: number, set: Updateable<JobAttemptTable>): Promise<void> {
    await t(db).updateTable('job_attempts').set(set).where('job_id', '=', jobId).where('attempt', '=', attempt).execute();
  }

  async attempts(jobId: number, db: Db = this.db): Promise<AttemptRow[]> {
    return (await t(db).selectFrom('job_attempts').selectAll().where('job_id', '=', jobId).orderBy('attempt').execute()).map(attemptRow);
  }

  async attempt(jobId: number, attempt: number, db: Db = this.db): Promise<AttemptRow | null> {
    const r = await t(db).selectFrom('job_attempts').selectAll().where('job_id', '=', jobId).where('attempt', '=', attempt).executeTakeFirst();
    return r ? attemptRow(r) : null;
  }

  async appendLogs(lines: Array<Omit<JobLogRow, 'id'>>, db: Db = this.db): Promise<void> {
    if (lines.length) await t(db).insertInto('job_logs').values(lines).execute();
  }

  async logs(jobId: number, after: number, limit: number, db: Db = this.db): Promise<JobLogRow[]> {
    const rows = await t(db).selectFrom('job_logs').selectAll().where('job_id', '=', jobId).where('id', '>', after).orderBy('id').limit(limit).execute();
    return rows.map((l) => ({ ...l, id: Number(l.id), job_id: Number(l.job_id), at: Number(l.at) }));
  }
}
