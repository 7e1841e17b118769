import type { Kysely } from 'kysely';
import { runStatements } from './statements.js';

/**
 * The model registry: registered models, versions with their immutable files
 * and digests, tags, aliases, and MLflow 3 logged models. Timestamps are
 * epoch milliseconds (bigint), as MLflow's wire format carries them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    create table registered_models (
      id bigint generated always as identity primary key,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      name text not null,
      description text not null default '',
      created_by text not null default '',
      created_at bigint not null,
      updated_at bigint not null,
      next_version integer not null default 1,
      unique (workspace_id, name)
    );

    create table registered_model_tags (
      model_id bigint not null references registered_models(id) on delete cascade,
      key text not null,
      value text not null,
      primary key (model_id, key)
    );

    create table model_versions (
      id bigint generated always as identity primary key,
      model_id bigint not null references registered_models(id) on delete cascade,
      version integer not null,
      description text not null default '',
      created_by text not null default '',
      created_at bigint not null,
      updated_at bigint not null,
      current_stage text not null default 'None',
      source text not null,
      run_id text not null default '',
      run_link text not null default '',
      logged_model_id text not null default '',
      status text not null default 'PENDING_REGISTRATION'
        check (status in ('PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY')),
      status_message text not null default '',
      storage_prefix text not null default '',
      digest text,
      size_bytes bigint not null default 0,
      signature text,
      unique (model_id, version)
    );
    create index model_versions_run on model_versions (run_id);

    create table model_version_tags (
      version_id bigint not null references model_versions(id) on delete cascade,
      key text not null,
      value text not null,
      primary key (version_id, key)
    );

    create table model_version_files (
      version_id bigint not null references model_versions(id) on delete cascade,
      path text not null,
      size bigint not null,
      sha256 text not null,
      primary key (version_id, path)
    );

    create table model_aliases (
      model_id bigint not null references registered_models(id) on delete cascade,
      alias text not null,
      version_id bigint not null references model_versions(id) on delete cascade,
      primary key (model_id, alias)
    );

    create table logged_models (
      id text primary key,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      experiment_id text not null,
      name text not null,
      model_type text not null default '',
      source_run_id text not null default '',
      status text not null default 'LOGGED_MODEL_PENDING',
      status_message text not null default '',
      artifact_uri text not null,
      created_at bigint not null,
      updated_at bigint not null
    );
    create index logged_models_experiment on logged_models (workspace_id, experiment_id, created_at);

    create table logged_model_tags (
      model_id text not null references logged_models(id) on delete cascade,
      key text not null,
      value text not null,
      primary key (model_id, key)
    );

    create table logged_model_params (
      model_id text not null references logged_models(id) on delete cascade,
      key text not null,
      value text not null,
      primary key (model_id, key)
    );

    -- runs/outputs: which logged models a run produced (MLflow 3).
    create table run_model_outputs (
      run_id text not null,
      model_id text not null references logged_models(id) on delete cascade,
      step bigint not null default 0,
      primary key (run_id, model_id)
    );
  `);
}
