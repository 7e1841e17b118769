import { sql, type Insertable, type Kysely, type Updateable } from 'kysely';
import { tables, type Db } from '../../store/db.js';
import type { PipelineRow, PipelineRunTable, PipelineStepTable, PipelineTables, RunRow, StepRow, StepState } from './tables.js';

const t = (db: Db): Kysely<PipelineTables> => tables<PipelineTables>(db);
const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));

const pipelineRow = (r: Record<string, unknown>): PipelineRow => {
  const x = r as unknown as PipelineRow;
  return { ...x, id: Number(x.id), workspace_id: Number(x.workspace_id), principal_id: Number(x.principal_id), created_at: Number(x.created_at), updated_at: Number(x.updated_at) };
};
const runRow = (r: Record<string, unknown>): RunRow => {
  const x = r as unknown as RunRow;
  return { ...x, id: Number(x.id), workspace_id: Number(x.workspace_id), pipeline_id: Number(x.pipeline_id), schedule_tick: n(x.schedule_tick), principal_id: Number(x.principal_id), advancing_until: n(x.advancing_until), created_at: Number(x.created_at), finished_at: n(x.finished_at) };
};
const stepRow = (r: Record<string, unknown>): StepRow => {
  const x = r as unknown as StepRow;
  return { ...x, run_id: Number(x.run_id), position: Number(x.position), job_id: n(x.job_id), started_at: n(x.started_at), finished_at: n(x.finished_at) };
};

/** SQL of pipelines, their runs and steps, and the step cache. No rules here. */
export class PipelineStore {
  constructor(readonly db: Db) {}

  async upsert(tx: Db, p: { workspace_id: number; name: string; spec: string; principal_id: number; created_by: string; now: number }): Promise<void> {
    await sql`insert into pipelines (workspace_id, name, spec, principal_id, created_by, created_at, updated_at)
      values (${p.workspace_id}, ${p.name}, ${p.spec}, ${p.principal_id}, ${p.created_by}, ${p.now}, ${p.now})
      on conflict (workspace_id, name) do update set spec = excluded.spec, principal_id = excluded.principal_id, created_by = excluded.created_by, updated_at = excluded.updated_at`.execute(tx);
  }

  async get(workspaceId: number, name: string, db: Db = this.db): Promise<PipelineRow | null> {
    const r = await t(db).selectFrom('pipelines').selectAll().where('workspace_id', '=', workspaceId).where('name', '=', name).executeTakeFirst();
    return r ? pipelineRow(r) : null;
  }

  async byId(id: number, db: Db = this.db): Promise<PipelineRow | null> {
    const r = await t(db).selectFrom('pipelines').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? pipelineRow(r) : null;
  }

  async list(workspaceId: number | null, db: Db = this.db): Promise<PipelineRow[]> {
    let q = t(db).selectFrom('pipelines').selectAll();
    if (workspaceId !== null) q = q.where('workspace_id', '=', workspaceId);
    return (await q.orderBy('name').execute()).map(pipelineRow);
  }

  async delete(tx: Db, id: number): Promise<void> {
    await t(tx).deleteFrom('pipelines').where('id', '=', id).execute();
  }

  /** A new run with its steps; null when a run for the same schedule tick exists (another worker fired it). */
  async insertRun(tx: Db, run: Insertable<PipelineRunTable>, steps: Array<Omit<Insertable<PipelineStepTable>, 'run_id'>>): Promise<RunRow | null> {
    const r = await t(tx).insertInto('pipeline_runs').values(run).onConflict((oc) => oc.columns(['pipeline_id', 'schedule_tick']).doNothing()).returningAll().executeTakeFirst();
    if (!r) return null;
    const row = runRow(r);
    if (steps.length) await t(tx).insertInto('pipeline_steps').values(steps.map((s) => ({ ...s, run_id: row.id }))).execute();
    return row;
  }

