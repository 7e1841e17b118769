import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { Invalid } from '../../shared/errors.js';

/**
 * What the built-in trainer is asked to do. Declared once with TypeBox so a
 * job or pipeline definition can embed it in its own schema.
 */
export const tasks = ['classification', 'regression'] as const;
export const algorithms = ['logistic_regression', 'linear_regression', 'decision_tree', 'random_forest', 'gradient_boosting'] as const;

export const TrainSpecSchema = Type.Object(
  {
    task: Type.Union(tasks.map((t) => Type.Literal(t))),
    algorithm: Type.Union(algorithms.map((a) => Type.Literal(a))),
    features: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    label: Type.String({ minLength: 1 }),
    /** Algorithm parameters; each algorithm names the ones it takes (see README, "Built-in trainer"). */
    params: Type.Optional(Type.Record(Type.String(), Type.Number())),
    /** Seeds the holdout split and every random choice of the algorithm (default 42). */
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
    /** Share of rows held out for metrics, 0 to 0.9 (default 0.2). */
    testFraction: Type.Optional(Type.Number({ minimum: 0, maximum: 0.9 })),
  },
  { additionalProperties: false },
);

export type TrainSpec = Static<typeof TrainSpecSchema>;
export type Task = TrainSpec['task'];
export type Algorithm = TrainSpec['algorithm'];
export type Params = NonNullable<TrainSpec['params']>;

/** Which algorithms serve which task. */
const supports: Record<Algorithm, readonly Task[]> = {
  logistic_regression: ['classification'],
  linear_regression: ['regression'],
  decision_tree: ['classification', 'regression'],
  random_forest: ['classification', 'regression'],
  gradient_boosting: ['classification', 'regression'],
};

/** Checks a spec as given (from YAML, JSON or code); the first problem becomes a 400 naming the field. */
export function checkSpec(raw: unknown): TrainSpec {
  const error = Value.Errors(TrainSpecSchema, raw).First();
  if (error) {
    const field = ['spec', ...error.path.split('/').filter(Boolean)].join('.');
    throw Invalid.field(field, `${error.message.toLowerCase()}`);
  }
  const spec = raw as TrainSpec;
  if (!supports[spec.algorithm].includes(spec.task)) {
    throw Invalid.field('spec.algorithm', `${spec.algorithm} does not do ${spec.task}; for ${spec.task} use one of ${algorithms.filter((a) => supports[a].includes(spec.task)).join(', ')}`);
  }
  if (new Set(spec.features).size !== spec.features.length) throw Invalid.field('spec.features', 'each feature named once');
  if (spec.features.includes(spec.label)) throw Invalid.field('spec.label', `a column that is not also a feature ('${spec.label}' is both)`);
  return spec;
}

interface NumberRule {
  min: number;
  max?: number;
  integer?: boolean;
}

/**
 * Reads an algorithm's parameters: each known name with its default and
 * range; a name the algorithm does not take is refused rather than ignored.
 */
export function readParams<K extends string>(params: Params | undefined, rules: Record<K, NumberRule & { default: number }>): Record<K, number> {
  const given = params ?? {};
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(rules, name)) throw Invalid.field(`spec.params.${name}`, `one of ${Object.keys(rules).join(', ') || 'no parameters'} for this algorithm`);
  }
  const out = {} as Record<K, number>;
  for (const name of Object.keys(rules) as K[]) {
    const rule = rules[name];
    const v = given[name] ?? rule.default;
    const range = rule.max === undefined ? `at least ${rule.min}` : `from ${rule.min} to ${rule.max}`;
    const ok = Number.isFinite(v) && v >= rule.min && (rule.max === undefined || v <= rule.max) && (!rule.integer || Number.isInteger(v));
    if (!ok) throw Invalid.field(`spec.params.${name}`, `${rule.integer ? 'an integer' : 'a number'} ${range}`);
    out[name] = v;
  }
  return out;
}
