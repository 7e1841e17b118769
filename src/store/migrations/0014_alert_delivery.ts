import type { Kysely } from 'kysely';
import { runStatements } from './statements.js';

/**
 * Alert notification channels and their outbox, and monitor schedules.
 *
 * `alert_deliveries` is the outbox: the evaluator inserts one row per channel
 * in the transaction that records an alert's state change, so a notification
 * exists exactly when the change commits. Delivery workers claim due rows
 * (`next_attempt_at` doubles as the claim's lease) and log every attempt in
 * `alert_delivery_attempts`. No foreign key to alerts: a delivery outlives
 * nothing it needs, and test notifications have no alert.
 *
 * `monitors.schedule_tick` is the last cron tick claimed for a monitor (a
 * restarted worker never runs it again) and `schedule_running_until` the
 * lease of the scheduled run in progress (ticks meanwhile are skipped).
 * Ground-truth feedback is trimmed by age like captures, hence its index.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    create table alert_channels (
      id bigint generated always as identity primary key,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      name text not null,
      type text not null,
      url text not null,
      secret text,
      created_by text not null default '',
      created_at bigint not null,
      updated_at bigint not null,
      unique (workspace_id, name)
    );

    create table alert_deliveries (
      id bigint generated always as identity primary key,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      channel_id bigint references alert_channels(id) on delete set null,
      channel text not null,
      alert_id bigint,
      test boolean not null default false,
      notification text not null,
      state text not null,
      attempts integer not null default 0,
      next_attempt_at bigint not null,
      error text not null default '',
      created_at bigint not null,
      finished_at bigint
    );
    create index alert_deliveries_due on alert_deliveries (next_attempt_at) where state = 'pending';
    create index alert_deliveries_by_alert on alert_deliveries (workspace_id, alert_id, id);

    create table alert_delivery_attempts (
      delivery_id bigint not null references alert_deliveries(id) on delete cascade,
      attempt integer not null,
      at bigint not null,
      status_code integer,
      error text not null default '',
      duration_ms integer not null,
      retry_in_ms integer,
      primary key (delivery_id, attempt)
    );

    alter table monitors add column schedule_tick bigint;
    alter table monitors add column schedule_running_until bigint;
    alter table monitor_runs add column cause text not null default 'manual';
    alter table monitor_runs add column schedule_tick bigint;
    create index endpoint_feedback_age on endpoint_feedback (at);
  `);
}
