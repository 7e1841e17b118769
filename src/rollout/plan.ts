import { checkLabel } from '../serving/endpoints.rules.js';
import { durationMs } from '../shared/duration.js';
import { Invalid } from '../shared/errors.js';
import type { Gates, RolloutCreate, Step } from './schema.js';

/** A rollout's checked settings, as the store keeps them. */
export interface RolloutPlan {
  name: string;
  endpoint: string;
  candidate: string;
  stable: string | null;
  steps: Step[];
  retireStable: boolean;
  drainMs: number;
}

const MAX_DURATION_MS = 7 * 24 * 3_600_000;
export const DEFAULT_DRAIN = '30s';

/** "10m", "30s", "1h30m", "500ms" into milliseconds. */
export function parseDuration(text: unknown, field: string): number {
  const ms = durationMs(text, ['ms', 's', 'm', 'h']);
  if (ms === null) throw Invalid.field(field, `must be a duration such as 30s, 10m or 1h30m, got ${JSON.stringify(text)}`);
  if (ms > MAX_DURATION_MS) throw Invalid.field(field, 'must be at most 7 days');
  return ms;
}

const SHADOW_ONLY = ['minAgreement', 'maxMeanAbsDiff'] as const;

function checkGates(g: Gates | undefined, shadow: boolean, field: string): Gates {
  if (g === undefined) return {};
  if (g === null || typeof g !== 'object' || Array.isArray(g)) throw Invalid.field(field, 'must be an object of gate limits');
  const fractions = ['maxErrorRate', 'minAgreement'] as const;
  const positives = ['errorRateTolerance', 'maxP95Ms', 'maxP99Ms', 'latencyTolerance', 'maxMeanAbsDiff'] as const;
  for (const k of Object.keys(g)) if (![...fractions, ...positives].includes(k as never)) throw Invalid.field(`${field}.${k}`, 'is not a gate (known: maxErrorRate, errorRateTolerance, maxP95Ms, maxP99Ms, latencyTolerance, minAgreement, maxMeanAbsDiff)');
  for (const k of fractions) if (g[k] !== undefined && !(typeof g[k] === 'number' && g[k]! >= 0 && g[k]! <= 1)) throw Invalid.field(`${field}.${k}`, 'must be a fraction from 0 to 1');
  for (const k of positives) if (g[k] !== undefined && !(typeof g[k] === 'number' && g[k]! >= 0)) throw Invalid.field(`${field}.${k}`, 'must be a number of at least 0');
  if (!shadow) for (const k of SHADOW_ONLY) if (g[k] !== undefined) throw Invalid.field(`${field}.${k}`, 'applies to shadow steps only: traffic steps answer live requests, there is nothing to compare');
  return { ...g };
}

/** A step checked; `defaults` are the rollout-wide gates, used when the step names none. */
function checkStep(s: Step, i: number, defaults: Gates | undefined): Step {
  const f = `steps[${i}]`;
  if (s === null || typeof s !== 'object') throw Invalid.field(f, 'must be {shadow|traffic, duration|minRequests, gates}');
  const isPct = (v: unknown, max: number) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= max;
  if ((s.shadow === undefined) === (s.traffic === undefined)) throw Invalid.field(f, 'must set exactly one of shadow (percent mirrored) or traffic (percent of live traffic)');
  if (s.shadow !== undefined && !isPct(s.shadow, 100)) throw Invalid.field(`${f}.shadow`, 'must be an integer percent from 1 to 100');
  if (s.traffic !== undefined && !isPct(s.traffic, 99)) throw Invalid.field(`${f}.traffic`, 'must be an integer percent from 1 to 99 (the final promotion to 100% is implicit)');
  if (s.duration === undefined && s.minRequests === undefined) throw Invalid.field(f, 'needs a duration, a minRequests, or both');
  if (s.duration !== undefined) parseDuration(s.duration, `${f}.duration`);
  if (s.minRequests !== undefined && !(Number.isInteger(s.minRequests) && s.minRequests >= 1)) throw Invalid.field(`${f}.minRequests`, 'must be an integer of at least 1');
  const shadow = s.shadow !== undefined;
  const gates = s.gates !== undefined ? checkGates(s.gates, shadow, `${f}.gates`) : inherit(defaults, shadow);
  const out: Step = shadow ? { shadow: s.shadow } : { traffic: s.traffic };
  if (s.duration !== undefined) out.duration = s.duration;
  if (s.minRequests !== undefined) out.minRequests = s.minRequests;
  if (Object.keys(gates).length) out.gates = gates;
  return out;
}

