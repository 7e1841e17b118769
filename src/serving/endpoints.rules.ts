import { Invalid } from '../shared/errors.js';
import type { Batching, Capture, RateLimit, TrafficMap } from './schema.js';

/** Endpoint and deployment names go into URLs and DNS-like places: one DNS label. */
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const LABEL_RULE = '1-63 lowercase letters, digits or "-", starting and ending with a letter or digit';

export function checkLabel(value: unknown, field: string): string {
  if (typeof value !== 'string' || !LABEL.test(value)) throw Invalid.field(field, LABEL_RULE);
  return value;
}

const isPercent = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 100;

function percentMap(value: unknown, field: string): TrafficMap {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw Invalid.field(field, 'must be a map of deployment name to an integer percent');
  for (const [k, v] of Object.entries(value)) if (!isPercent(v)) throw Invalid.field(`${field}.${k}`, `must be an integer from 0 to 100, got ${JSON.stringify(v)}`);
  return { ...(value as TrafficMap) };
}

/**
 * A traffic map names existing deployments and sums to 100 (or is empty:
 * the endpoint answers nothing live yet). `deployments` are the names that
 * exist (or will, when an apply plan creates them first).
 */
export function checkTraffic(value: unknown, deployments: Iterable<string>, field = 'traffic'): TrafficMap {
  const map = percentMap(value, field);
  const known = new Set(deployments);
  for (const k of Object.keys(map)) if (!known.has(k)) throw Invalid.field(`${field}.${k}`, `names no deployment of this endpoint (known: ${[...known].join(', ') || 'none'})`);
  const sum = Object.values(map).reduce((s, v) => s + v, 0);
  if (Object.keys(map).length && sum !== 100) throw Invalid.field(field, `must sum to 100 (or be empty), sums to ${sum}`);
  return map;
}

/** A mirror copies live traffic to a deployment; copying to the one that takes all of it would double its load for nothing. */
export function checkMirror(value: unknown, traffic: TrafficMap, deployments: Iterable<string>, field = 'mirror'): TrafficMap {
  const map = percentMap(value, field);
  const known = new Set(deployments);
  for (const k of Object.keys(map)) {
    if (!known.has(k)) throw Invalid.field(`${field}.${k}`, `names no deployment of this endpoint (known: ${[...known].join(', ') || 'none'})`);
    if (traffic[k] === 100 && map[k] > 0) throw Invalid.field(`${field}.${k}`, 'cannot mirror to the deployment that takes 100% of live traffic');
  }
  return map;
}

export function checkRateLimit(value: unknown, field = 'rateLimit'): RateLimit | null {
  if (value === null || value === undefined) return null;
  const v = value as Partial<RateLimit>;
  if (typeof v !== 'object' || Array.isArray(v)) throw Invalid.field(field, 'must be {rps, burst}');
  if (typeof v.rps !== 'number' || !(v.rps > 0)) throw Invalid.field(`${field}.rps`, 'must be a number of requests per second above 0');
  if (!Number.isInteger(v.burst) || (v.burst as number) < 1) throw Invalid.field(`${field}.burst`, 'must be an integer of at least 1');
  return { rps: v.rps, burst: v.burst as number };
}

export function checkCapture(value: unknown, field = 'capture'): Capture | null {
  if (value === null || value === undefined) return null;
  const v = value as Partial<Capture>;
  if (typeof v !== 'object' || Array.isArray(v)) throw Invalid.field(field, 'must be {sample, drop, hash}');
  if (typeof v.sample !== 'number' || v.sample < 0 || v.sample > 1) throw Invalid.field(`${field}.sample`, 'must be a fraction from 0 to 1');
  const list = (x: unknown, f: string) => {
    if (x === undefined) return [];
    if (!Array.isArray(x) || x.some((s) => typeof s !== 'string' || !s)) throw Invalid.field(`${field}.${f}`, 'must be a list of field names');
    return [...new Set(x as string[])];
  };
  return { sample: v.sample, drop: list(v.drop, 'drop'), hash: list(v.hash, 'hash') };
}

export function checkBatching(value: unknown, field = 'batching'): Batching | null {
  if (value === null || value === undefined) return null;
  const v = value as Partial<Batching>;
  if (typeof v !== 'object' || Array.isArray(v)) throw Invalid.field(field, 'must be {maxBatchSize, maxWaitMicros}');
  if (!Number.isInteger(v.maxBatchSize) || (v.maxBatchSize as number) < 1 || (v.maxBatchSize as number) > 4096) throw Invalid.field(`${field}.maxBatchSize`, 'must be an integer from 1 to 4096');
  if (!Number.isInteger(v.maxWaitMicros) || (v.maxWaitMicros as number) < 0 || (v.maxWaitMicros as number) > 1_000_000) throw Invalid.field(`${field}.maxWaitMicros`, 'must be an integer from 0 to 1000000');
  return { maxBatchSize: v.maxBatchSize as number, maxWaitMicros: v.maxWaitMicros as number };
}

export function checkInt(value: unknown, field: string, min: number, max: number, dflt: number): number {
  if (value === undefined || value === null) return dflt;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) throw Invalid.field(field, `must be an integer from ${min} to ${max}`);
  return value as number;
}

/** `models:/NAME/VERSION` or `models:/NAME@ALIAS`. */
export function parseModelRef(ref: unknown, field = 'model'): { name: string; version?: number; alias?: string } {
  const expected = 'must be models:/NAME/VERSION or models:/NAME@ALIAS';
  if (typeof ref !== 'string' || !ref.startsWith('models:/')) throw Invalid.field(field, expected);
  const rest = ref.slice('models:/'.length);
  const at = rest.lastIndexOf('@');
  if (at > 0 && !rest.includes('/')) return { name: rest.slice(0, at), alias: nonEmpty(rest.slice(at + 1), field, expected) };
  const slash = rest.lastIndexOf('/');
  const v = Number(rest.slice(slash + 1));
  if (slash <= 0 || !/^[1-9][0-9]*$/.test(rest.slice(slash + 1)) || !Number.isSafeInteger(v)) throw Invalid.field(field, expected);
  return { name: rest.slice(0, slash), version: v };
}

function nonEmpty(s: string, field: string, expected: string): string {
  if (!s) throw Invalid.field(field, expected);
  return s;
}

/** Canonical JSON of a map: sorted keys, so equal maps compare equal and apply plans stay stable. */
export function canonical(map: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}
