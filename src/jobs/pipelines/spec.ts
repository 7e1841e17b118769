import { Invalid } from '../../shared/errors.js';
import { checkCron } from './cron.js';

/**
 * A `kind: Pipeline` document, checked: steps form a DAG by `needs` (plus
 * the steps a `${{ steps.X.outputs.Y }}` names), parameters have defaults,
 * triggers are well formed. Substitution is `${{ params.NAME }}` and
 * `${{ steps.STEP.outputs.KEY }}` in any string of a step's `with`; a string
 * that is one expression alone takes the value's own type (a number stays one).
 */
export const STEP_KINDS = ['validate-data', 'train', 'evaluate', 'compare', 'register', 'set-alias', 'batch-score', 'command'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export interface StepSpec {
  name: string;
  uses: StepKind;
  needs: string[];
  with: Record<string, unknown>;
}

export type Trigger =
  | { schedule: string; timezone: string }
  | { modelRegistered: string }
  | { datasetVersion: string };

export interface PipelineSpec {
  name: string;
  workspace: string;
  description?: string;
  params: Record<string, string | number | boolean>;
  triggers: Trigger[];
  steps: StepSpec[];
}

const NAME = /^[a-z0-9]([a-z0-9_-]{0,62}[a-z0-9])?$/;
const EXPR = /\$\{\{\s*([^}]*?)\s*\}\}/g;
const FIELDS = ['kind', 'name', 'workspace', 'description', 'params', 'triggers', 'steps'];

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function checkName(v: unknown, field: string): string {
  if (typeof v !== 'string' || !NAME.test(v)) throw Invalid.field(field, `a name of lower-case letters, digits, '-' and '_' (at most 64), got ${JSON.stringify(v)}`);
  return v;
}

/** The expressions a value holds, as their dotted paths (`params.x`, `steps.a.outputs.b`). */
export function expressions(v: unknown): string[] {
  if (typeof v === 'string') return [...v.matchAll(EXPR)].map((m) => m[1]);
  if (Array.isArray(v)) return v.flatMap(expressions);
  if (isObject(v)) return Object.values(v).flatMap(expressions);
  return [];
}

function checkTriggers(v: unknown): Trigger[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw Invalid.field('triggers', 'a list of { schedule, timezone }, { modelRegistered: MODEL } or { datasetVersion: DATASET }');
  return v.map((t, i): Trigger => {
    const field = `triggers[${i}]`;
    if (!isObject(t)) throw Invalid.field(field, 'an object');
    if (typeof t.schedule === 'string') {
      const timezone = typeof t.timezone === 'string' ? t.timezone : 'UTC';
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: timezone });
      } catch {
        throw Invalid.field(`${field}.timezone`, `an IANA time zone such as Europe/Paris, got '${timezone}'`);
      }
      checkCron(t.schedule, `${field}.schedule`);
      return { schedule: t.schedule, timezone };
    }
    if (typeof t.modelRegistered === 'string' && t.modelRegistered) return { modelRegistered: t.modelRegistered };
    if (typeof t.datasetVersion === 'string' && t.datasetVersion) return { datasetVersion: t.datasetVersion };
    throw Invalid.field(field, 'one of { schedule: CRON, timezone: ZONE }, { modelRegistered: MODEL }, { datasetVersion: DATASET }');
  });
}

function checkParams(v: unknown): PipelineSpec['params'] {
  if (v === undefined) return {};
  if (!isObject(v)) throw Invalid.field('params', 'a map of parameter name to its default (string, number or boolean)');
  for (const [k, x] of Object.entries(v)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw Invalid.field(`params.${k}`, 'a name of letters, digits and _');
    if (!['string', 'number', 'boolean'].includes(typeof x)) throw Invalid.field(`params.${k}`, 'a default that is a string, number or boolean');
  }
  return v as PipelineSpec['params'];
}

function checkStep(s: unknown, i: number): StepSpec {
  const field = `steps[${i}]`;
  if (!isObject(s)) throw Invalid.field(field, 'an object with name, uses, needs and with');
  for (const k of Object.keys(s)) if (!['name', 'uses', 'needs', 'with'].includes(k)) throw Invalid.field(`${field}.${k}`, 'is not a field of a step (known: name, uses, needs, with)');
  const name = checkName(s.name, `${field}.name`);
  if (!STEP_KINDS.includes(s.uses as StepKind)) throw Invalid.field(`steps.${name}.uses`, `one of ${STEP_KINDS.join(', ')}, got ${JSON.stringify(s.uses)}`);
  const needs = s.needs === undefined ? [] : typeof s.needs === 'string' ? [s.needs] : s.needs;
  if (!Array.isArray(needs) || needs.some((n) => typeof n !== 'string')) throw Invalid.field(`steps.${name}.needs`, 'a step name or a list of them');
  const w = s.with === undefined ? {} : s.with;
  if (!isObject(w)) throw Invalid.field(`steps.${name}.with`, 'a map of the step\'s inputs');
  return { name, uses: s.uses as StepKind, needs: [...new Set(needs as string[])], with: w };
}

