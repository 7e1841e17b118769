import type { Kysely } from 'kysely';
import { runStatements } from './statements.js';

/**
 * The job queue. A job is claimed by one worker at a time (`lease_owner`
 * until `lease_expires_at`, pushed forward by heartbeats); a lease left to
 * expire hands the job to another worker. `attempt` counts starts,
 * `failures` the attempts that failed (what retries are counted against).
 * `job_attempts` is each start's record (worker, host and pid so a dead
 * worker's orphan can be found, outcome, usage, price); `job_logs` the
 * stdout/stderr lines as they came, bounded per attempt by the worker.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    create table jobs (
      id bigint generated always as identity primary key,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      name text not null,
      kind text not null,
      spec text not null,
      state text not null check (state in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
      priority integer not null default 0,
      max_retries integer not null default 0,
      timeout_ms bigint,
      resource_class text not null,
      attempt integer not null default 0,
      failures integer not null default 0,
      run_after bigint not null,
      lease_owner text,
      lease_expires_at bigint,
      cancel_requested boolean not null default false,
      exit_code integer,
      error text not null default '',
      experiment_id bigint,
      run_id text,
      principal_id bigint not null,
      created_by text not null,
      cpu_seconds double precision not null default 0,
      wall_ms bigint not null default 0,
      peak_rss_bytes bigint not null default 0,
      cost double precision not null default 0,
      created_at bigint not null,
      started_at bigint,
      finished_at bigint,
      updated_at bigint not null
    );
    create index jobs_claimable on jobs (priority desc, id) where state = 'queued';
    create index jobs_running on jobs (workspace_id) where state = 'running';
    create index jobs_by_workspace on jobs (workspace_id, id desc);

    create table job_attempts (
      job_id bigint not null references jobs(id) on delete cascade,
      attempt integer not null,
      worker text not null,
      host text not null,
      pid integer,
      pid_start text,
      started_at bigint not null,
      finished_at bigint,
      outcome text not null,
      exit_code integer,
      error text not null default '',
      cpu_seconds double precision not null default 0,
      wall_ms bigint not null default 0,
      peak_rss_bytes bigint not null default 0,
      cost double precision not null default 0,
      primary key (job_id, attempt)
    );

    create table job_logs (
      id bigint generated always as identity primary key,
      job_id bigint not null references jobs(id) on delete cascade,
      attempt integer not null,
      at bigint not null,
      stream text not null,
      line text not null
    );
    create index job_logs_by_job on job_logs (job_id, id);
  `);
}
