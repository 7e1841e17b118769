/**
 * Per-feature drift: the method chosen by type and sample size (or
 * overridden), its statistic, threshold and verdict, and histograms of both
 * samples for plotting. Numerical features are sorted once and every method
 * reads the same sorted arrays.
 */
import { categoryCounts, chiSquared } from './categorical.js';
import { binCounts, ecdfDistances, jensenShannon, normalizedWasserstein, psi, quantileEdges, std } from './distance.js';
import { ksTwoSample } from './ks.js';
import { sortedFinite } from './sort.js';

export const NUMERICAL_METHODS = ['ks', 'wasserstein', 'psi', 'jensen_shannon'] as const;
export const CATEGORICAL_METHODS = ['chi_squared', 'jensen_shannon', 'psi'] as const;
export type NumericalMethod = (typeof NUMERICAL_METHODS)[number];
export type CategoricalMethod = (typeof CATEGORICAL_METHODS)[number];
export type DriftMethod = NumericalMethod | CategoricalMethod;

/** Tests drift when p < threshold; distances when statistic >= threshold. */
export const DEFAULT_THRESHOLDS: Record<DriftMethod, number> = {
  ks: 0.05,
  chi_squared: 0.05,
  wasserstein: 0.1,
  jensen_shannon: 0.1,
  psi: 0.1,
};

/** Up to this many reference values a statistical test is used; above it a distance (tests flag trivial shifts on large samples). */
export const SMALL_SAMPLE = 1000;

export function defaultMethod(type: 'numerical' | 'categorical', referenceSize: number): DriftMethod {
  if (type === 'numerical') return referenceSize <= SMALL_SAMPLE ? 'ks' : 'wasserstein';
  return referenceSize <= SMALL_SAMPLE ? 'chi_squared' : 'jensen_shannon';
}

export const isTest = (m: DriftMethod) => m === 'ks' || m === 'chi_squared';

export interface Histogram {
  /** Inner bin edges (numerical; bins = edges + 1, outer bins open) or category names. */
  edges?: number[];
  categories?: string[];
  reference: number[];
  current: number[];
}

export interface FeatureDrift {
  name: string;
  type: 'numerical' | 'categorical';
  method: DriftMethod;
  statistic: number;
  pValue?: number;
  threshold: number;
  drifted: boolean;
  referenceCount: number;
  currentCount: number;
  histogram: Histogram;
}

export interface DriftOptions {
  method?: DriftMethod;
  threshold?: number;
}

function verdict(method: DriftMethod, statistic: number, pValue: number | undefined, threshold: number): boolean {
  return isTest(method) ? (pValue ?? 1) < threshold : statistic >= threshold;
}

/** Drift of a numerical feature; NaNs (missing values) are left out, data quality counts them. */
export function numericalDrift(name: string, reference: ArrayLike<number> | Float64Array, current: ArrayLike<number>, opts: DriftOptions = {}, refSorted?: Float64Array): FeatureDrift {
  const ref = refSorted ?? sortedFinite(reference);
  const cur = sortedFinite(current);
  const method = opts.method ?? defaultMethod('numerical', ref.length);
  if (!(NUMERICAL_METHODS as readonly string[]).includes(method)) throw new Error(`method ${method} does not apply to numerical feature ${name}`);
  const edges = quantileEdges(ref);
  const refCounts = binCounts(ref, edges);
  const curCounts = binCounts(cur, edges);
  let statistic: number;
  let pValue: number | undefined;
  if (!ref.length || !cur.length) statistic = NaN;
  else if (method === 'ks') ({ statistic, pValue } = ksTwoSample(ref, cur));
  else if (method === 'wasserstein') statistic = normalizedWasserstein(ref, cur);
  else if (method === 'psi') statistic = psi(refCounts, curCounts);
  else statistic = jensenShannon(refCounts, curCounts);
  const threshold = opts.threshold ?? DEFAULT_THRESHOLDS[method];
  return {
    name,
    type: 'numerical',
    method,
    statistic,
    ...(pValue !== undefined ? { pValue } : {}),
    threshold,
    drifted: statistic === statistic && verdict(method, statistic, pValue, threshold),
    referenceCount: ref.length,
    currentCount: cur.length,
    histogram: { edges, reference: [...refCounts], current: [...curCounts] },
  };
}

export function categoricalDrift(name: string, reference: Iterable<string>, current: Iterable<string>, opts: DriftOptions = {}): FeatureDrift {
  const counts = categoryCounts(reference, current);
  const refTotal = counts.reference.reduce((a, b) => a + b, 0);
  const curTotal = counts.current.reduce((a, b) => a + b, 0);
  const method = opts.method ?? defaultMethod('categorical', refTotal);
  if (!(CATEGORICAL_METHODS as readonly string[]).includes(method)) throw new Error(`method ${method} does not apply to categorical feature ${name}`);
  let statistic: number;
  let pValue: number | undefined;
  if (!refTotal || !curTotal) statistic = NaN;
  else if (method === 'chi_squared') ({ statistic, pValue } = chiSquared(counts.reference, counts.current));
  else if (method === 'psi') statistic = psi(counts.reference, counts.current);
  else statistic = jensenShannon(counts.reference, counts.current);
  const threshold = opts.threshold ?? DEFAULT_THRESHOLDS[method];
  return {
    name,
    type: 'categorical',
    method,
    statistic,
    ...(pValue !== undefined ? { pValue } : {}),
    threshold,
    drifted: statistic === statistic && verdict(method, statistic, pValue, threshold),
    referenceCount: refTotal,
    currentCount: curTotal,
    histogram: { categories: counts.categories, reference: [...counts.reference], current: [...counts.current] },
  };
}

/** Evidently's dataset drift: the share of drifted features against a threshold. */
export function driftedShare(features: FeatureDrift[], threshold = 0.5): { share: number; threshold: number; drifted: boolean } {
  const share = features.length ? features.filter((f) => f.drifted).length / features.length : 0;
  return { share, threshold, drifted: features.length > 0 && share >= threshold };
}

/** Every numerical method on one feature from its sorted samples (what a monitor with all methods, or the benchmark, computes). */
export function allNumerical(ref: Float64Array, cur: Float64Array): Record<NumericalMethod, number> & { ksPValue: number } {
  const merged = ecdfDistances(ref, cur);
  const ks = ksTwoSample(ref, cur, merged.ks);
  const edges = quantileEdges(ref);
  const refCounts = binCounts(ref, edges);
  const curCounts = binCounts(cur, edges);
  return {
    ks: ks.statistic,
    ksPValue: ks.pValue,
    wasserstein: normalizedWasserstein(ref, cur, std(ref), merged.wasserstein),
    psi: psi(refCounts, curCounts),
    jensen_shannon: jensenShannon(refCounts, curCounts),
  };
}
