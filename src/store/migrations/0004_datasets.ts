import type { Kysely } from 'kysely';
import { runStatements } from './statements.js';

/**
 * Datasets: named, owned data assets in a workspace, and their immutable
 * versions (file, digest, row count, inferred schema). Version numbers come
 * from a counter that outlives a deleted dataset, so `datasets:/name/3`
 * never names two different files.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    create table datasets (
      id bigint generated always as identity primary key,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      name text not null,
      owner_id bigint references principals(id) on delete set null,
      source text not null default '',
      refresh_frequency text,
      description text not null default '',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (workspace_id, name)
    );

    create table dataset_versions (
      dataset_id bigint not null references datasets(id) on delete cascade,
      version integer not null check (version > 0),
      format text not null check (format in ('csv', 'jsonl', 'parquet')),
      filename text not null,
      artifact_key text not null,
      sha256 text not null,
      size_bytes bigint not null,
      row_count bigint not null,
      columns jsonb not null,
      created_by text not null,
      created_at timestamptz not null default now(),
      primary key (dataset_id, version)
    );
    create index dataset_versions_sha256 on dataset_versions (sha256);

    create table dataset_version_counters (
      workspace_id bigint not null references workspaces(id) on delete cascade,
      name text not null,
      last_version integer not null,
      primary key (workspace_id, name)
    );
  `);
}
