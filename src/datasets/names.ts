import { Invalid } from '../shared/errors.js';
import { formats, type Format } from './infer.js';

/**
 * Rules for what users type: dataset names, file names, formats, refresh
 * frequencies and `datasets:/name/version` URIs. Each throws `Invalid`
 * naming the field and what was expected.
 */

// Names appear in artifact keys and in datasets:/ URIs, so no `/` and no leading dot;
// lowercase only, so `Iris` and `iris` cannot share files on a case-insensitive filesystem.
export const NAME_PATTERN = /^[a-z0-9]([a-z0-9._-]{0,126}[a-z0-9])?$/;
export const NAME_RULE = 'lowercase letters, digits, ".", "_" or "-", 1-128 characters, starting and ending with a letter or digit';

export function checkName(name: string, field = 'name'): string {
  if (!NAME_PATTERN.test(name)) throw Invalid.field(field, NAME_RULE);
  return name;
}

// One path segment: no separators, no control characters, not `.` or `..`.
const FILENAME = /^[^/\\\u0000-\u001f\u007f]{1,255}$/;

export function checkFilename(filename: string): string {
  if (!FILENAME.test(filename) || filename === '.' || filename === '..') {
    throw Invalid.field('filename', 'a plain file name (1-255 characters, no "/", "\\" or control characters)');
  }
  return filename;
}

const EXTENSIONS: Record<string, Format> = { csv: 'csv', jsonl: 'jsonl', ndjson: 'jsonl', parquet: 'parquet', pq: 'parquet' };
const MEDIA_TYPES: Record<string, Format> = { 'text/csv': 'csv', 'application/x-ndjson': 'jsonl', 'application/jsonl': 'jsonl', 'application/vnd.apache.parquet': 'parquet' };

export const MEDIA_TYPE_OF: Record<Format, string> = { csv: 'text/csv', jsonl: 'application/x-ndjson', parquet: 'application/vnd.apache.parquet' };

/** The format: given explicitly, else from the file name's extension, else from the content type. */
export function resolveFormat(explicit: string | undefined, filename: string | undefined, contentType: string | undefined): Format {
  if (explicit !== undefined) {
    if (!(formats as readonly string[]).includes(explicit)) throw Invalid.field('format', `one of ${formats.join(', ')}`);
    return explicit as Format;
  }
  const ext = filename?.includes('.') ? filename.slice(filename.lastIndexOf('.') + 1).toLowerCase() : undefined;
  const byExt = ext ? EXTENSIONS[ext] : undefined;
  if (byExt) return byExt;
  const byType = contentType ? MEDIA_TYPES[contentType.split(';')[0].trim().toLowerCase()] : undefined;
  if (byType) return byType;
  throw Invalid.field('format', `one of ${formats.join(', ')}: give ?format=, or a filename ending in .csv, .jsonl or .parquet`);
}

export function defaultFilename(format: Format): string {
  return `data.${format}`;
}

// Refresh frequency: a word, a duration, a cron macro or a five-field cron expression.
const WORDS = new Set(['never', 'manual', 'on-demand', 'hourly', 'daily', 'weekly', 'monthly', 'yearly']);
const DURATION = /^[1-9]\d{0,5}(s|m|min|h|d|w)$/;
const MACROS = new Set(['@hourly', '@daily', '@midnight', '@weekly', '@monthly', '@yearly', '@annually']);
const CRON_FIELDS: Array<{ what: string; min: number; max: number; names?: string[] }> = [
  { what: 'minute', min: 0, max: 59 },
  { what: 'hour', min: 0, max: 23 },
  { what: 'day of month', min: 1, max: 31 },
  { what: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { what: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];
export const REFRESH_RULE =
  "a word (never, manual, on-demand, hourly, daily, weekly, monthly, yearly), a duration such as '30m', '1h' or '7d', a cron macro such as '@daily', or a five-field cron expression such as '0 3 * * *'";

export function checkRefresh(text: string): string {
  const t = text.trim();
  if (WORDS.has(t.toLowerCase()) || DURATION.test(t) || MACROS.has(t.toLowerCase())) return t;
  const parts = t.split(/\s+/);
  if (parts.length === 5) {
    parts.forEach((p, i) => checkCronField(p, CRON_FIELDS[i]));
    return parts.join(' ');
  }
  throw Invalid.field('refreshFrequency', REFRESH_RULE);
}

function checkCronField(part: string, spec: (typeof CRON_FIELDS)[number]): void {
  const fail = (): never => {
    throw Invalid.field('refreshFrequency', `cron ${spec.what} '${part}' is not valid; expected *, numbers ${spec.min}-${spec.max}, ranges, lists or steps`);
  };
  const value = (v: string): number => {
    const named = spec.names?.indexOf(v.toLowerCase()) ?? -1;
    const n = named >= 0 ? named + (spec.what === 'month' ? 1 : 0) : /^\d+$/.test(v) ? Number(v) : NaN;
    if (!(n >= spec.min && n <= spec.max)) fail();
    return n;
  };
  for (const item of part.split(',')) {
    const [range, step, extra] = item.split('/');
    if (extra !== undefined || (step !== undefined && !/^[1-9]\d*$/.test(step))) fail();
    if (range === '*') continue;
    const [lo, hi, more] = range.split('-');
    if (more !== undefined) fail();
    const lowest = value(lo);
    if (hi !== undefined && value(hi) < lowest) fail();
  }
}

/** A reference to a dataset version: `datasets:/name/3`, or `datasets:/name/latest`. */
export interface DatasetUri {
  name: string;
  version: number | 'latest';
}

const URI = /^datasets:\/([^/]+)\/([^/]+)$/;

export function parseDatasetUri(uri: string, field = 'uri'): DatasetUri {
  const m = URI.exec(uri);
  if (!m) throw Invalid.field(field, "a dataset URI such as 'datasets:/name/1' or 'datasets:/name/latest'");
  const name = checkName(m[1], field);
  if (m[2] === 'latest') return { name, version: 'latest' };
  return { name, version: checkVersion(m[2], field) };
}

export function datasetUri(name: string, version: number): string {
  return `datasets:/${name}/${version}`;
}

export function checkVersion(v: string | number, field = 'version'): number {
  const n = typeof v === 'number' ? v : /^[1-9]\d{0,8}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 2_147_483_647) throw Invalid.field(field, 'a positive integer version');
  return n;
}
