import { sql, type Insertable, type Kysely } from 'kysely';
import { tables, type Db } from '../store/db.js';
import { runRow } from './store.js';
import type { BatchRunRow, BatchTables, MiniBatchState, MiniBatchTable } from './tables.js';

const t = (db: Db): Kysely<BatchTables> => tables<BatchTables>(db);

/** Namespace of the advisory lock that serialises mini-batch claims of one run ('btch' in ASCII). */
const CLAIM_LOCK = 0x62746368;

/** A mini-batch as a worker holds it. `attempt` and `worker` guard every later write. */
export interface ClaimedMiniBatch {
  runId: number;
  seq: number;
  attempt: number;
  firstRow: number;
  rows: unknown[][];
}

export interface MiniBatchResult {
  state: Extract<MiniBatchState, 'done' | 'failed'>;
  output: string;
  rowsFailed: number;
  error: string;
}

/**
 * The claimable work of batch runs, in SQL: a run to plan or finalize (one
 * worker at a time, under a lease), and mini-batches to score (under a
 * lease each, at most `parallelism` at once per run across all workers).
 * Every write after a claim is guarded by the claimer, so a worker whose
 * lease was taken over writes nothing.
 */
export class BatchClaims {
  constructor(readonly db: Db) {}

  /** A run waiting to be planned (queued) or written out (finalizing), not held by a live lease. */
  async claimRun(worker: string, now: number, leaseMs: number): Promise<BatchRunRow | null> {
    const r = await sql<Record<string, unknown>>`
      update batch_runs set lease_owner = ${worker}, lease_expires_at = ${now + leaseMs}, updated_at = ${now}
      where id = (
        select id from batch_runs
        where state in ('queued', 'finalizing') and (lease_expires_at is null or lease_expires_at < ${now})
        order by id limit 1
        for update skip locked)
      returning *`.execute(this.db);
    return r.rows[0] ? runRow(r.rows[0]) : null;
  }

