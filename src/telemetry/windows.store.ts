import { sql, type Kysely } from 'kysely';
import { tables, type Db } from '../store/db.js';
import { WINDOW_BUCKET_MS, WINDOW_KEPT_MS, type WindowDelta } from './windows.js';
import { addHistograms, histogramLiteral } from './histogram.sql.js';

/** Kysely type of deployment_windows (migration 0007). */
interface WindowTable {
  endpoint_id: number;
  deployment: string;
  bucket: number;
  requests: number;
  errors_5xx: number;
  latency_hist: number[];
  mirror_requests: number;
  mirror_errors_5xx: number;
  mirror_latency_hist: number[];
  compared: number;
  exact_matches: number;
  abs_diff_sum: number;
}

const t = (db: Db): Kysely<{ deployment_windows: WindowTable }> => tables<{ deployment_windows: WindowTable }>(db);

/** SQL of deployment_windows. No rules here. */
export class WindowStore {
  private trimmedAt = 0;

  constructor(private readonly db: Db) {}

  /** Adds deltas into their rows, sorted so concurrent replicas lock rows in the same order; trims old buckets about once a minute. */
  async write(tx: Db, deltas: readonly WindowDelta[]): Promise<void> {
    const sorted = [...deltas].sort((a, b) => a.endpointId - b.endpointId || (a.deployment < b.deployment ? -1 : a.deployment > b.deployment ? 1 : 0) || a.bucket - b.bucket);
    for (const d of sorted) await this.add(tx, d);
    const now = Date.now();
    if (sorted.length && now - this.trimmedAt > 60_000) {
      this.trimmedAt = now;
      await t(tx).deleteFrom('deployment_windows').where('bucket', '<', now - WINDOW_KEPT_MS).execute();
    }
  }

  private async add(tx: Db, d: WindowDelta): Promise<void> {
    await sql`
      insert into deployment_windows (endpoint_id, deployment, bucket, requests, errors_5xx, latency_hist,
        mirror_requests, mirror_errors_5xx, mirror_latency_hist, compared, exact_matches, abs_diff_sum)
      values (${d.endpointId}, ${d.deployment}, ${d.bucket}, ${d.requests}, ${d.errors5xx}, ${histogramLiteral(d.latencyHist)}::integer[],
        ${d.mirrorRequests}, ${d.mirrorErrors5xx}, ${histogramLiteral(d.mirrorLatencyHist)}::integer[], ${d.compared}, ${d.exactMatches}, ${d.absDiffSum})
      on conflict (endpoint_id, deployment, bucket) do update set
        requests = deployment_windows.requests + excluded.requests,
        errors_5xx = deployment_windows.errors_5xx + excluded.errors_5xx,
        latency_hist = ${addHistograms('deployment_windows', 'latency_hist')},
        mirror_requests = deployment_windows.mirror_requests + excluded.mirror_requests,
        mirror_errors_5xx = deployment_windows.mirror_errors_5xx + excluded.mirror_errors_5xx,
        mirror_latency_hist = ${addHistograms('deployment_windows', 'mirror_latency_hist')},
        compared = deployment_windows.compared + excluded.compared,
        exact_matches = deployment_windows.exact_matches + excluded.exact_matches,
        abs_diff_sum = deployment_windows.abs_diff_sum + excluded.abs_diff_sum
    `.execute(tx);
  }

  /** The buckets of one deployment overlapping [from, to). */
  async read(endpointId: number, deployment: string, from: number, to: number): Promise<WindowDelta[]> {
    const rows = await t(this.db)
      .selectFrom('deployment_windows')
      .selectAll()
      .where('endpoint_id', '=', endpointId)
      .where('deployment', '=', deployment)
      .where('bucket', '>', from - WINDOW_BUCKET_MS)
      .where('bucket', '<', to)
      .execute();
    return rows.map((r) => ({
      endpointId: Number(r.endpoint_id),
      deployment: r.deployment,
      bucket: Number(r.bucket),
      requests: r.requests,
      errors5xx: r.errors_5xx,
      latencyHist: r.latency_hist.map(Number),
      mirrorRequests: r.mirror_requests,
      mirrorErrors5xx: r.mirror_errors_5xx,
      mirrorLatencyHist: r.mirror_latency_hist.map(Number),
      compared: r.compared,
      exactMatches: r.exact_matches,
      absDiffSum: Number(r.abs_diff_sum),
    }));
  }
}
