import type { Generated } from 'kysely';

/** Kysely types of the telemetry tables (migration 0006_telemetry). Timestamps are epoch ms; payloads are JSON text. */
export interface CaptureTable {
  id: Generated<number>;
  endpoint_id: number;
  deployment: string;
  model_name: string;
  model_version: number;
  request_id: string;
  at: number;
  latency_ms: number;
  status: number;
  format: string;
  /** `{columns, rows}` of a tabular request: the features monitoring reads. */
  features: string | null;
  /** Inputs by name when they are not one table. */
  inputs: string | null;
  /** Outputs by name, as nested lists; null for a failed request. */
  outputs: string | null;
}

export interface RollupTable {
  endpoint_id: number;
  deployment: string;
  /** Epoch ms of the minute's start. */
  minute: number;
  requests: number;
  errors_4xx: number;
  errors_5xx: number;
  throttled: number;
  latency_sum_ms: number;
  /** Counts per bucket of histogram.ts. */
  latency_hist: number[];
}

export interface LogTable {
  id: Generated<number>;
  endpoint_id: number;
  deployment: string;
  at: number;
  stream: string;
  line: string;
}

export interface TelemetryTables {
  endpoint_captures: CaptureTable;
  endpoint_rollups: RollupTable;
  deployment_logs: LogTable;
}

type Selected<R> = { [K in keyof R]: R[K] extends Generated<infer S> ? S : R[K] };
export type CaptureRow = Selected<CaptureTable>;
export type RollupRow = RollupTable;
export type LogRow = Selected<LogTable>;
