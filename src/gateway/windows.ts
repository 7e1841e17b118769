/**
 * Per-deployment 5-second window stats as one gateway accumulates them
 * between flushes: a map lookup and a few increments per request.
 */
import { bucketOf } from '../telemetry/histogram.js';
import { bucketStart, emptyWindow, mergeWindow, type WindowDelta } from '../telemetry/windows.js';

/** How a mirrored request's outputs compared with the live ones (both succeeded). */
export interface Agreement {
  exact: boolean;
  /** Mean absolute difference over float outputs (0 when there are none). */
  absDiff: number;
}

export class WindowAccumulator {
  private deltas = new Map<string, WindowDelta>();

  constructor(private readonly now: () => number) {}

  private at(endpointId: number, deployment: string, now = this.now()): WindowDelta {
    const bucket = bucketStart(now);
    const key = `${endpointId}\n${deployment}\n${bucket}`;
    let d = this.deltas.get(key);
    if (!d) this.deltas.set(key, (d = emptyWindow(endpointId, deployment, bucket)));
    return d;
  }

  /** A live request answered by `deployment` (at `now`, when the caller has read the clock already). */
  live(endpointId: number, deployment: string, status: number, latencyMs: number, now?: number): void {
    const d = this.at(endpointId, deployment, now);
    d.requests++;
    if (status >= 500) d.errors5xx++;
    d.latencyHist[bucketOf(latencyMs)]++;
  }

  /** A mirrored request to `deployment`; latency null when it never reached a model. */
  mirrored(endpointId: number, deployment: string, failed: boolean, latencyMs: number | null, agreement: Agreement | null): void {
    const d = this.at(endpointId, deployment);
    d.mirrorRequests++;
    if (failed) d.mirrorErrors5xx++;
    if (latencyMs !== null) d.mirrorLatencyHist[bucketOf(latencyMs)]++;
    if (agreement) {
      d.compared++;
      if (agreement.exact) d.exactMatches++;
      d.absDiffSum += agreement.absDiff;
    }
  }

  drain(): WindowDelta[] {
    const out = [...this.deltas.values()];
    this.deltas = new Map();
    return out;
  }

  /** Adds deltas whose write failed back, for the next flush. */
  restore(deltas: WindowDelta[]): void {
    for (const r of deltas) {
      const key = `${r.endpointId}\n${r.deployment}\n${r.bucket}`;
      const into = this.deltas.get(key);
      if (into) mergeWindow(into, r);
      else this.deltas.set(key, r);
    }
  }
}
