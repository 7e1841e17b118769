/**
 * Per-deployment window stats: what rollout gates read. Gateways count live
 * and mirrored requests per endpoint, deployment and 5-second bucket; a
 * window read adds up the buckets it overlaps and takes percentiles from the
 * merged histogram. Pure: no SQL, no I/O.
 */
import { addInto, emptyHistogram, quantile } from './histogram.js';

export const WINDOW_BUCKET_MS = 5_000;
/** Buckets older than this are trimmed. */
export const WINDOW_KEPT_MS = 24 * 3_600_000;

export const bucketStart = (at: number): number => at - (at % WINDOW_BUCKET_MS);

/** Counts to add into one (endpoint, deployment, bucket) row; replicas add into the same row. */
export interface WindowDelta {
  endpointId: number;
  deployment: string;
  /** Epoch ms of the bucket's start. */
  bucket: number;
  /** Live requests answered by this deployment (mirrored ones are not here). */
  requests: number;
  errors5xx: number;
  latencyHist: number[];
  /** Requests sent to this deployment as a mirror of live traffic. */
  mirrorRequests: number;
  mirrorErrors5xx: number;
  mirrorLatencyHist: number[];
  /** Mirrored requests whose outputs were compared with the live ones (both succeeded). */
  compared: number;
  /** Of those, the ones whose every output tensor was elementwise equal. */
  exactMatches: number;
  /** Sum over compared requests of the mean absolute difference of float outputs. */
  absDiffSum: number;
}

export function emptyWindow(endpointId: number, deployment: string, bucket: number): WindowDelta {
  return {
    endpointId,
    deployment,
    bucket,
    requests: 0,
    errors5xx: 0,
    latencyHist: emptyHistogram(),
    mirrorRequests: 0,
    mirrorErrors5xx: 0,
    mirrorLatencyHist: emptyHistogram(),
    compared: 0,
    exactMatches: 0,
    absDiffSum: 0,
  };
}

/** Adds the counts of `from` into `into` (same key or not: the caller decides). */
export function mergeWindow(into: WindowDelta, from: WindowDelta): void {
  into.requests += from.requests;
  into.errors5xx += from.errors5xx;
  addInto(into.latencyHist, from.latencyHist);
  into.mirrorRequests += from.mirrorRequests;
  into.mirrorErrors5xx += from.mirrorErrors5xx;
  addInto(into.mirrorLatencyHist, from.mirrorLatencyHist);
  into.compared += from.compared;
  into.exactMatches += from.exactMatches;
  into.absDiffSum += from.absDiffSum;
}

export interface WindowStats {
  requests: number;
  errors5xx: number;
  p95Ms: number | null;
  p99Ms: number | null;
}

/** A deployment's traffic over a window: live requests, and mirrored ones with their agreement with the live outputs. */
export interface DeploymentWindow extends WindowStats {
  mirror: WindowStats & { compared: number; exactMatches: number; absDiffSum: number };
}

/** The read API's form: the window itself, and the mirror's agreement rate and mean difference (null when nothing was compared). */
export interface DeploymentWindowView extends WindowStats {
  deployment: string;
  from: number;
  to: number;
  mirror: DeploymentWindow['mirror'] & { agreement: number | null; meanAbsDiff: number | null };
}

const round = (ms: number | null) => (ms === null ? null : Math.round(ms * 1000) / 1000);

/** Adds up the buckets of a window (any order, any replica). */
export function summarise(deltas: Iterable<WindowDelta>): DeploymentWindow {
  const sum = emptyWindow(0, '', 0);
  for (const d of deltas) mergeWindow(sum, d);
  return {
    requests: sum.requests,
    errors5xx: sum.errors5xx,
    p95Ms: round(quantile(sum.latencyHist, 0.95)),
    p99Ms: round(quantile(sum.latencyHist, 0.99)),
    mirror: {
      requests: sum.mirrorRequests,
      errors5xx: sum.mirrorErrors5xx,
      p95Ms: round(quantile(sum.mirrorLatencyHist, 0.95)),
      p99Ms: round(quantile(sum.mirrorLatencyHist, 0.99)),
      compared: sum.compared,
      exactMatches: sum.exactMatches,
      absDiffSum: sum.absDiffSum,
    },
  };
}
