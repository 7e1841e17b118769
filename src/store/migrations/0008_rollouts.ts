import type { Kysely } from 'kysely';
import { runStatements } from './statements.js';

/**
 * Rollouts: one endpoint's change from a stable to a candidate deployment by
 * planned steps with gates. All controller state is here (current step, when
 * it started, time paused, gate readings) so a restarted worker resumes where
 * the last one stood; `version` lets a worker apply a decision only to the row
 * it read. Events are the rollout's own log (step started, gate failed...).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    create table rollouts (
      id bigint generated always as identity primary key,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      name text not null,
      endpoint text not null,
      endpoint_id bigint not null,
      candidate text not null,
      stable text,
      steps text not null,
      retire_stable boolean not null default false,
      drain_ms bigint not null,
      state text not null check (state in ('pending', 'running', 'paused', 'succeeded', 'rolled_back', 'aborted')),
      step integer not null default 0,
      step_started_at bigint,
      paused_ms bigint not null default 0,
      paused_at bigint,
      reason text not null default '',
      readings text,
      retire_at bigint,
      version bigint not null default 1,
      created_by text not null default '',
      created_at bigint not null,
      updated_at bigint not null,
      unique (workspace_id, name)
    );
    create index rollouts_active on rollouts (state);

    create table rollout_events (
      id bigint generated always as identity primary key,
      rollout_id bigint not null references rollouts(id) on delete cascade,
      at bigint not null,
      kind text not null,
      message text not null
    );
    create index rollout_events_by_rollout on rollout_events (rollout_id, id);
  `);
}