  /** Extends a run lease this worker still holds in the given state; false when it was taken over or the run moved on. */
  async extendRun(id: number, worker: string, state: string, until: number): Promise<boolean> {
    const r = await t(this.db).updateTable('batch_runs').set({ lease_expires_at: until }).where('id', '=', id).where('lease_owner', '=', worker).where('state', '=', state as never).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Gives up a run lease this worker holds in the given state, so another worker may claim the run at once. */
  async releaseRun(id: number, worker: string, state: string): Promise<void> {
    await t(this.db).updateTable('batch_runs').set({ lease_owner: null, lease_expires_at: null }).where('id', '=', id).where('lease_owner', '=', worker).where('state', '=', state as never).execute();
  }

  /** Planning is idempotent: a re-planned run inserts the same mini-batches, and existing ones are kept. */
  async insertMiniBatches(rows: Array<Insertable<MiniBatchTable>>): Promise<void> {
    if (rows.length) await t(this.db).insertInto('batch_minibatches').values(rows).onConflict((oc) => oc.columns(['run_id', 'seq']).doNothing()).execute();
  }

  /** Ends planning: the run becomes claimable mini-batch by mini-batch (or goes straight to finalizing when empty). */
  async startRun(id: number, worker: string, plan: { totalRows: number; batches: number; columns: string[]; now: number }): Promise<boolean> {
    const r = await t(this.db)
      .updateTable('batch_runs')
      .set({ state: plan.batches ? 'running' : 'finalizing', total_rows: plan.totalRows, batches_total: plan.batches, columns: JSON.stringify(plan.columns), lease_owner: null, lease_expires_at: null, started_at: sql`coalesce(started_at, ${plan.now})`, updated_at: plan.now })
      .where('id', '=', id)
      .where('lease_owner', '=', worker)
      .where('state', '=', 'queued')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * The next mini-batch of a running run: pending, or running under an
   * expired lease (its worker died). `for update skip locked` keeps two
   * workers off one row; the advisory lock per run makes the parallelism
   * count they check exact.
   */
  async claimMiniBatch(worker: string, now: number, leaseMs: number): Promise<ClaimedMiniBatch | null> {
    return this.db.transaction().execute(async (tx) => {
      const cand = await sql<{ run_id: number; seq: number; parallelism: number }>`
        select m.run_id, m.seq, r.parallelism from batch_minibatches m join batch_runs r on r.id = m.run_id
        where r.state = 'running' and (m.state = 'pending' or (m.state = 'running' and m.lease_expires_at < ${now}))
          and (select count(*) from batch_minibatches x where x.run_id = m.run_id and x.state = 'running' and x.lease_expires_at >= ${now}) < r.parallelism
        order by m.run_id, m.seq
        limit 1
        for update of m skip locked`.execute(tx);
      const pick = cand.rows[0];
      if (!pick) return null;
      const runId = Number(pick.run_id);
      await sql`select pg_advisory_xact_lock(${CLAIM_LOCK}::int4, ${runId % 2_147_483_647}::int4)`.execute(tx);
      const busy = await sql<{ n: number }>`select count(*)::int as n from batch_minibatches where run_id = ${runId} and state = 'running' and lease_expires_at >= ${now}`.execute(tx);
      if (Number(busy.rows[0].n) >= Number(pick.parallelism)) return null;
      const m = await t(tx)
        .updateTable('batch_minibatches')
        .set({ state: 'running', attempt: sql`attempt + 1`, lease_owner: worker, lease_expires_at: now + leaseMs })
        .where('run_id', '=', runId)
        .where('seq', '=', Number(pick.seq))
        .returning(['attempt', 'first_row', 'input'])
        .executeTakeFirstOrThrow();
      return { runId, seq: Number(pick.seq), attempt: Number(m.attempt), firstRow: Number(m.first_row), rows: JSON.parse(m.input ?? '[]') as unknown[][] };
    });
  }

  async heartbeat(m: ClaimedMiniBatch, worker: string, until: number): Promise<boolean> {
    const r = await this.owned(t(this.db).updateTable('batch_minibatches').set({ lease_expires_at: until }), m, worker).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Records a mini-batch's outcome and output in the caller's transaction; false when this worker no longer holds it. */
  async complete(tx: Db, m: ClaimedMiniBatch, worker: string, res: MiniBatchResult): Promise<boolean> {
    const r = await this.owned(t(tx).updateTable('batch_minibatches').set({ state: res.state, output: res.output, rows_failed: res.rowsFailed, error: res.error, lease_owner: null, lease_expires_at: null }), m, worker).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Hands a mini-batch back after an error worth retrying (the model failed, not the rows). */
  async release(m: ClaimedMiniBatch, worker: string, error: string): Promise<void> {
    await this.owned(t(this.db).updateTable('batch_minibatches').set({ state: 'pending', error, lease_owner: null, lease_expires_at: null }), m, worker).execute();
  }

  /** The output lines of a run's mini-batches in input order, a page at a time. */
  async *outputs(runId: number, page = 20): AsyncGenerator<string> {
    for (let after = -1; ; ) {
      const rows = await t(this.db).selectFrom('batch_minibatches').select(['seq', 'output']).where('run_id', '=', runId).where('seq', '>', after).orderBy('seq').limit(page).execute();
      if (!rows.length) return;
      for (const r of rows) if (r.output) yield r.output;
      after = Number(rows[rows.length - 1].seq);
    }
  }

  /**
   * Frees the staged rows of a run that ended while it was being planned: a
   * planner inserts until it sees its lease gone, after the cancel (or failure)
   * already cleared what was there.
   */
  async clearIfEnded(runId: number): Promise<void> {
    await sql`update batch_minibatches set input = null, output = null
      where run_id = ${runId} and input is not null
        and exists (select 1 from batch_runs where id = ${runId} and state in ('succeeded', 'failed', 'cancelled'))`.execute(this.db);
  }

  async lockRun(tx: Db, id: number): Promise<BatchRunRow | null> {
    const r = await t(tx).selectFrom('batch_runs').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    return r ? runRow(r) : null;
  }

  private owned<Q extends { where: (...a: any[]) => Q }>(q: Q, m: ClaimedMiniBatch, worker: string): Q {
    return q.where('run_id', '=', m.runId).where('seq', '=', m.seq).where('attempt', '=', m.attempt).where('lease_owner', '=', worker).where('state', '=', 'running');
  }
}
