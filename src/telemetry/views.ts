import { quantile } from './histogram.js';
import type { CaptureRecord } from './sink.js';
import type { CaptureRow, LogRow, RollupRow } from './tables.js';

/** A stored capture: the record a gateway wrote, with its row id (the paging cursor). */
export type CaptureView = Omit<CaptureRecord, 'endpointId'> & { id: number };

export interface MinuteView {
  /** Epoch ms of the minute's start. */
  minute: number;
  deployment: string;
  requests: number;
  errors4xx: number;
  errors5xx: number;
  throttled: number;
  latencyMeanMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export interface LogView {
  id: number;
  at: number;
  stream: string;
  line: string;
}

const parse = <T>(s: string | null) => (s === null ? null : (JSON.parse(s) as T));
const round = (ms: number | null) => (ms === null ? null : Math.round(ms * 1000) / 1000);

export function captureView(r: CaptureRow): CaptureView {
  return {
    id: r.id,
    requestId: r.request_id,
    deployment: r.deployment,
    model: { name: r.model_name, version: Number(r.model_version) },
    at: r.at,
    latencyMs: r.latency_ms,
    status: r.status,
    format: r.format,
    features: parse<CaptureRecord['features']>(r.features),
    inputs: parse<CaptureRecord['inputs']>(r.inputs),
    outputs: parse<CaptureRecord['outputs']>(r.outputs),
  };
}

/** Percentiles are computed here, from the merged histogram of every replica. */
export function minuteView(r: RollupRow): MinuteView {
  // Throttled requests never reached a model: they count as requests but not in latency.
  const timed = r.latency_hist.reduce((s, c) => s + c, 0);
  return {
    minute: r.minute,
    deployment: r.deployment,
    requests: r.requests,
    errors4xx: r.errors_4xx,
    errors5xx: r.errors_5xx,
    throttled: r.throttled,
    latencyMeanMs: timed ? round(r.latency_sum_ms / timed) : null,
    p50Ms: round(quantile(r.latency_hist, 0.5)),
    p95Ms: round(quantile(r.latency_hist, 0.95)),
    p99Ms: round(quantile(r.latency_hist, 0.99)),
  };
}

export const logView = (r: LogRow): LogView => ({ id: r.id, at: r.at, stream: r.stream, line: r.line });
