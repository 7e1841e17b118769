import type { Kysely } from 'kysely';
import { runStatements } from './statements.js';

/**
 * Online endpoints and their deployments, the history of every traffic and
 * mirror change, and one change counter the gateways poll to refresh their
 * in-memory routing. Maps (traffic, mirror, limits, capture, batching) are
 * JSON text: they are read and written whole, never queried inside.
 * Endpoint keys are stored as given so holders of endpoint.deploy can show
 * them again (as Azure ML does); the database is as sensitive as the keys.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    create table endpoints (
      id bigint generated always as identity primary key,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      name text not null unique,
      description text not null default '',
      auth text not null default 'key' check (auth in ('key', 'token')),
      primary_key text not null,
      secondary_key text not null,
      traffic text not null default '{}',
      mirror text not null default '{}',
      rate_limit text,
      capture text,
      generation bigint not null default 1,
      created_by text not null default '',
      created_at bigint not null,
      updated_at bigint not null
    );

    create table deployments (
      id bigint generated always as identity primary key,
      endpoint_id bigint not null references endpoints(id) on delete cascade,
      name text not null,
      model_ref text not null,
      model_id bigint not null,
      model_name text not null,
      model_version integer not null,
      model_digest text not null,
      storage_prefix text not null,
      model_file text not null default '',
      runtime text not null default 'onnx' check (runtime in ('onnx', 'process', 'http')),
      command text,
      url text,
      instances integer not null default 1,
      max_concurrent integer not null default 4,
      timeout_ms integer not null default 30000,
      batching text,
      state text not null default 'Pending',
      created_by text not null default '',
      created_at bigint not null,
      updated_at bigint not null,
      unique (endpoint_id, name)
    );

    create table traffic_history (
      id bigint generated always as identity primary key,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      endpoint text not null,
      at bigint not null,
      who text not null,
      reason text not null default '',
      traffic text not null,
      mirror text not null
    );
    create index traffic_history_endpoint on traffic_history (endpoint, at);

    create table serving_config (
      id integer primary key check (id = 1),
      version bigint not null
    );
    insert into serving_config (id, version) values (1, 0);
  `);
}
