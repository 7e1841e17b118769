/**
 * Distances between two numerical samples, all read from sorted arrays.
 */
import { countAtMost, quantileSorted } from './sort.js';

/**
 * One merge pass over two sorted samples: the KS statistic max |F1 − F2| and
 * scipy.stats.wasserstein_distance ∫|F1 − F2|, both over the pooled values.
 */
export function ecdfDistances(a: Float64Array, b: Float64Array): { ks: number; wasserstein: number } {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let sum = 0;
  let prev = NaN;
  let diff = 0;
  let max = 0;
  let min = 0;
  while (i < n1 || j < n2) {
    const x = j >= n2 || (i < n1 && a[i] <= b[j]) ? a[i] : b[j];
    if (prev === prev) sum += Math.abs(diff) * (x - prev);
    while (i < n1 && a[i] <= x) i++;
    while (j < n2 && b[j] <= x) j++;
    diff = i / n1 - j / n2;
    if (diff > max) max = diff;
    if (diff < min) min = diff;
    prev = x;
  }
  return { ks: Math.max(max, Math.min(1, -min)), wasserstein: sum };
}

/** scipy.stats.wasserstein_distance of two sorted samples. */
export const wasserstein = (a: Float64Array, b: Float64Array): number => ecdfDistances(a, b).wasserstein;

/** Population standard deviation (numpy std, ddof=0), two-pass. */
export function std(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const mean = s / a.length;
  let ss = 0;
  for (let i = 0; i < a.length; i++) ss += (a[i] - mean) ** 2;
  return Math.sqrt(ss / a.length);
}

/**
 * Wasserstein-1 divided by the reference's population standard deviation,
 * as Evidently's wasserstein_distance_norm (Azure ML's "normalized
 * Wasserstein"): unit-free, so one threshold (0.1) fits every feature.
 * A constant reference gives 0 when the distance is 0, else Infinity.
 */
export function normalizedWasserstein(ref: Float64Array, cur: Float64Array, refStd = std(ref), w = wasserstein(ref, cur)): number {
  return refStd > 0 ? w / refStd : w === 0 ? 0 : Infinity;
}

export const DEFAULT_BINS = 10;

/**
 * Bin edges from the reference's quantiles (numpy.quantile, linear) at
 * k/bins, duplicates removed; the outer edges are open (-∞, +∞), so a value
 * lands in bin i when edges[i-1] < v <= edges[i].
 */
export function quantileEdges(refSorted: Float64Array, bins = DEFAULT_BINS): number[] {
  const inner: number[] = [];
  for (let k = 1; k < bins; k++) {
    const q = quantileSorted(refSorted, k / bins);
    if (!inner.length || q > inner[inner.length - 1]) inner.push(q);
  }
  return inner;
}

/** Counts per bin of a sorted sample against inner edges (bins = edges + 1). */
export function binCounts(sorted: Float64Array, inner: number[]): Float64Array {
  const counts = new Float64Array(inner.length + 1);
  let prev = 0;
  for (let k = 0; k < inner.length; k++) {
    const c = countAtMost(sorted, inner[k]);
    counts[k] = c - prev;
    prev = c;
  }
  counts[inner.length] = sorted.length - prev;
  return counts;
}

/** Empty bins get this share in PSI, so the log stays finite (Evidently's choice). */
export const PSI_EPSILON = 1e-4;

/** Population stability index Σ (c − r)·ln(c / r) of two count vectors. */
export function psi(refCounts: ArrayLike<number>, curCounts: ArrayLike<number>): number {
  const rt = total(refCounts);
  const ct = total(curCounts);
  let s = 0;
  for (let i = 0; i < refCounts.length; i++) {
    const r = refCounts[i] / rt || PSI_EPSILON;
    const c = curCounts[i] / ct || PSI_EPSILON;
    s += (c - r) * Math.log(c / r);
  }
  return s;
}

/** scipy.spatial.distance.jensenshannon(p, q, base=2): the square root of the JS divergence, in [0, 1]. */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>): number {
  const pt = total(p);
  const qt = total(q);
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i] / pt;
    const qi = q[i] / qt;
    const m = (pi + qi) / 2;
    if (pi > 0) s += pi * Math.log(pi / m);
    if (qi > 0) s += qi * Math.log(qi / m);
  }
  return Math.sqrt(Math.max(0, s / 2 / Math.LN2));
}

function total(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s;
}
