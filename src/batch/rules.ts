import { checkName } from '../datasets/names.js';
import { checkLabel, parseModelRef } from '../serving/endpoints.rules.js';
import { Invalid } from '../shared/errors.js';
import type { ResourceClass } from '../jobs/config.js';
import type { BatchEndpointPut, ErrorThreshold, RunCreate } from './schema.js';
import type { BatchRunRow } from './tables.js';

/** Pure checks of batch endpoint specs and run settings, shared by the service and `kind: BatchEndpoint`. */
export const DEFAULTS = { miniBatchRows: 1000, parallelism: 4, resources: 'small' };

export type EndpointSettings = BatchEndpointPut;

export function checkEndpointName(name: unknown): string {
  return checkLabel(name, 'name');
}

/** An endpoint's stored spec: the model reference and defaults, checked field by field; absent fields stay absent. */
export function checkEndpointSpec(spec: BatchEndpointPut, classes: Record<string, ResourceClass>): BatchEndpointPut {
  parseModelRef(spec.model, 'model');
  checkSettings(spec, classes);
  const out: BatchEndpointPut = { model: spec.model };
  for (const k of ['miniBatchRows', 'parallelism', 'errorThreshold', 'output', 'resources', 'features'] as const) if (spec[k] !== undefined) (out as Record<string, unknown>)[k] = spec[k];
  return out;
}

function checkSettings(s: Partial<RunCreate>, classes: Record<string, ResourceClass>): void {
  if (s.output !== undefined) checkName(s.output, 'output');
  if (s.resources !== undefined && !classes[s.resources]) throw Invalid.field('resources', `one of the resource classes ${Object.keys(classes).join(', ')}; got '${s.resources}'`);
  if (s.features && new Set(s.features).size !== s.features.length) throw Invalid.field('features', 'column names without repeats');
  const e = s.errorThreshold;
  if (e && e.rows === undefined && e.fraction === undefined) throw Invalid.field('errorThreshold', "'rows' (a count) and/or 'fraction' (0 to 1)");
}

/** What a run is started with: its own settings over the endpoint's defaults over the platform's. */
export interface RunSettings {
  miniBatchRows: number;
  parallelism: number;
  errorThreshold: ErrorThreshold;
  output: string;
  resources: string;
  features: string[] | null;
}

export function runSettings(endpoint: string, spec: BatchEndpointPut, run: RunCreate, classes: Record<string, ResourceClass>): RunSettings {
  checkSettings(run, classes);
  return {
    miniBatchRows: run.miniBatchRows ?? spec.miniBatchRows ?? DEFAULTS.miniBatchRows,
    parallelism: run.parallelism ?? spec.parallelism ?? DEFAULTS.parallelism,
    // Unless a threshold allows some, one failed row fails the run: a silently partial output is the worse surprise.
    errorThreshold: run.errorThreshold ?? spec.errorThreshold ?? { rows: 0 },
    output: run.output ?? spec.output ?? `${endpoint}-scores`,
    resources: run.resources ?? spec.resources ?? DEFAULTS.resources,
    features: run.features ?? spec.features ?? null,
  };
}

/** The most failed rows a run may have and still succeed. */
export function failureLimit(run: Pick<BatchRunRow, 'max_failed_rows' | 'max_failed_fraction' | 'total_rows'>): number {
  let limit = Infinity;
  if (run.max_failed_rows !== null) limit = run.max_failed_rows;
  if (run.max_failed_fraction !== null) limit = Math.min(limit, Math.floor(run.max_failed_fraction * (run.total_rows ?? 0)));
  return limit;
}

export function thresholdReason(run: Pick<BatchRunRow, 'max_failed_rows' | 'max_failed_fraction' | 'total_rows'>, failed: number): string {
  const parts = [];
  if (run.max_failed_rows !== null) parts.push(`${run.max_failed_rows} rows`);
  if (run.max_failed_fraction !== null) parts.push(`${run.max_failed_fraction * 100}% of ${run.total_rows} rows`);
  return `error threshold exceeded: ${failed} rows failed, more than the ${parts.join(' or ')} allowed`;
}
