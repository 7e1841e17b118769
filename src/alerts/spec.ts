/** Checks an alert rule beyond its schema: names, durations, the source and its condition, actions. */
import { durationMs } from '../shared/duration.js';
import { Invalid } from '../shared/errors.js';
import { WINDOW_KEPT_MS } from '../telemetry/windows.js';
import type { AlertRuleSpec, Metric } from './schema.js';

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_MS = 365 * 86400e3;

/** "30s", "5m", "1h30m" into milliseconds; `zero` allows "0s". Prometheus reads the same text, so only its units s, m, h, d. */
export function parseDuration(text: string, field: string, zero = false): number {
  const ms = durationMs(text, ['s', 'm', 'h', 'd']);
  if (ms === null || ms > MAX_MS) throw Invalid.field(field, `a duration such as 30s, 5m or 1h (at most 365d), got ${JSON.stringify(text)}`);
  if (ms <= 0 && !zero) throw Invalid.field(field, 'a duration above zero');
  return ms;
}

export type Source =
  | { kind: 'endpoint'; endpoint: string; deployment?: string; metric: Metric }
  | { kind: 'monitor'; monitor: string; signal?: string }
  | { kind: 'jobs'; pipeline?: string };

export function sourceOf(spec: AlertRuleSpec): Source {
  const s = spec.source as Record<string, string>;
  if ('endpoint' in s) return { kind: 'endpoint', endpoint: s.endpoint, deployment: s.deployment, metric: s.metric as Metric };
  if ('monitor' in s) return { kind: 'monitor', monitor: s.monitor, signal: s.signal };
  return { kind: 'jobs', pipeline: s.pipeline };
}

const SIGNALS = ['data_drift', 'prediction_drift', 'data_quality', 'model_performance', 'freshness'];
/** Metrics whose rule needs a {op, threshold}; no_traffic and the other sources fire on an event. */
export const needsCondition = (s: Source) => s.kind === 'endpoint' && s.metric !== 'no_traffic';

export interface Timing {
  windowMs: number;
  forMs: number;
  renotifyMs: number | null;
}

export function timing(spec: AlertRuleSpec): Timing {
  return { windowMs: parseDuration(spec.window, 'window'), forMs: parseDuration(spec.for ?? '0s', 'for', true), renotifyMs: spec.renotify ? parseDuration(spec.renotify, 'renotify') : null };
}

export function checkRule(spec: AlertRuleSpec): AlertRuleSpec {
  if (!NAME.test(spec.name)) throw Invalid.field('name', 'lowercase letters, digits and dashes, starting and ending with a letter or digit (at most 63)');
  // GET /alert-rules/export is the Prometheus export.
  if (spec.name === 'export') throw Invalid.field('name', "a name other than 'export'");
  const source = sourceOf(spec);
  const { windowMs } = timing(spec);
  // Only 4xx and throttled come from the per-minute rollups; the other endpoint metrics read the 5-second windows, kept for a day.
  if (source.kind === 'endpoint' && source.metric !== 'client_error_rate' && source.metric !== 'throttled' && windowMs > WINDOW_KEPT_MS) throw Invalid.field('window', `at most 24h for metric ${source.metric} (its 5-second windows are kept for a day), got ${JSON.stringify(spec.window)}`);
  if (source.kind === 'monitor' && source.signal !== undefined && !SIGNALS.includes(source.signal)) throw Invalid.field('source.signal', `one of ${SIGNALS.join(', ')}, got ${JSON.stringify(source.signal)}`);
  // The gateway refuses an over-limit request before it picks a deployment, so throttling is counted per endpoint only.
  if (source.kind === 'endpoint' && source.metric === 'throttled' && source.deployment !== undefined) throw Invalid.field('source.deployment', 'nothing for metric throttled: requests are throttled per endpoint, before a deployment is chosen');
  if (needsCondition(source) && !spec.condition) throw Invalid.field('condition', `{op, threshold} for metric ${source.kind === 'endpoint' ? source.metric : ''}`);
  if (!needsCondition(source) && spec.condition) throw Invalid.field('condition', 'nothing: no_traffic, monitor and job rules fire on an event, not a threshold');
  for (const [k, v] of Object.entries(spec.labels ?? {})) if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k) || v.length > 200) throw Invalid.field(`labels.${k}`, 'a label name of letters, digits and _ (not starting with a digit) with a value of at most 200 characters');
  for (const [i, a] of (spec.actions ?? []).entries()) {
    if ((a.type === 'rollback' || a.type === 'scale_to_zero') && !a.endpoint && source.kind !== 'endpoint') throw Invalid.field(`actions[${i}].endpoint`, 'the endpoint to act on (the source is not an endpoint)');
    if (a.type === 'scale_to_zero' && !NAME.test(a.deployment)) throw Invalid.field(`actions[${i}].deployment`, 'a deployment name');
  }
  if (new Set((spec.actions ?? []).map((a) => a.type)).size !== (spec.actions ?? []).length) throw Invalid.field('actions', 'each action type at most once');
  return spec;
}
