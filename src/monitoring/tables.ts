import type { Generated } from 'kysely';

/** Kysely types of the monitoring tables (migration 0011_monitoring). Timestamps are epoch ms; spec, report and value are JSON text. */
export interface MonitorTable {
  id: Generated<number>;
  workspace_id: number;
  name: string;
  endpoint: string;
  spec: string;
  created_by: string;
  created_at: number;
  updated_at: number;
  /** The last cron tick claimed by a scheduler (migration 0014): never run twice. */
  schedule_tick: Generated<number | null>;
  /** While a scheduled run is in progress: when its claim lapses. */
  schedule_running_until: Generated<number | null>;
}

export interface MonitorRunTable {
  id: Generated<number>;
  monitor_id: number;
  at: number;
  window_from: number;
  window_to: number;
  /** Some signal crossed its threshold. */
  alerting: boolean;
  report: string;
  /** 'manual' (API, CLI) or 'schedule' (the monitor's cron). */
  cause: 'manual' | 'schedule';
  schedule_tick: number | null;
}

export interface FeedbackTable {
  endpoint_id: number;
  request_id: string;
  /** The label or value, as JSON. */
  value: string;
  at: number;
}

export interface MonitoringTables {
  monitors: MonitorTable;
  monitor_runs: MonitorRunTable;
  endpoint_feedback: FeedbackTable;
}

type Selected<R> = { [K in keyof R]: R[K] extends Generated<infer S> ? S : R[K] };
export type MonitorRow = Selected<MonitorTable>;
export type MonitorRunRow = Selected<MonitorRunTable>;
export type FeedbackRow = FeedbackTable;
