import { sql, type Kysely } from 'kysely';
import { tables, type Db } from '../store/db.js';
import type { TelemetryBatch } from './sink.js';
import type { CaptureRow, LogRow, RollupRow, TelemetryTables } from './tables.js';
import { addHistograms, histogramLiteral } from './histogram.sql.js';
import { WindowStore } from './windows.store.js';

const t = (db: Db): Kysely<TelemetryTables> => tables<TelemetryTables>(db);
const CHUNK = 500;
/** Log lines kept per deployment; older ones are trimmed as new ones arrive. */
export const LOG_LINES_KEPT = 1000;

const chunks = <T>(xs: T[]): T[][] => Array.from({ length: Math.ceil(xs.length / CHUNK) }, (_, i) => xs.slice(i * CHUNK, (i + 1) * CHUNK));
const json = (v: unknown) => (v === null ? null : JSON.stringify(v));

/** SQL of captures, rollups and deployment logs. No rules here. */
export class TelemetryStore {
  readonly windows: WindowStore;
  private trimmedAt = 0;

  constructor(
    private readonly db: Db,
    private readonly retentionMs = 30 * 86_400_000,
  ) {
    this.windows = new WindowStore(db);
  }

  /**
   * Deletes captures and per-minute rollups past the retention, at most
   * every ten minutes per process and outside the batch's transaction (a
   * large delete must not hold the rows the next batch adds into).
   */
  async trimOld(now = Date.now(), force = false): Promise<void> {
    if (!force && now - this.trimmedAt < 600_000) return;
    this.trimmedAt = now;
    const before = now - this.retentionMs;
    await t(this.db).deleteFrom('endpoint_captures').where('at', '<', before).execute();
    await t(this.db).deleteFrom('endpoint_rollups').where('minute', '<', before).execute();
  }

