/** SQL pieces shared by the stores that add histograms into rows (per-minute rollups, deployment windows). */
import { sql, type RawBuilder } from 'kysely';

/** A histogram as a PostgreSQL array literal, bound as a parameter and cast to `integer[]` in the statement. */
export const histogramLiteral = (counts: number[]): string => `{${counts.join(',')}}`;

/**
 * The element-wise sum of a row's histogram column and the one being
 * upserted (`excluded`): every replica uses the same bucket bounds, so
 * merging is adding bucket by bucket.
 */
export function addHistograms(table: string, column: string): RawBuilder<unknown> {
  return sql.raw(`array(select coalesce(a, 0) + coalesce(b, 0) from unnest(${table}.${column}, excluded.${column}) with ordinality as u(a, b, i) order by i)`);
}
