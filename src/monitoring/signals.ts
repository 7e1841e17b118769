/**
 * The signals of a monitor run, each from a reference and a current sample:
 * drift of features or outputs, data quality, model performance from
 * feedback (or estimated), freshness of the served model.
 */
import { categories, featureType, isMissing, numbers, type FeatureType, type Sample } from './data.js';
import { classification, estimatedClassification, regression, type Classification } from './performance.js';
import type { MonitorSpec } from './schema.js';
import { categoricalDrift, driftedShare, numericalDrift, type DriftMethod, type FeatureDrift } from './stats/drift.js';
import { sortedFinite } from './stats/sort.js';

export interface DriftSignal {
  features: FeatureDrift[];
  share: number;
  threshold: number;
  drifted: boolean;
  /** Current columns the reference lacks (not compared). */
  unmatched: string[];
}

function typeOf(spec: MonitorSpec, ref: Sample, name: string): FeatureType {
  return spec.features?.[name]?.type ?? featureType(ref, name);
}

/** Drift of every column present in both samples (outputs for prediction drift). */
export function drift(spec: MonitorSpec, ref: Sample, cur: Sample): DriftSignal {
  const features: FeatureDrift[] = [];
  const unmatched: string[] = [];
  for (const [name, col] of cur.columns) {
    const refCol = ref.columns.get(name);
    if (!refCol) {
      unmatched.push(name);
      continue;
    }
    const type = typeOf(spec, ref, name);
    const override = spec.features?.[name] ?? {};
    const method = (override.method ?? (type === 'numerical' ? spec.methods?.numerical : spec.methods?.categorical)) as DriftMethod | undefined;
    const opts = { method, threshold: override.threshold };
    features.push(type === 'numerical' ? numericalDrift(name, numbers(refCol), numbers(col), opts) : categoricalDrift(name, categories(refCol), categories(col), opts));
  }
  return { features, ...driftedShare(features, spec.driftShare ?? 0.5), unmatched };
}

export const QUALITY_DEFAULTS = { nullRate: 0.05, typeErrorRate: 0.01, outOfRangeRate: 0.05 };

export interface FeatureQuality {
  name: string;
  type: FeatureType;
  rows: number;
  nullRate: number;
  typeErrorRate: number;
  outOfRangeRate: number;
  /** Reference bounds (numerical) the out-of-range rate is measured against. */
  range?: [number, number];
  violations: string[];
}

export interface QualitySignal {
  thresholds: typeof QUALITY_DEFAULTS;
  features: FeatureQuality[];
  violated: boolean;
}

/**
 * Null rate (missing cells), type-error rate (non-numbers in a numerical
 * feature) and out-of-range rate (outside the reference's [min, max], or a
 * category the reference never had), each over the current rows.
 */
export function quality(spec: MonitorSpec, ref: Sample, cur: Sample): QualitySignal {
  const thresholds = { ...QUALITY_DEFAULTS, ...spec.quality };
  const features: FeatureQuality[] = [];
  for (const [name, col] of cur.columns) {
    const refCol = ref.columns.get(name);
    if (!refCol) continue;
    const type = typeOf(spec, ref, name);
    let nulls = 0;
    let typeErrors = 0;
    let outOfRange = 0;
    let range: [number, number] | undefined;
    if (type === 'numerical') {
      const sorted = sortedFinite(numbers(refCol));
      range = sorted.length ? [sorted[0], sorted[sorted.length - 1]] : undefined;
      for (const v of col) {
        if (isMissing(v)) nulls++;
        else {
          const x = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
          if (!Number.isFinite(x)) typeErrors++;
          else if (range && (x < range[0] || x > range[1])) outOfRange++;
        }
      }
    } else {
      const known = new Set(categories(refCol));
      for (const v of col) {
        if (isMissing(v)) nulls++;
        else if (!known.has(typeof v === 'string' ? v : JSON.stringify(v))) outOfRange++;
      }
    }
    const rows = col.length || 1;
    const f: FeatureQuality = { name, type, rows: col.length, nullRate: nulls / rows, typeErrorRate: typeErrors / rows, outOfRangeRate: outOfRange / rows, ...(range ? { range } : {}), violations: [] };
    for (const k of ['nullRate', 'typeErrorRate', 'outOfRangeRate'] as const) if (f[k] > thresholds[k]) f.violations.push(k);
    features.push(f);
  }
  return { thresholds, features, violated: features.some((f) => f.violations.length > 0) };
}

