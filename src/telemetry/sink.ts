import type { WindowDelta } from './windows.js';

/**
 * What a gateway hands the store, batch by batch. The gateway builds these
 * off the request path; the sink writes a whole batch or throws.
 */
export interface CaptureRecord {
  endpointId: number;
  deployment: string;
  model: { name: string; version: number };
  requestId: string;
  at: number;
  latencyMs: number;
  status: number;
  format: string;
  features: { columns: string[]; rows: unknown[][] } | null;
  inputs: Record<string, unknown> | null;
  outputs: Record<string, unknown> | null;
}

/** Counts to add into one (endpoint, deployment, minute) row; replicas add into the same row. */
export interface RollupDelta {
  endpointId: number;
  deployment: string;
  minute: number;
  requests: number;
  errors4xx: number;
  errors5xx: number;
  throttled: number;
  latencySumMs: number;
  latencyHist: number[];
}

export type LogStream = 'event' | 'stdout' | 'stderr';

export interface LogLine {
  endpointId: number;
  deployment: string;
  at: number;
  stream: LogStream;
  line: string;
}

export interface TelemetryBatch {
  captures: CaptureRecord[];
  rollups: RollupDelta[];
  logs: LogLine[];
  /** Per-deployment 5-second buckets (windows.ts), for rollout gates. */
  windows?: WindowDelta[];
}

export interface TelemetrySink {
  write(batch: TelemetryBatch): Promise<void>;
}
