/**
 * Categorical samples as counts over the union of both samples' categories.
 */
import { chi2Sf } from './gamma.js';

export interface CategoryCounts {
  categories: string[];
  reference: Float64Array;
  current: Float64Array;
}

/** Counts of each category in both samples, categories in first-seen order (reference first). */
export function categoryCounts(reference: Iterable<string>, current: Iterable<string>): CategoryCounts {
  const index = new Map<string, number>();
  const ref: number[] = [];
  const cur: number[] = [];
  const slot = (v: string) => {
    let i = index.get(v);
    if (i === undefined) {
      i = index.size;
      index.set(v, i);
      ref.push(0);
      cur.push(0);
    }
    return i;
  };
  for (const v of reference) ref[slot(v)]++;
  for (const v of current) cur[slot(v)]++;
  return { categories: [...index.keys()], reference: Float64Array.from(ref), current: Float64Array.from(cur) };
}

export interface ChiSquaredResult {
  statistic: number;
  pValue: number;
  dof: number;
}

/**
 * scipy.stats.chisquare(current, f_exp): current counts against the
 * reference's proportions scaled to the current total, k − 1 degrees of
 * freedom. A category the reference never saw expects 0 and makes the
 * statistic infinite (p = 0): the current data has something new.
 */
export function chiSquared(refCounts: ArrayLike<number>, curCounts: ArrayLike<number>): ChiSquaredResult {
  let rt = 0;
  let ct = 0;
  for (let i = 0; i < refCounts.length; i++) {
    rt += refCounts[i];
    ct += curCounts[i];
  }
  let stat = 0;
  for (let i = 0; i < refCounts.length; i++) {
    const expected = (refCounts[i] / rt) * ct;
    const d = curCounts[i] - expected;
    if (expected === 0) stat += d === 0 ? 0 : Infinity;
    else stat += (d * d) / expected;
  }
  const dof = refCounts.length - 1;
  return { statistic: stat, pValue: dof > 0 ? chi2Sf(stat, dof) : 1, dof };
}
