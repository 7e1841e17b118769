import type { Kysely } from 'kysely';
import { runStatements } from './statements.js';

/** Workspaces, principals, tokens, roles, personas, elevations and the audit chain. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    create table workspaces (
      id bigint generated always as identity primary key,
      name text not null unique,
      env text not null check (env in ('dev', 'staging', 'prod')),
      project text not null,
      description text not null default '',
      created_at timestamptz not null default now()
    );
    insert into workspaces (name, env, project, description)
      values ('default', 'dev', 'default', 'The default workspace');

    create table principals (
      id bigint generated always as identity primary key,
      name text not null unique,
      kind text not null check (kind in ('user', 'service', 'group')),
      is_admin boolean not null default false,
      source text not null default 'local',
      description text not null default '',
      created_at timestamptz not null default now()
    );

    create table group_members (
      group_id bigint not null references principals(id) on delete cascade,
      member_id bigint not null references principals(id) on delete cascade,
      primary key (group_id, member_id)
    );

    create table tokens (
      id text primary key,
      principal_id bigint not null references principals(id) on delete cascade,
      hash text not null unique,
      description text not null default '',
      created_at timestamptz not null default now(),
      expires_at timestamptz,
      revoked_at timestamptz,
      last_used_at timestamptz
    );
    create index tokens_principal on tokens (principal_id);

    create table role_assignments (
      principal_id bigint not null references principals(id) on delete cascade,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      role text not null,
      created_at timestamptz not null default now(),
      primary key (principal_id, workspace_id, role)
    );

    create table persona_bindings (
      principal_id bigint not null references principals(id) on delete cascade,
      persona text not null,
      project text not null,
      created_at timestamptz not null default now(),
      primary key (principal_id, persona, project)
    );

    create table elevations (
      id bigint generated always as identity primary key,
      principal_id bigint not null references principals(id) on delete cascade,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      role text not null,
      reason text not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null
    );
    create index elevations_lookup on elevations (principal_id, workspace_id);

    create table audit_log (
      seq bigint primary key,
      at timestamptz not null,
      principal text not null,
      action text not null,
      workspace text,
      target text,
      request_id text,
      outcome text not null,
      detail text,
      prev_hash text not null,
      hash text not null
    );
    create index audit_log_at on audit_log (at);
    create index audit_log_principal on audit_log (principal, seq);
    create index audit_log_workspace on audit_log (workspace, seq);

    -- The head row serialises appends: each writer locks it, links to its hash.
    create table audit_head (
      id int primary key check (id = 1),
      seq bigint not null,
      hash text not null
    );
    insert into audit_head (id, seq, hash) values (1, 0, repeat('0', 64));
  `);
}