  async run(id: number, db: Db = this.db): Promise<RunRow | null> {
    const r = await t(db).selectFrom('pipeline_runs').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? runRow(r) : null;
  }

  async runs(pipelineId: number, limit: number, db: Db = this.db): Promise<RunRow[]> {
    return (await t(db).selectFrom('pipeline_runs').selectAll().where('pipeline_id', '=', pipelineId).orderBy('id', 'desc').limit(limit).execute()).map(runRow);
  }

  async activeRuns(db: Db = this.db): Promise<number[]> {
    return (await t(db).selectFrom('pipeline_runs').select('id').where('state', '=', 'running').orderBy('id').limit(500).execute()).map((r) => Number(r.id));
  }

  async hasActiveRun(pipelineId: number, db: Db = this.db): Promise<boolean> {
    return !!(await t(db).selectFrom('pipeline_runs').select('id').where('pipeline_id', '=', pipelineId).where('state', '=', 'running').executeTakeFirst());
  }

  /** Takes the run for one advance (no transaction held across it); false when another scheduler has it. */
  async claimRun(id: number, now: number, holdMs: number): Promise<boolean> {
    const r = await sql`update pipeline_runs set advancing_until = ${now + holdMs}
      where id = ${id} and state = 'running' and (advancing_until is null or advancing_until < ${now}) returning id`.execute(this.db);
    return r.rows.length > 0;
  }

  async releaseRun(id: number): Promise<void> {
    await t(this.db).updateTable('pipeline_runs').set({ advancing_until: null }).where('id', '=', id).execute();
  }

  async updateRun(id: number, set: Updateable<PipelineRunTable>, db: Db = this.db): Promise<void> {
    await t(db).updateTable('pipeline_runs').set(set).where('id', '=', id).execute();
  }

  /** Ends a run that is still running (a cancel that came first wins). */
  async finishRun(id: number, set: Updateable<PipelineRunTable>): Promise<void> {
    await t(this.db).updateTable('pipeline_runs').set(set).where('id', '=', id).where('state', '=', 'running').execute();
  }

  async steps(runId: number, db: Db = this.db): Promise<StepRow[]> {
    return (await t(db).selectFrom('pipeline_steps').selectAll().where('run_id', '=', runId).orderBy('position').execute()).map(stepRow);
  }

  /** Updates a step (only if it is still in state `from`, when given); whether a row changed. */
  async updateStep(runId: number, name: string, set: Updateable<PipelineStepTable>, db: Db = this.db, from?: StepState): Promise<boolean> {
    let q = t(db).updateTable('pipeline_steps').set(set).where('run_id', '=', runId).where('name', '=', name);
    if (from !== undefined) q = q.where('state', '=', from);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async cached(workspaceId: number, key: string, db: Db = this.db): Promise<string | null> {
    const r = await t(db).selectFrom('pipeline_step_cache').select('outputs').where('workspace_id', '=', workspaceId).where('cache_key', '=', key).executeTakeFirst();
    return r ? r.outputs : null;
  }

  async remember(workspaceId: number, key: string, outputs: string, jobId: number | null, now: number, db: Db = this.db): Promise<void> {
    await t(db).insertInto('pipeline_step_cache').values({ workspace_id: workspaceId, cache_key: key, outputs, job_id: jobId, created_at: now }).onConflict((oc) => oc.columns(['workspace_id', 'cache_key']).doUpdateSet({ outputs, job_id: jobId, created_at: now })).execute();
  }

  /** Whether a tracking run belongs to a step job of a run of this pipeline (a trigger must not fire on its own output). */
  async producedBy(pipelineId: number, trackingRunId: string, db: Db = this.db): Promise<boolean> {
    const r = await sql`select 1 from pipeline_steps s join pipeline_runs r on r.id = s.run_id join jobs j on j.id = s.job_id
      where r.pipeline_id = ${pipelineId} and j.run_id = ${trackingRunId} limit 1`.execute(db);
    return r.rows.length > 0;
  }
}
