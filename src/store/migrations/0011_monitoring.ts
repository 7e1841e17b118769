import type { Kysely } from 'kysely';
import { runStatements } from './statements.js';

/**
 * Monitoring: monitors (one endpoint, a reference, signals; `spec` is the
 * checked document as JSON), their stored reports, and ground-truth feedback
 * per endpoint and request id. Feedback is joined to captures by request id
 * when a report is computed (a capture may be written after its feedback),
 * and a request's later feedback replaces the earlier one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    create table monitors (
      id bigint generated always as identity primary key,
      workspace_id bigint not null references workspaces(id) on delete cascade,
      name text not null,
      endpoint text not null,
      spec text not null,
      created_by text not null default '',
      created_at bigint not null,
      updated_at bigint not null,
      unique (workspace_id, name)
    );

    create table monitor_runs (
      id bigint generated always as identity primary key,
      monitor_id bigint not null references monitors(id) on delete cascade,
      at bigint not null,
      window_from bigint not null,
      window_to bigint not null,
      alerting boolean not null,
      report text not null
    );
    create index monitor_runs_by_monitor on monitor_runs (monitor_id, id);

    create table endpoint_feedback (
      endpoint_id bigint not null,
      request_id text not null,
      value text not null,
      at bigint not null,
      primary key (endpoint_id, request_id)
    );
  `);
}