/** Refuses needs naming no step, expressions naming unknown params or steps, and cycles (naming a step on one). */
function checkGraph(steps: StepSpec[], params: PipelineSpec['params']): void {
  const names = new Set(steps.map((s) => s.name));
  for (const s of steps) {
    for (const n of s.needs) if (!names.has(n)) throw Invalid.field(`steps.${s.name}.needs`, `names of steps of this pipeline; '${n}' is not one`);
    for (const e of expressions(s.with)) {
      const parts = e.split('.');
      if (parts[0] === 'params' && parts.length === 2) {
        if (!(parts[1] in params)) throw Invalid.field(`steps.${s.name}.with`, `parameters declared under params; '${parts[1]}' is not (in \${{ ${e} }})`);
      } else if (parts[0] === 'steps' && parts.length === 4 && parts[2] === 'outputs') {
        if (!names.has(parts[1]) || parts[1] === s.name) throw Invalid.field(`steps.${s.name}.with`, `outputs of another step of this pipeline; '${parts[1]}' is not one (in \${{ ${e} }})`);
        if (!s.needs.includes(parts[1])) s.needs.push(parts[1]);
      } else throw Invalid.field(`steps.${s.name}.with`, `expressions \${{ params.NAME }} or \${{ steps.STEP.outputs.KEY }}, got \${{ ${e} }}`);
    }
  }
  const byName = new Map(steps.map((s) => [s.name, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw Invalid.field(`steps.${name}.needs`, `no cycle; ${[...path.slice(path.indexOf(name)), name].join(' → ')} is one`);
    state.set(name, 'visiting');
    for (const n of byName.get(name)!.needs) visit(n, [...path, name]);
    state.set(name, 'done');
  };
  for (const s of steps) visit(s.name, []);
}

export function parsePipeline(doc: Record<string, unknown>): PipelineSpec {
  for (const k of Object.keys(doc)) if (!FIELDS.includes(k)) throw Invalid.field(k, `is not a field of Pipeline (known: ${FIELDS.slice(1).join(', ')})`);
  const name = checkName(doc.name, 'name');
  const workspace = doc.workspace === undefined ? 'default' : String(doc.workspace);
  if (!Array.isArray(doc.steps) || doc.steps.length === 0) throw Invalid.field('steps', 'a non-empty list of steps');
  if (doc.steps.length > 100) throw Invalid.field('steps', 'at most 100 steps');
  const steps = doc.steps.map(checkStep);
  const seen = new Set<string>();
  for (const s of steps) {
    if (seen.has(s.name)) throw Invalid.field(`steps.${s.name}.name`, 'a name used by one step only');
    seen.add(s.name);
  }
  const params = checkParams(doc.params);
  checkGraph(steps, params);
  const description = doc.description === undefined ? undefined : String(doc.description);
  return { name, workspace, ...(description ? { description } : {}), params, triggers: checkTriggers(doc.triggers), steps };
}

/** Parameters of one run: the defaults, overridden by the given values (refusing names not declared). */
export function runParams(spec: PipelineSpec, given: Record<string, unknown> = {}): Record<string, string | number | boolean> {
  const out = { ...spec.params };
  for (const [k, v] of Object.entries(given)) {
    if (!(k in spec.params)) throw Invalid.field(`params.${k}`, `a parameter of pipeline ${spec.name} (${Object.keys(spec.params).join(', ') || 'it takes none'})`);
    const dflt = spec.params[k];
    // Values from the command line come as text: take the default's type.
    out[k] = typeof v === 'string' && typeof dflt === 'number' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : typeof v === 'string' && typeof dflt === 'boolean' && (v === 'true' || v === 'false') ? v === 'true' : (v as string);
  }
  return out;
}

/** Replaces expressions in a step's `with`, given params and the outputs of finished steps. */
export function substitute(v: unknown, scope: { params: Record<string, unknown>; steps: Record<string, Record<string, unknown>> }, step: string): unknown {
  const lookup = (e: string): unknown => {
    const p = e.split('.');
    const value = p[0] === 'params' ? scope.params[p[1]] : scope.steps[p[1]]?.[p[3]];
    if (value === undefined) throw Invalid.field(`steps.${step}.with`, `a value for \${{ ${e} }}; ${p[0] === 'params' ? 'no such parameter' : `step ${p[1]} has no output '${p[3]}'`}`);
    return value;
  };
  if (typeof v === 'string') {
    const whole = /^\$\{\{\s*([^}]*?)\s*\}\}$/.exec(v);
    if (whole) return lookup(whole[1]);
    return v.replace(EXPR, (_, e: string) => {
      const x = lookup(e);
      return typeof x === 'string' ? x : JSON.stringify(x);
    });
  }
  if (Array.isArray(v)) return v.map((x) => substitute(x, scope, step));
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, scope, step)]));
  return v;
}
