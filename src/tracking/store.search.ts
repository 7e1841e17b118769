import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { Invalid } from '../shared/errors.js';
import type { Comparator, Condition, OrderTerm } from './filter.js';
import { RUN_STATUSES } from './model.js';

/**
 * Compiles parsed search conditions to Kysely expressions. Keys and values
 * are always bound parameters; only column names chosen from the fixed maps
 * below become identifiers.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type EB = ExpressionBuilder<any, any>;

const NUMERIC_OPS: Comparator[] = ['=', '!=', '<', '<=', '>', '>='];
const STRING_OPS: Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];

/** Run attributes: name in a filter → column of `runs as r`, and whether it is numeric. */
const RUN_ATTRIBUTES: Record<string, { column: string; numeric: boolean; ops?: Comparator[] }> = {
  run_id: { column: 'r.run_uuid', numeric: false, ops: [...STRING_OPS, 'IN', 'NOT IN'] },
  run_uuid: { column: 'r.run_uuid', numeric: false, ops: [...STRING_OPS, 'IN', 'NOT IN'] },
  run_name: { column: 'r.name', numeric: false, ops: [...STRING_OPS, 'IN', 'NOT IN'] },
  'run name': { column: 'r.name', numeric: false },
  status: { column: 'r.status', numeric: false, ops: [...STRING_OPS, 'IN', 'NOT IN'] },
  user_id: { column: 'r.user_id', numeric: false },
  artifact_uri: { column: 'r.artifact_uri', numeric: false },
  lifecycle_stage: { column: 'r.lifecycle_stage', numeric: false },
  start_time: { column: 'r.start_time', numeric: true },
  end_time: { column: 'r.end_time', numeric: true },
  created: { column: 'r.start_time', numeric: true },
};

const EXPERIMENT_ATTRIBUTES: Record<string, { column: string; numeric: boolean }> = {
  name: { column: 'e.name', numeric: false },
  experiment_id: { column: 'e.id', numeric: true },
  creation_time: { column: 'e.creation_time', numeric: true },
  last_update_time: { column: 'e.last_update_time', numeric: true },
};

function bad(field: string, message: string): never {
  throw Invalid.field(field, message);
}

function checkOp(c: Condition, allowed: Comparator[], what: string) {
  if (!allowed.includes(c.op)) bad('filter', `'${c.op}' is not supported for ${what}; use one of ${allowed.join(', ')}`);
}

function numberValue(c: Condition, what: string): number {
  if (typeof c.value !== 'number') bad('filter', `${what} '${c.key}' compares with a number, got '${String(c.value)}'`);
  return c.value;
}

/** Times and ids are bigint columns: only integers PostgreSQL can hold compare with them. */
function integerValue(c: Condition, what: string): number {
  const v = numberValue(c, what);
  if (!Number.isSafeInteger(v)) bad('filter', `${what} '${c.key}' compares with an integer, got ${v}`);
  return v;
}

function stringValue(c: Condition, what: string): string {
  if (typeof c.value !== 'string') bad('filter', `${what} '${c.key}' compares with a quoted string, got ${String(c.value)}`);
  return c.value;
}

/** `column op value` with the value bound; LIKE and ILIKE map to PostgreSQL's own. */
function compare(eb: EB, column: string, op: Comparator, value: unknown): Expression<SqlBool> {
  const ref = eb.ref(column);
  switch (op) {
    case 'IN':
      return eb(ref, 'in', value as string[]);
    case 'NOT IN':
      return eb(ref, 'not in', value as string[]);
    case 'LIKE':
      return eb(ref, 'like', value as string);
    case 'ILIKE':
      return eb(ref, 'ilike', value as string);
    case '!=':
      return eb(ref, '<>', value as string);
    default:
      return eb(ref, op as '=' | '<' | '<=' | '>' | '>=', value as string);
  }
}

function keyed(eb: EB, table: string, c: Condition, valueCheck: (eb: EB) => Expression<SqlBool> | undefined): Expression<SqlBool> {
  const sub = eb
    .selectFrom(`${table} as x`)
    .select(sql.lit(1).as('one'))
    .whereRef('x.run_id', '=', 'r.id')
    .where('x.key', '=', c.key)
    .where((inner: EB) => valueCheck(inner) ?? sql<SqlBool>`true`);
  return c.op === 'IS NULL' ? eb.not(eb.exists(sub)) : eb.exists(sub);
}

