import { basename } from 'node:path';
import { parseDuration } from '../access/tokens.js';
import { parseDatasetUri } from '../datasets/names.js';
import { parseModelRef } from '../serving/endpoints.rules.js';
import { Invalid } from '../shared/errors.js';
import type { ResourceClass } from './config.js';
import type { JobCreate, OutputSpec } from './schema.js';

/** A model or dataset version a job reads, materialised as files before it starts. */
export type InputRef = { kind: 'dataset'; name: string; version: number | 'latest' } | { kind: 'model'; name: string; version?: number; alias?: string };

/** What a worker needs to run a job, as stored in `jobs.spec`. */
export interface JobSpec {
  command: string[];
  env: Record<string, string>;
  secretEnv: Record<string, { secret: string; key: string }>;
  image?: string;
  experiment: string;
  inputs: Record<string, string>;
  outputs: Record<string, OutputSpec>;
}

export interface CheckedJob {
  name: string;
  kind: 'command';
  spec: JobSpec;
  priority: number;
  maxRetries: number;
  timeoutMs: number | null;
  resourceClass: string;
}

/** Variables the platform sets; a job may not override them. */
const RESERVED = /^(MLFLOW_TRACKING_URI|MLFLOW_TRACKING_TOKEN|MLFLOW_RUN_ID|MLFLOW_EXPERIMENT_ID|SLIPWAY_.*)$/;
const MAX_TIMEOUT_MS = 30 * 86_400_000;

export function parseInput(uri: string, field: string): InputRef {
  if (uri.startsWith('datasets:/')) return { kind: 'dataset', ...parseDatasetUri(uri, field) };
  if (uri.startsWith('models:/')) return { kind: 'model', ...parseModelRef(uri, field) };
  throw Invalid.field(field, "a dataset or model version such as 'datasets:/iris/latest' or 'models:/lr/1' or 'models:/lr@champion'");
}

function checkOutput(name: string, o: OutputSpec): OutputSpec {
  const field = `outputs.${name}`;
  if ((o.model === undefined) === (o.dataset === undefined)) throw Invalid.field(field, "exactly one of 'model' or 'dataset'");
  const parts = o.path.split('/');
  if (o.path.startsWith('/') || parts.includes('..')) throw Invalid.field(`${field}.path`, 'a path inside the working directory (relative, no ..)');
  return o;
}

/** Checks a submission against the rules the schema cannot express; answers what is stored. */
export function checkJob(input: JobCreate, classes: Record<string, ResourceClass>): CheckedJob {
  const env = input.env ?? {};
  for (const k of [...Object.keys(env), ...Object.keys(input.secretEnv ?? {})]) {
    if (RESERVED.test(k)) throw Invalid.field(`env.${k}`, 'a variable the platform does not set itself (MLFLOW_* tracking variables and SLIPWAY_* are reserved)');
  }
  let timeoutMs: number | null = null;
  if (input.timeout !== undefined) {
    timeoutMs = parseDuration(input.timeout);
    if (timeoutMs === null || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) throw Invalid.field('timeout', `a duration such as 90s, 10m or 2h, at most 30d; got '${input.timeout}'`);
  }
  const resourceClass = input.resources ?? 'small';
  if (!classes[resourceClass]) throw Invalid.field('resources', `one of the resource classes ${Object.keys(classes).join(', ')}; got '${resourceClass}'`);
  const inputs = input.inputs ?? {};
  for (const [k, uri] of Object.entries(inputs)) parseInput(uri, `inputs.${k}`);
  const outputs = input.outputs ?? {};
  for (const [k, o] of Object.entries(outputs)) checkOutput(k, o);
  const experiment = (input.experiment ?? 'jobs').trim();
  if (!experiment) throw Invalid.field('experiment', 'a non-empty experiment name');
  const name = (input.name ?? basename(input.command[0])).trim().slice(0, 128) || 'job';
  return {
    name,
    kind: 'command',
    spec: { command: input.command, env, secretEnv: input.secretEnv ?? {}, image: input.image, experiment, inputs, outputs },
    priority: input.priority ?? 0,
    maxRetries: input.retries ?? 0,
    timeoutMs,
    resourceClass,
  };
}

/** Delay before retry n (1-based): base × 2^(n-1), capped at 10 minutes. */
export function backoff(baseMs: number, failures: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, failures - 1), 600_000);
}

/** Price of an attempt: the class's reservation (CPUs and memory) for its wall time. */
export function priceOf(c: ResourceClass, wallMs: number): number {
  const hours = wallMs / 3_600_000;
  return Math.round(hours * (c.cpu * c.cpuHour + c.memoryGb * c.gbHour) * 1e12) / 1e12;
}

/** MLFLOW_TRACKING_URI of a job: MLflow's routes of a non-default workspace are mounted under /w/<workspace>. */
export function trackingUri(serverUrl: string, workspace: string): string {
  return workspace === 'default' ? serverUrl : `${serverUrl}/w/${encodeURIComponent(workspace)}`;
}
