import type { Kysely } from 'kysely';
import { runStatements } from './statements.js';

/**
 * Endpoint telemetry written by gateways in batches: sampled request/response
 * captures (one row per request, joined later to ground-truth feedback by
 * request id, read by time window for drift), per-minute rollups (one row per
 * endpoint, deployment and minute; replicas add into the same row), and
 * deployment log lines (trimmed to the newest per deployment).
 * Rows carry the endpoint's id, not a foreign key: gateways write
 * asynchronously and a batch must not fail because an endpoint was just
 * deleted; reads go through the current endpoint row, so a recreated
 * endpoint of the same name starts empty.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    create table endpoint_captures (
      id bigint generated always as identity primary key,
      endpoint_id bigint not null,
      deployment text not null,
      model_name text not null,
      model_version integer not null,
      request_id text not null,
      at bigint not null,
      latency_ms double precision not null,
      status integer not null,
      format text not null,
      features text,
      inputs text,
      outputs text
    );
    create index endpoint_captures_window on endpoint_captures (endpoint_id, at);
    create index endpoint_captures_request on endpoint_captures (request_id);

    create table endpoint_rollups (
      endpoint_id bigint not null,
      deployment text not null,
      minute bigint not null,
      requests integer not null,
      errors_4xx integer not null,
      errors_5xx integer not null,
      throttled integer not null,
      latency_sum_ms double precision not null,
      latency_hist integer[] not null,
      primary key (endpoint_id, minute, deployment)
    );

    create table deployment_logs (
      id bigint generated always as identity primary key,
      endpoint_id bigint not null,
      deployment text not null,
      at bigint not null,
      stream text not null,
      line text not null
    );
    create index deployment_logs_by_deployment on deployment_logs (endpoint_id, deployment, id);
  `);
}
