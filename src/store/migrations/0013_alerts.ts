import type { Kysely } from 'kysely';
import { runStatements } from './statements.js';

/**
 * Alerts: rules per workspace (`spec` is the checked AlertRule document as
 * JSON; `version` moves on every state change of the rule's alert, so two
 * workers deciding on the same reading commit once), the alerts they raise,
 * and silences. At most one alert per rule is open (not resolved): the
 * partial unique index is the deduplication. `actions` is the JSON list of
 * what the alert did when it fired.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    create table alert_rules (
      id bigint generated always as identity primary key,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      name text not null,
      spec text not null,
      principal_id bigint not null,
      created_by text not null,
      version integer not null default 0,
      created_at bigint not null,
      updated_at bigint not null,
      unique (workspace_id, name)
    );

    create table alerts (
      id bigint generated always as identity primary key,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      rule_id bigint not null references alert_rules(id) on delete cascade,
      rule text not null,
      state text not null,
      severity text not null,
      labels text not null,
      summary text not null,
      value double precision,
      threshold double precision,
      pending_since bigint not null,
      fired_at bigint,
      resolved_at bigint,
      acked_at bigint,
      acked_by text,
      notified_at bigint,
      acted_at bigint,
      actions text not null default '[]',
      updated_at bigint not null
    );
    create unique index alerts_one_open_per_rule on alerts (rule_id) where state <> 'resolved';
    create index alerts_by_workspace on alerts (workspace_id, id);

    create table alert_silences (
      id bigint generated always as identity primary key,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      matchers text not null,
      until bigint not null,
      comment text not null,
      created_by text not null,
      created_at bigint not null
    );
    create index alert_silences_by_workspace on alert_silences (workspace_id, until);
  `);
}
