import { sql } from 'kysely';
import { tables, type Db } from '../store/db.js';
import type { Metric, MetricWithRunId } from './model.js';
import type { TrackingTables } from './tables.js';

const t = (db: Db) => tables<TrackingTables>(db);

/** Orders points like MLflow's "latest": greatest step, then timestamp, then value (NaN above all, as in PostgreSQL). */
export function laterThan(a: Metric, b: Metric): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  if (Number.isNaN(a.value)) return !Number.isNaN(b.value);
  return !Number.isNaN(b.value) && a.value > b.value;
}

/** The latest point of each key in a batch. */
export function latestByKey(points: Metric[]): Metric[] {
  const by = new Map<string, Metric>();
  for (const p of points) {
    const cur = by.get(p.key);
    if (!cur || laterThan(p, cur)) by.set(p.key, p);
  }
  return [...by.values()];
}

/**
 * PostgreSQL array literals, built here and bound as one text parameter each:
 * the drivers' generic array serialisation (per-element type checks and
 * escaping) was the top CPU cost of a 1000-point batch. Numbers print as
 * PostgreSQL reads them (NaN included); strings are quoted and escaped.
 */
export function numberArray(xs: number[]): string {
  return `{${xs.join(',')}}`;
}

export function textArray(xs: string[]): string {
  let out = '{';
  for (let i = 0; i < xs.length; i++) {
    if (i) out += ',';
    out += '"' + xs[i].replace(/["\\]/g, '\\$&') + '"';
  }
  return out + '}';
}

/** A position in one metric's history, for keyset paging. */
export interface HistoryCursor {
  step: number;
  timestamp: number;
  value: number;
}

/**
 * Metric history. A batch goes in as one INSERT … SELECT FROM unnest(arrays):
 * five bound parameters whatever the batch size, so PostgreSQL parses and
 * plans one small statement instead of one with 5 000 placeholders.
 */
export class MetricStore {
  constructor(private readonly db: Db) {}

  async insert(tx: Db, runPk: number, points: Metric[]): Promise<void> {
    if (!points.length) return;
    const n = points.length;
    const keys = new Array<string>(n);
    const steps = new Array<number>(n);
    const stamps = new Array<number>(n);
    const values = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const p = points[i];
      keys[i] = p.key;
      steps[i] = p.step;
      stamps[i] = p.timestamp;
      values[i] = p.value;
    }
    const latest = latestByKey(points);
    // One statement (a data-modifying CTE) writes the history and the latest
    // values: one round trip per batch.
    await sql`
      with history as (
        insert into run_metrics (run_id, key, step, timestamp, value)
        select ${runPk}::bigint, u.k, u.s, u.t, u.v
        from unnest(${textArray(keys)}::text[], ${numberArray(steps)}::bigint[], ${numberArray(stamps)}::bigint[], ${numberArray(values)}::float8[]) as u(k, s, t, v)
        on conflict do nothing
      )
      insert into run_latest_metrics (run_id, key, step, timestamp, value)
      select ${runPk}::bigint, u.k, u.s, u.t, u.v
      from unnest(${textArray(latest.map((p) => p.key))}::text[], ${numberArray(latest.map((p) => p.step))}::bigint[], ${numberArray(latest.map((p) => p.timestamp))}::bigint[], ${numberArray(latest.map((p) => p.value))}::float8[]) as u(k, s, t, v)
      on conflict (run_id, key) do update set step = excluded.step, timestamp = excluded.timestamp, value = excluded.value
      where (excluded.step, excluded.timestamp, excluded.value) > (run_latest_metrics.step, run_latest_metrics.timestamp, run_latest_metrics.value)`.execute(tx);
  }

  /** One page of a metric's history in step order, after `after` (exclusive); `limit` undefined means all. */
  async history(runPk: number, key: string, after: HistoryCursor | undefined, limit: number | undefined): Promise<Metric[]> {
    let q = t(this.db).selectFrom('run_metrics').select(['step', 'timestamp', 'value']).where('run_id', '=', runPk).where('key', '=', key);
    if (after) q = q.where(sql<boolean>`(step, timestamp, value) > (${after.step}::bigint, ${after.timestamp}::bigint, ${after.value}::float8)`);
    q = q.orderBy('step').orderBy('timestamp').orderBy('value');
    if (limit !== undefined) q = q.limit(limit);
    const rows = await q.execute();
    const out = new Array<Metric>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      out[i] = { key, value: Number(r.value), timestamp: Number(r.timestamp), step: Number(r.step) };
    }
    return out;
  }

  /** Distinct steps of a metric across runs, within an optional step range. */
  async steps(runPks: number[], key: string, range?: { start: number; end: number }): Promise<number[]> {
    let q = t(this.db).selectFrom('run_metrics').select('step').distinct().where('run_id', 'in', runPks).where('key', '=', key);
    if (range) q = q.where('step', '>=', range.start).where('step', '<=', range.end);
    return (await q.orderBy('step').execute()).map((r) => Number(r.step));
  }

  /** Every point of a metric at the given steps, for each run (bulk-interval). */
  async atSteps(runs: Array<{ pk: number; runId: string }>, key: string, steps: number[]): Promise<MetricWithRunId[]> {
    if (!runs.length || !steps.length) return [];
    const byPk = new Map(runs.map((r) => [r.pk, r.runId]));
    const rows = await t(this.db)
      .selectFrom('run_metrics')
      .select(['run_id', 'step', 'timestamp', 'value'])
      .where('run_id', 'in', runs.map((r) => r.pk))
      .where('key', '=', key)
      .where('step', 'in', steps)
      .orderBy('run_id')
      .orderBy('step')
      .orderBy('timestamp')
      .execute();
    const order = new Map(runs.map((r, i) => [r.pk, i]));
    rows.sort((a, b) => order.get(Number(a.run_id))! - order.get(Number(b.run_id))!);
    return rows.map((r) => ({ runId: byPk.get(Number(r.run_id))!, key, value: Number(r.value), timestamp: Number(r.timestamp), step: Number(r.step) }));
  }
}