export function compileRunCondition(eb: EB, c: Condition): Expression<SqlBool> {
  switch (c.entity) {
    case 'metric': {
      checkOp(c, NUMERIC_OPS, 'metrics');
      const v = numberValue(c, 'metric');
      return keyed(eb, 'run_latest_metrics', c, (x) => compare(x, 'x.value', c.op, v));
    }
    case 'param':
    case 'tag': {
      checkOp(c, [...STRING_OPS, 'IS NULL', 'IS NOT NULL'], c.entity === 'param' ? 'params' : 'tags');
      const table = c.entity === 'param' ? 'run_params' : 'run_tags';
      if (c.op === 'IS NULL' || c.op === 'IS NOT NULL') return keyed(eb, table, c, () => undefined);
      const v = stringValue(c, c.entity);
      return keyed(eb, table, c, (x) => compare(x, 'x.value', c.op, v));
    }
    case 'attribute': {
      const a = RUN_ATTRIBUTES[c.key] ?? RUN_ATTRIBUTES[c.key.toLowerCase()];
      if (!a) bad('filter', `invalid attribute key '${c.key}'; expected one of ${Object.keys(RUN_ATTRIBUTES).join(', ')}`);
      checkOp(c, a.ops ?? (a.numeric ? NUMERIC_OPS : STRING_OPS), `attribute '${c.key}'`);
      if (c.op === 'IN' || c.op === 'NOT IN') return compare(eb, a.column, c.op, c.value);
      if (a.numeric) return compare(eb, a.column, c.op, integerValue(c, 'attribute'));
      const v = stringValue(c, 'attribute');
      if (a.column === 'r.status' && c.op === '=' && !(RUN_STATUSES as readonly string[]).includes(v)) bad('filter', `status is one of ${RUN_STATUSES.join(', ')}`);
      return compare(eb, a.column, c.op, v);
    }
    case 'dataset': {
      const column = c.key === 'name' ? 'x.name' : c.key === 'digest' ? 'x.digest' : undefined;
      if (!column) bad('filter', `invalid dataset key '${c.key}'; expected name or digest`);
      checkOp(c, [...STRING_OPS, 'IN', 'NOT IN'], 'datasets');
      const sub = eb
        .selectFrom('run_dataset_inputs as x')
        .select(sql.lit(1).as('one'))
        .whereRef('x.run_id', '=', 'r.id')
        .where((inner: EB) => compare(inner, column, c.op, c.value));
      return eb.exists(sub);
    }
  }
}

export function compileExperimentCondition(eb: EB, c: Condition): Expression<SqlBool> {
  if (c.entity === 'tag') {
    checkOp(c, STRING_OPS, 'experiment tags');
    const v = stringValue(c, 'tag');
    return eb.exists(
      eb
        .selectFrom('experiment_tags as x')
        .select(sql.lit(1).as('one'))
        .whereRef('x.experiment_id', '=', 'e.id')
        .where('x.key', '=', c.key)
        .where((inner: EB) => compare(inner, 'x.value', c.op, v)),
    );
  }
  if (c.entity !== 'attribute') bad('filter', `experiments are searched by attributes and tags, not ${c.entity}s`);
  const a = EXPERIMENT_ATTRIBUTES[c.key];
  if (!a) bad('filter', `invalid attribute key '${c.key}'; expected one of ${Object.keys(EXPERIMENT_ATTRIBUTES).join(', ')}`);
  checkOp(c, a.numeric ? NUMERIC_OPS : STRING_OPS, `attribute '${c.key}'`);
  return compare(eb, a.column, c.op, a.numeric ? integerValue(c, 'attribute') : stringValue(c, 'attribute'));
}

export function experimentOrderColumn(key: string): string {
  const a = EXPERIMENT_ATTRIBUTES[key];
  if (!a) bad('order_by', `experiments order by ${Object.keys(EXPERIMENT_ATTRIBUTES).join(', ')}; got '${key}'`);
  return a.column;
}

/**
 * An ORDER BY for runs: the value (a scalar subquery for metrics, params and
 * tags) plus MLflow's rule that missing values (then NaN) sort last in both
 * directions.
 */
export function runOrderExpressions(eb: EB, o: OrderTerm): Array<{ expr: Expression<unknown>; desc: boolean }> {
  if (o.entity === 'attribute') {
    const a = RUN_ATTRIBUTES[o.key] ?? RUN_ATTRIBUTES[o.key.toLowerCase()];
    if (!a) bad('order_by', `invalid attribute key '${o.key}'; expected one of ${Object.keys(RUN_ATTRIBUTES).join(', ')}`);
    const ref = eb.ref(a.column);
    return [
      { expr: eb.case().when(ref, 'is', null).then(1).else(0).end(), desc: false },
      { expr: ref, desc: o.desc },
    ];
  }
  const table = o.entity === 'metric' ? 'run_latest_metrics' : o.entity === 'param' ? 'run_params' : o.entity === 'tag' ? 'run_tags' : undefined;
  if (!table) bad('order_by', `runs order by metrics, params, tags or attributes, not ${o.entity}s`);
  const value = eb.selectFrom(`${table} as x`).select('x.value').whereRef('x.run_id', '=', 'r.id').where('x.key', '=', o.key);
  const missing =
    o.entity === 'metric'
      ? sql<number>`case when ${value} is null then 2 when ${value} = 'NaN'::float8 then 1 else 0 end`
      : sql<number>`case when ${value} is null then 1 else 0 end`;
  return [
    { expr: missing, desc: false },
    { expr: value, desc: o.desc },
  ];
}
