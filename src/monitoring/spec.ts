/** Checks a monitor spec beyond its schema: names, durations, the reference and per-feature methods. */
import { durationMs } from '../shared/duration.js';
import { Invalid } from '../shared/errors.js';
import { checkCron } from '../jobs/pipelines/cron.js';
import type { MonitorSpec } from './schema.js';

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const DEFAULT_WINDOW = '1h';
const MAX_DURATION_MS = 3650 * 86_400_000;

/** "1h", "30m", "7d", "1d12h" into milliseconds. */
export function parseDuration(text: string, field: string): number {
  const ms = durationMs(text, ['s', 'm', 'h', 'd']);
  if (ms === null) throw Invalid.field(field, `a duration such as 30m, 1h or 7d, got ${JSON.stringify(text)}`);
  if (ms <= 0) throw Invalid.field(field, 'a duration above zero');
  if (ms > MAX_DURATION_MS) throw Invalid.field(field, `a duration of at most 3650d, got ${JSON.stringify(text)}`);
  return ms;
}

export type Reference =
  | { kind: 'dataset'; name: string; version: number | 'latest' }
  | { kind: 'training' }
  | { kind: 'production'; fromAgoMs: number; toAgoMs: number };

export function parseReference(text: string, field = 'reference'): Reference {
  const ds = /^datasets:\/([^/]+)\/(\d+|latest)$/.exec(text);
  if (ds) return { kind: 'dataset', name: ds[1], version: ds[2] === 'latest' ? 'latest' : Number(ds[2]) };
  if (text === 'training') return { kind: 'training' };
  const prod = /^production:([^.]+)\.\.([^.]+)$/.exec(text);
  if (prod) {
    const fromAgoMs = parseDuration(prod[1], `${field} (window start)`);
    const toAgoMs = parseDuration(prod[2], `${field} (window end)`);
    if (toAgoMs >= fromAgoMs) throw Invalid.field(field, 'production:FROM..TO with FROM further back than TO, e.g. production:48h..24h');
    return { kind: 'production', fromAgoMs, toAgoMs };
  }
  throw Invalid.field(field, `datasets:/NAME/VERSION, 'training' or production:FROM..TO (e.g. production:48h..24h), got ${JSON.stringify(text)}`);
}

const NUMERICAL_ONLY = new Set(['ks', 'wasserstein']);
const CATEGORICAL_ONLY = new Set(['chi_squared']);

export function checkSpec(spec: MonitorSpec): MonitorSpec {
  if (!NAME.test(spec.name)) throw Invalid.field('name', 'lowercase letters, digits and dashes, starting and ending with a letter or digit (at most 63)');
  parseReference(spec.reference);
  parseDuration(spec.window ?? DEFAULT_WINDOW, 'window');
  // Read by the monitor scheduler in UTC: a malformed schedule is refused here, not skipped later.
  if (spec.schedule !== undefined) checkCron(spec.schedule, 'schedule');
  if (spec.schedule !== undefined && spec.schedule.trim().split(/\s+/).length !== 5) throw Invalid.field('schedule', `a 5-field cron expression such as "0 * * * *", got ${JSON.stringify(spec.schedule)}`);
  if (spec.freshness) parseDuration(spec.freshness.maxAge, 'freshness.maxAge');
  if (spec.signals.includes('freshness') && !spec.freshness) throw Invalid.field('freshness', 'a {maxAge} when signals include freshness');
  if (spec.signals.includes('model_performance') && !spec.performance) throw Invalid.field('performance', 'a {task: classification|regression} when signals include model_performance');
  for (const [name, o] of Object.entries(spec.features ?? {})) {
    if (o.method && o.type === 'categorical' && NUMERICAL_ONLY.has(o.method)) throw Invalid.field(`features.${name}.method`, `a categorical method (chi_squared, jensen_shannon, psi), got ${o.method}`);
    if (o.method && o.type === 'numerical' && CATEGORICAL_ONLY.has(o.method)) throw Invalid.field(`features.${name}.method`, `a numerical method (ks, wasserstein, psi, jensen_shannon), got ${o.method}`);
  }
  return spec;
}
