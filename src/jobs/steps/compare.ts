import { isSlipwayError, Invalid } from '../../shared/errors.js';
import type { VersionView } from '../../registry/views.js';
import { modelVersion, obj, str, tagOf } from './inputs.js';
import { METRIC_TAG } from './evaluate.js';
import { LOWER_IS_BETTER } from './metrics.js';
import type { StepContext, StepOutputs } from './index.js';

interface Threshold {
  /** Absolute bounds on the candidate's value. */
  min?: number;
  max?: number;
  /** Allowed relative worsening against the champion (0.02 = 2 % worse at most). */
  maxDrop?: number;
}

function thresholds(s: StepContext): Record<string, Threshold> {
  const m = obj(s, 'metrics');
  if (!m || !Object.keys(m).length) throw Invalid.field('with.metrics', 'a map of metric name to { min, max, maxDrop }, such as { accuracy: { min: 0.8, maxDrop: 0.02 } }');
  for (const [k, t] of Object.entries(m)) {
    const ok = t !== null && typeof t === 'object' && Object.entries(t).every(([f, v]) => ['min', 'max', 'maxDrop'].includes(f) && typeof v === 'number' && Number.isFinite(v));
    if (!ok) throw Invalid.field(`with.metrics.${k}`, 'a map of min, max and maxDrop, each a number');
  }
  return m as Record<string, Threshold>;
}

function metric(v: VersionView, name: string, who: string): number {
  const text = tagOf(v, METRIC_TAG + name);
  if (text === undefined) throw new Error(`the ${who} models:/${v.name}/${v.version} has no metric '${name}' (run evaluate on it first)`);
  return Number(text);
}

async function championOf(s: StepContext, name: string, alias: string): Promise<VersionView | null> {
  try {
    return await modelVersion(s, `models:/${name}@${alias}`, 'with.champion');
  } catch (e) {
    if (isSlipwayError(e) && e.code === 'not_found') return null;
    throw e;
  }
}

/**
 * `compare`: the candidate's evaluation metrics against absolute bounds and
 * against the version the alias (`champion` by default) points to, allowing
 * a relative drop per metric. Worse fails the step, and so the pipeline.
 * With no champion yet only the absolute bounds apply.
 */
export async function compareStep(s: StepContext): Promise<StepOutputs> {
  const cand = await modelVersion(s, str(s, 'candidate'), 'with.candidate');
  const alias = str(s, 'champion', 'champion').replace(/^@/, '');
  const limits = thresholds(s);
  const champ = await championOf(s, cand.name, alias);
  const failures: string[] = [];
  for (const [name, t] of Object.entries(limits)) {
    const c = metric(cand, name, 'candidate');
    const lower = LOWER_IS_BETTER.has(name);
    if (t.min !== undefined && c < t.min) failures.push(`${name} ${c} is below the minimum ${t.min}`);
    if (t.max !== undefined && c > t.max) failures.push(`${name} ${c} is above the maximum ${t.max}`);
    if (champ && t.maxDrop !== undefined && champ.version !== cand.version) {
      const base = metric(champ, name, `champion (@${alias})`);
      const bound = lower ? base * (1 + t.maxDrop) : base * (1 - t.maxDrop);
      const worse = lower ? c > bound + 1e-12 : c < bound - 1e-12;
      s.log(`${name}: candidate ${c}, champion ${base} (v${champ.version}), ${lower ? 'at most' : 'at least'} ${bound}`);
      if (worse) failures.push(`${name} ${c} is worse than champion v${champ.version}'s ${base} by more than ${t.maxDrop * 100}%`);
    } else s.log(`${name}: candidate ${c}${champ ? '' : ` (no @${alias} yet)`}`);
  }
  if (failures.length) throw new Error(`candidate models:/${cand.name}/${cand.version} is worse: ${failures.join('; ')}`);
  return { passed: true, candidate: `models:/${cand.name}/${cand.version}`, champion: champ ? `models:/${champ.name}/${champ.version}` : '' };
}
