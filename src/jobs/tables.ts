import type { Generated } from 'kysely';
import type { JobState } from './schema.js';

/** Kysely types of the job tables (migration 0009_jobs). Timestamps are epoch ms; spec is JSON text. */
export interface JobTable {
  id: Generated<number>;
  workspace_id: number;
  name: string;
  kind: string;
  /** The checked JobSpec as JSON. */
  spec: string;
  state: JobState;
  priority: number;
  max_retries: number;
  timeout_ms: number | null;
  resource_class: string;
  /** Attempts started so far. */
  attempt: Generated<number>;
  /** Attempts that failed (exit code, timeout, setup error): retries are counted against these. */
  failures: Generated<number>;
  /** A queued job is not claimed before this (retry backoff). */
  run_after: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  cancel_requested: Generated<boolean>;
  exit_code: number | null;
  error: Generated<string>;
  experiment_id: number | null;
  run_id: string | null;
  /** Who submitted it: the job runs with this principal's rights. */
  principal_id: number;
  created_by: string;
  cpu_seconds: Generated<number>;
  wall_ms: Generated<number>;
  peak_rss_bytes: Generated<number>;
  cost: Generated<number>;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

export type AttemptOutcome = 'running' | 'succeeded' | 'failed' | 'timeout' | 'cancelled' | 'lost' | 'released';

export interface JobAttemptTable {
  job_id: number;
  attempt: number;
  worker: string;
  host: string;
  pid: number | null;
  /** /proc start time of pid, so a recycled pid is never taken for the job's. */
  pid_start: string | null;
  started_at: number;
  finished_at: number | null;
  outcome: AttemptOutcome;
  exit_code: number | null;
  error: string;
  cpu_seconds: Generated<number>;
  wall_ms: Generated<number>;
  peak_rss_bytes: Generated<number>;
  cost: Generated<number>;
}

export interface JobLogTable {
  id: Generated<number>;
  job_id: number;
  attempt: number;
  at: number;
  stream: string;
  line: string;
}

export interface JobTables {
  jobs: JobTable;
  job_attempts: JobAttemptTable;
  job_logs: JobLogTable;
  workspaces: { id: number; name: string };
}

type Selected<R> = { [K in keyof R]: R[K] extends Generated<infer S> ? S : R[K] };
export type JobRow = Selected<JobTable>;
export type AttemptRow = Selected<JobAttemptTable>;
export type JobLogRow = Selected<JobLogTable>;

/** Usage of one attempt as the worker measured it. */
export interface Usage {
  cpuSeconds: number;
  wallMs: number;
  peakRssBytes: number;
  cost: number;
}
