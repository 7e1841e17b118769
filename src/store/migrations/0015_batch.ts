import type { Kysely } from 'kysely';
import { runStatements } from './statements.js';

/**
 * Batch endpoints: a model reference plus run defaults; batch runs (the
 * pinned model and input version, progress counters, usage); and their
 * mini-batches, the claimable units of work. A mini-batch holds its input
 * rows and, once done, its output lines in the same row, so its output is
 * committed with its completion mark and a reclaimed one is rewritten in
 * place, never appended twice. Both texts are cleared when the run ends.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    create table batch_endpoints (
      id bigint generated always as identity primary key,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      name text not null,
      spec text not null,
      created_by text not null default '',
      created_at bigint not null,
      updated_at bigint not null,
      unique (workspace_id, name)
    );

    create table batch_runs (
      id bigint generated always as identity primary key,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      endpoint_id bigint not null references batch_endpoints(id) on delete cascade,
      endpoint text not null,
      principal_id bigint not null,
      created_by text not null,
      job_id bigint,
      model_ref text not null,
      model_name text not null,
      model_version integer not null,
      model_digest text not null,
      model_key text not null,
      input_uri text not null,
      input_dataset text not null,
      input_version integer not null,
      input_format text not null,
      features text,
      output_dataset text not null,
      output_version integer,
      mini_batch_rows integer not null,
      parallelism integer not null,
      max_failed_rows bigint,
      max_failed_fraction double precision,
      resource_class text not null,
      state text not null,
      lease_owner text,
      lease_expires_at bigint,
      columns text,
      prediction_columns text,
      total_rows bigint,
      rows_done bigint not null default 0,
      rows_failed bigint not null default 0,
      batches_total integer,
      batches_done integer not null default 0,
      batches_failed integer not null default 0,
      failures text not null default '[]',
      error text not null default '',
      cpu_seconds double precision not null default 0,
      busy_ms bigint not null default 0,
      peak_rss_bytes bigint not null default 0,
      cost double precision not null default 0,
      created_at bigint not null,
      started_at bigint,
      finished_at bigint,
      updated_at bigint not null
    );
    create index batch_runs_by_endpoint on batch_runs (endpoint_id, id);
    create index batch_runs_by_state on batch_runs (state, id);
    create index batch_runs_by_job on batch_runs (job_id);

    create table batch_minibatches (
      run_id bigint not null references batch_runs(id) on delete cascade,
      seq integer not null,
      first_row bigint not null,
      row_count integer not null,
      state text not null,
      attempt integer not null default 0,
      lease_owner text,
      lease_expires_at bigint,
      input text,
      output text,
      rows_failed integer not null default 0,
      error text not null default '',
      primary key (run_id, seq)
    );
    create index batch_minibatches_open on batch_minibatches (run_id, state, seq);
  `);
}
