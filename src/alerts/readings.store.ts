import { sql } from 'kysely';
import type { Db } from '../store/db.js';

/**
 * The reads of other domains' tables an evaluation needs and their services
 * do not offer without a caller: failed jobs of a workspace (optionally of
 * one pipeline's runs) in a window. Read-only.
 */
export class ReadingsStore {
  constructor(private readonly db: Db) {}

  /** Failed jobs finished in [from, to): how many and the newest one. */
  async failedJobs(workspaceId: number, from: number, to: number, pipeline?: string): Promise<{ count: number; newest: { id: number; name: string; error: string } | null }> {
    const byPipeline = pipeline === undefined
      ? sql``
      : sql`and j.id in (select s.job_id from pipeline_steps s join pipeline_runs r on r.id = s.run_id join pipelines p on p.id = r.pipeline_id where p.workspace_id = ${workspaceId} and p.name = ${pipeline} and s.job_id is not null)`;
    const { rows } = await sql<{ id: number; name: string; error: string; count: number }>`
      select j.id, j.name, j.error, count(*) over () as count from jobs j
      where j.workspace_id = ${workspaceId} and j.state = 'failed' and j.finished_at >= ${from} and j.finished_at < ${to} ${byPipeline}
      order by j.finished_at desc limit 1`.execute(this.db);
    const r = rows[0];
    return r ? { count: Number(r.count), newest: { id: Number(r.id), name: r.name, error: r.error } } : { count: 0, newest: null };
  }
}
