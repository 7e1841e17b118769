import type { Kysely } from 'kysely';
import { runStatements } from './statements.js';

/**
 * Pipelines: a named DAG of steps per workspace (`spec` is the checked
 * document as JSON), its runs with what started each (`cause`), and one row
 * per step of a run pointing at the job that ran it. `schedule_tick` is
 * unique per pipeline so only one worker fires a cron tick. A succeeded
 * step's outputs are kept under its cache key for later runs to reuse, and
 * built-in step jobs leave their outputs in `job_results`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    create table pipelines (
      id bigint generated always as identity primary key,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      name text not null,
      spec text not null,
      principal_id bigint not null,
      created_by text not null,
      created_at bigint not null,
      updated_at bigint not null,
      unique (workspace_id, name)
    );

    create table pipeline_runs (
      id bigint generated always as identity primary key,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      pipeline_id bigint not null references pipelines(id) on delete cascade,
      spec text not null,
      params text not null,
      state text not null check (state in ('running', 'succeeded', 'failed', 'cancelled', 'skipped')),
      cause_kind text not null,
      cause text not null,
      schedule_tick bigint,
      principal_id bigint not null,
      created_by text not null,
      error text not null default '',
      advancing_until bigint,
      created_at bigint not null,
      finished_at bigint,
      unique (pipeline_id, schedule_tick)
    );
    create index pipeline_runs_active on pipeline_runs (id) where state = 'running';
    create index pipeline_runs_by_pipeline on pipeline_runs (pipeline_id, id desc);

    create table pipeline_steps (
      run_id bigint not null references pipeline_runs(id) on delete cascade,
      name text not null,
      position integer not null,
      uses text not null,
      state text not null check (state in ('pending', 'queued', 'running', 'succeeded', 'failed', 'cached', 'skipped')),
      job_id bigint references jobs(id) on delete set null,
      cache_key text,
      outputs text not null default '{}',
      error text not null default '',
      started_at bigint,
      finished_at bigint,
      primary key (run_id, name)
    );
    create index pipeline_steps_by_job on pipeline_steps (job_id);

    create table pipeline_step_cache (
      workspace_id bigint not null references workspaces(id) on delete cascade,
      cache_key text not null,
      outputs text not null,
      job_id bigint,
      created_at bigint not null,
      primary key (workspace_id, cache_key)
    );

    create table job_results (
      job_id bigint primary key references jobs(id) on delete cascade,
      outputs text not null
    );
  `);
}