  /** One transaction per batch; rollups are sorted so concurrent replicas lock rows in the same order. */
  async write(batch: TelemetryBatch): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      for (const part of chunks(batch.captures)) {
        await t(tx)
          .insertInto('endpoint_captures')
          .values(
            part.map((c) => ({
              endpoint_id: c.endpointId,
              deployment: c.deployment,
              model_name: c.model.name,
              model_version: c.model.version,
              request_id: c.requestId,
              at: c.at,
              latency_ms: c.latencyMs,
              status: c.status,
              format: c.format,
              features: json(c.features),
              inputs: json(c.inputs),
              outputs: json(c.outputs),
            })),
          )
          .execute();
      }
      const rollups = [...batch.rollups].sort((a, b) => a.endpointId - b.endpointId || a.minute - b.minute || (a.deployment < b.deployment ? -1 : a.deployment > b.deployment ? 1 : 0));
      for (const r of rollups) await this.addRollup(tx, r);
      await this.windows.write(tx, batch.windows ?? []);
      for (const part of chunks(batch.logs)) {
        await t(tx)
          .insertInto('deployment_logs')
          .values(part.map((l) => ({ endpoint_id: l.endpointId, deployment: l.deployment, at: l.at, stream: l.stream, line: l.line })))
          .execute();
      }
      const touched = new Map(batch.logs.map((l) => [`${l.endpointId}/${l.deployment}`, l]));
      for (const l of touched.values()) await this.trimLogs(tx, l.endpointId, l.deployment);
    });
  }

  /** Adds counts and histogram buckets into the minute's row (created by whichever replica comes first). */
  private async addRollup(tx: Db, r: TelemetryBatch['rollups'][number]): Promise<void> {
    await sql`
      insert into endpoint_rollups (endpoint_id, deployment, minute, requests, errors_4xx, errors_5xx, throttled, latency_sum_ms, latency_hist)
      values (${r.endpointId}, ${r.deployment}, ${r.minute}, ${r.requests}, ${r.errors4xx}, ${r.errors5xx}, ${r.throttled}, ${r.latencySumMs}, ${histogramLiteral(r.latencyHist)}::integer[])
      on conflict (endpoint_id, minute, deployment) do update set
        requests = endpoint_rollups.requests + excluded.requests,
        errors_4xx = endpoint_rollups.errors_4xx + excluded.errors_4xx,
        errors_5xx = endpoint_rollups.errors_5xx + excluded.errors_5xx,
        throttled = endpoint_rollups.throttled + excluded.throttled,
        latency_sum_ms = endpoint_rollups.latency_sum_ms + excluded.latency_sum_ms,
        latency_hist = ${addHistograms('endpoint_rollups', 'latency_hist')}
    `.execute(tx);
  }

  private async trimLogs(tx: Db, endpointId: number, deployment: string): Promise<void> {
    await sql`
      delete from deployment_logs where endpoint_id = ${endpointId} and deployment = ${deployment} and id <= (
        select id from deployment_logs where endpoint_id = ${endpointId} and deployment = ${deployment}
        order by id desc offset ${LOG_LINES_KEPT} limit 1)
    `.execute(tx);
  }

  /**
   * Captures of a window in the order they were written; `afterId` pages on.
   * Ordered by id alone: `at` is when a request started and a slow one is
   * written after faster later ones, so paging by id over an `at` order
   * would skip or repeat rows.
   */
  async captures(endpointId: number, q: { from: number; to: number; limit: number; afterId?: number }): Promise<CaptureRow[]> {
    let query = t(this.db)
      .selectFrom('endpoint_captures')
      .selectAll()
      .where('endpoint_id', '=', endpointId)
      .where('at', '>=', q.from)
      .where('at', '<', q.to)
      .orderBy('id')
      .limit(q.limit);
    if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
    return (await query.execute()).map((r) => ({ ...r, id: Number(r.id), endpoint_id: Number(r.endpoint_id), at: Number(r.at) }));
  }

  /** Captures by request id (ground-truth feedback joins on it). */
  async capturesByRequest(endpointId: number, requestIds: string[]): Promise<CaptureRow[]> {
    if (!requestIds.length) return [];
    const rows = await t(this.db).selectFrom('endpoint_captures').selectAll().where('endpoint_id', '=', endpointId).where('request_id', 'in', requestIds).orderBy('id').execute();
    return rows.map((r) => ({ ...r, id: Number(r.id), endpoint_id: Number(r.endpoint_id), at: Number(r.at) }));
  }

  async rollups(endpointId: number, from: number, to: number, deployment?: string): Promise<RollupRow[]> {
    let query = t(this.db)
      .selectFrom('endpoint_rollups')
      .selectAll()
      .where('endpoint_id', '=', endpointId)
      .where('minute', '>=', from)
      .where('minute', '<', to)
      .orderBy('minute')
      .orderBy('deployment');
    if (deployment !== undefined) query = query.where('deployment', '=', deployment);
    return (await query.execute()).map((r) => ({ ...r, endpoint_id: Number(r.endpoint_id), minute: Number(r.minute), latency_hist: r.latency_hist.map(Number) }));
  }

  /** The newest `limit` lines (or those after `afterId`), oldest first. */
  async logs(endpointId: number, deployment: string, q: { since?: number; afterId?: number; limit: number }): Promise<LogRow[]> {
    let query = t(this.db).selectFrom('deployment_logs').selectAll().where('endpoint_id', '=', endpointId).where('deployment', '=', deployment);
    if (q.since !== undefined) query = query.where('at', '>=', q.since);
    if (q.afterId !== undefined) query = query.where('id', '>', q.afterId).orderBy('id').limit(q.limit);
    else query = query.orderBy('id', 'desc').limit(q.limit);
    const rows = (await query.execute()).map((r) => ({ ...r, id: Number(r.id), endpoint_id: Number(r.endpoint_id), at: Number(r.at) }));
    return q.afterId !== undefined ? rows : rows.reverse();
  }
}