/** Rollout-wide gates as one step sees them: agreement gates only where something is compared. */
function inherit(defaults: Gates | undefined, shadow: boolean): Gates {
  const g = { ...(defaults ?? {}) };
  if (!shadow) for (const k of SHADOW_ONLY) delete g[k];
  return g;
}

/**
 * The compact plan: steps separated by commas or arrows, each `[shadow|canary]
 * N% [for] DURATION [N requests]`; a trailing `100%` (the implicit promotion) is accepted.
 * Example: `shadow 20% for 10m → canary 10% for 5m → 50% for 5m → 100%`.
 */
export function parsePlan(text: string, field = 'plan'): Step[] {
  const parts = text.split(/,|→|->/).map((p) => p.trim()).filter(Boolean);
  const steps: Step[] = [];
  parts.forEach((part, i) => {
    const bad = (why: string) => Invalid.field(field, `step ${i + 1} '${part}': ${why}`);
    const words = part.toLowerCase().replace(/(\d)\s+%/g, '$1%').replace(/(\d+)\s*(requests?|req)\b/g, '$1req').split(/\s+/);
    const step: Step = {};
    let shadow = false;
    let pct: number | undefined;
    for (const w of words) {
      if (w === 'shadow' || w === 'mirror') shadow = true;
      else if (w === 'canary' || w === 'traffic' || w === 'for' || w === 'and') continue;
      else if (/^\d{1,3}%$/.test(w)) pct = Number(w.slice(0, -1));
      else if (/^\d+req$/.test(w)) step.minRequests = Number(w.slice(0, -3));
      else if (durationMs(w, ['ms', 's', 'm', 'h']) !== null) step.duration = w;
      else throw bad(`unknown word '${w}' (expected shadow, canary, N%, a duration such as 5m, or N requests)`);
    }
    if (pct === undefined) throw bad('names no percent such as 10%');
    if (!shadow && pct === 100 && i === parts.length - 1 && !step.duration && !step.minRequests) return;
    if (shadow) step.shadow = pct;
    else step.traffic = pct;
    steps.push(step);
  });
  if (!steps.length) throw Invalid.field(field, 'names no steps');
  return steps;
}

/** Checks a create request into the plan the store keeps; every 400 names its field. */
export function checkRollout(input: RolloutCreate): RolloutPlan {
  const name = checkLabel(input.name, 'name');
  const endpoint = checkLabel(input.endpoint, 'endpoint');
  const candidate = checkLabel(input.candidate, 'candidate');
  const stable = input.stable === undefined ? null : checkLabel(input.stable, 'stable');
  if (stable === candidate) throw Invalid.field('stable', 'must differ from candidate');
  if ((input.steps === undefined) === (input.plan === undefined)) throw Invalid.field('steps', 'give either steps or plan (the compact form), not both and not neither');
  if (input.gates !== undefined) checkGates(input.gates, true, 'gates');
  const raw = input.plan !== undefined ? parsePlan(input.plan) : input.steps!;
  if (!Array.isArray(raw) || !raw.length) throw Invalid.field('steps', 'must be a non-empty list');
  const steps = raw.map((s, i) => checkStep(s, i, input.gates));
  const drain = input.drain ?? DEFAULT_DRAIN;
  return { name, endpoint, candidate, stable, steps, retireStable: input.retireStable ?? false, drainMs: parseDuration(drain, 'drain') };
}

/** One line per step for people: "shadow 20% for 10m", "traffic 50% for 5m and 200 requests". */
export function describeStep(s: Step): string {
  const what = s.shadow !== undefined ? `shadow ${s.shadow}%` : `traffic ${s.traffic}%`;
  const until = [s.duration && `for ${s.duration}`, s.minRequests && `${s.minRequests} requests`].filter(Boolean).join(' and ');
  return `${what} ${until}`;
}

/** Milliseconds back into the largest exact unit: 30000 → "30s", 90000 → "90s", 600000 → "10m". */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
