import { Invalid } from '../shared/errors.js';
import { LIMITS, RUN_STATUSES, type KeyValue, type RunStatus, type ViewType } from './model.js';

/** MLflow's rules for names of params, metrics and tags, and the sizes of values. */
const KEY = /^[/\w.\- ]*$/;

export function required<T>(value: T | undefined | null | '', field: string): T {
  if (value === undefined || value === null || value === '') throw Invalid.field(field, `missing value for required parameter '${field}'`);
  return value;
}

export function checkKey(key: unknown, field: string): string {
  if (typeof key !== 'string' || key === '') throw Invalid.field(field, 'a non-empty string is required');
  if (key.length > LIMITS.keyLength) throw Invalid.field(field, `at most ${LIMITS.keyLength} characters, got ${key.length}`);
  if (!KEY.test(key)) throw Invalid.field(field, `'${key}' may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/)`);
  if (key.split('/').includes('..') || key.startsWith('/')) throw Invalid.field(field, `'${key}' must be a relative path without '..'`);
  return key;
}

export function checkValue(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string') throw Invalid.field(field, 'a string is required');
  if (value.length > max) throw Invalid.field(field, `at most ${max} characters, got ${value.length}`);
  return value;
}

export function checkParams(params: KeyValue[], field = 'params'): KeyValue[] {
  return params.map((p, i) => ({ key: checkKey(p?.key, `${field}[${i}].key`), value: checkValue(p?.value, `${field}[${i}].value`, LIMITS.paramValueLength) }));
}

export function checkTags(tags: KeyValue[], field = 'tags'): KeyValue[] {
  return tags.map((p, i) => ({ key: checkKey(p?.key, `${field}[${i}].key`), value: checkValue(p?.value, `${field}[${i}].value`, LIMITS.tagValueLength) }));
}

export function checkStatus(status: unknown, field = 'status'): RunStatus {
  if (typeof status === 'number' && Number.isInteger(status) && status >= 1 && status <= RUN_STATUSES.length) return RUN_STATUSES[status - 1];
  if (typeof status === 'string' && (RUN_STATUSES as readonly string[]).includes(status)) return status as RunStatus;
  throw Invalid.field(field, `one of ${RUN_STATUSES.join(', ')}`);
}

export function checkViewType(v: unknown, field: string): ViewType {
  if (v === undefined || v === null || v === '') return 'ACTIVE_ONLY';
  const byNumber: Record<number, ViewType> = { 1: 'ACTIVE_ONLY', 2: 'DELETED_ONLY', 3: 'ALL' };
  // Query strings carry enum numbers as text.
  if ((typeof v === 'number' || (typeof v === 'string' && /^\d$/.test(v))) && byNumber[Number(v)]) return byNumber[Number(v)];
  if (v === 'ACTIVE_ONLY' || v === 'DELETED_ONLY' || v === 'ALL') return v;
  throw Invalid.field(field, 'one of ACTIVE_ONLY, DELETED_ONLY, ALL');
}

export function checkMaxResults(v: number | undefined, field: string, def: number, max: number): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || v < 1) throw Invalid.field(field, `a positive integer, got ${v}`);
  if (v > max) throw Invalid.field(field, `invalid value for max_results: it must be at most ${max}, but got ${v}`);
  return v;
}

export function checkRunId(id: unknown, field = 'run_id'): string {
  if (typeof id !== 'string' || id === '') throw Invalid.field(field, "missing value for required parameter 'run_id'");
  return id;
}

export function checkExperimentId(id: unknown, field = 'experiment_id'): number {
  if (typeof id !== 'string' && typeof id !== 'number') throw Invalid.field(field, `missing value for required parameter '${field}'`);
  const s = String(id);
  if (!/^\d{1,18}$/.test(s)) throw Invalid.field(field, `an experiment id is a non-negative integer, got '${s}'`);
  return Number(s);
}

/** Opaque page tokens: base64url JSON. A token the server did not issue is a client error. */
export function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeToken<T>(token: string | undefined, field: string, check: (v: unknown) => v is T): T | undefined {
  if (!token) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw Invalid.field(field, 'invalid page token');
  }
  if (!check(v)) throw Invalid.field(field, 'invalid page token');
  return v;
}

export const isOffsetToken = (v: unknown): v is { offset: number } =>
  typeof v === 'object' && v !== null && Number.isSafeInteger((v as { offset?: unknown }).offset) && (v as { offset: number }).offset >= 0;
