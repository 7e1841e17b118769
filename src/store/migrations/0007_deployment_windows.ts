import type { Kysely } from 'kysely';
import { runStatements } from './statements.js';

/**
 * Fine-grained per-deployment stats for rollout gates: one row per endpoint,
 * deployment and 5-second bucket, which gateway replicas add into (like the
 * per-minute rollups). Live requests and mirrored (shadow) requests are
 * counted apart; mirrored ones also carry their agreement with the live
 * outputs. Rows older than a day are trimmed by the writers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    create table deployment_windows (
      endpoint_id bigint not null,
      deployment text not null,
      bucket bigint not null,
      requests integer not null,
      errors_5xx integer not null,
      latency_hist integer[] not null,
      mirror_requests integer not null,
      mirror_errors_5xx integer not null,
      mirror_latency_hist integer[] not null,
      compared integer not null,
      exact_matches integer not null,
      abs_diff_sum double precision not null,
      primary key (endpoint_id, deployment, bucket)
    );
    create index deployment_windows_age on deployment_windows (bucket);
  `);
}