export interface PerformanceSignal {
  task: 'classification' | 'regression';
  output: string | null;
  labelled: number;
  rows: number;
  metrics: Partial<Classification> & { mae?: number; rmse?: number };
  /** CBPE estimate over all current rows (binary classifiers, scores in [0, 1]). */
  estimated?: Omit<Classification, 'rocAuc'> & { estimate: true };
  breaches: string[];
  violated: boolean;
}

const LABEL_TRUE = new Set(['1', 'true', 'yes', 'positive']);
function binaryLabel(v: unknown): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v === 1 ? 1 : 0;
  return LABEL_TRUE.has(String(v).toLowerCase()) ? 1 : 0;
}

/** `outputs`: the current output sample; `truth[i]`: row i's feedback (undefined when none came). */
export function performance(spec: MonitorSpec, outputs: Sample, truth: unknown[]): PerformanceSignal {
  const p = spec.performance!;
  const output = p.output && outputs.columns.has(p.output) ? p.output : outputs.columns.has(`${p.output}[1]`) ? `${p.output}[1]` : (p.output ?? firstScore(outputs));
  const predicted = output ? numbers(outputs.columns.get(output) ?? []) : new Float64Array(0);
  const rows: number[] = [];
  for (let i = 0; i < predicted.length; i++) if (truth[i] !== undefined && truth[i] !== null && Number.isFinite(predicted[i])) rows.push(i);
  const signal: PerformanceSignal = { task: p.task, output: output ?? null, labelled: rows.length, rows: predicted.length, metrics: {}, breaches: [], violated: false };
  if (p.task === 'classification') {
    const threshold = p.decisionThreshold ?? 0.5;
    if (rows.length) signal.metrics = classification(rows.map((i) => binaryLabel(truth[i])), rows.map((i) => predicted[i]), threshold);
    const scores = [...predicted].filter((x) => Number.isFinite(x));
    if (scores.length && scores.every((x) => x >= 0 && x <= 1)) signal.estimated = { ...estimatedClassification(scores, threshold), estimate: true };
  } else if (rows.length) {
    signal.metrics = regression(rows.map((i) => Number(truth[i])), rows.map((i) => predicted[i]));
  }
  const read = (k: string) => (signal.metrics as Record<string, number | null | undefined>)[k] ?? (signal.estimated as Record<string, number> | undefined)?.[k];
  for (const [k, min] of Object.entries(p.minimum ?? {})) if ((read(k) ?? Infinity) < min) signal.breaches.push(`${k} < ${min}`);
  for (const [k, max] of Object.entries(p.maximum ?? {})) if ((read(k) ?? -Infinity) > max) signal.breaches.push(`${k} > ${max}`);
  signal.violated = signal.breaches.length > 0;
  return signal;
}

/** The probability of the positive class when the model gives [N, 2], else the first output column. */
function firstScore(outputs: Sample): string | undefined {
  const names = [...outputs.columns.keys()];
  return names.find((n) => n.endsWith('[1]') && !names.some((m) => m.endsWith('[2]') && m.startsWith(n.slice(0, -3)))) ?? names[0];
}

export interface FreshnessSignal {
  model: string | null;
  run: string | null;
  trainedAt: number | null;
  ageSeconds: number | null;
  maxAgeSeconds: number;
  stale: boolean;
}
