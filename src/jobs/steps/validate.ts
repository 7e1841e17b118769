import type { ColumnType, Value } from '../../datasets/infer.js';
import { Invalid } from '../../shared/errors.js';
import { dataset, logDatasetInput, obj, putRunArtifact } from './inputs.js';
import type { StepContext, StepOutputs } from './index.js';

/** One kind of fault in one column, with the first rows at fault (1-based data rows, header excluded). */
export interface Fault {
  column: string;
  problem: string;
  count: number;
  rows: number[];
}

const SHOWN_ROWS = 20;

interface Range {
  min?: number;
  max?: number;
}

/** Reference ranges: given per column, or the reference's own min..max widened by `rangeMargin` of its span. */
async function rangesOf(s: StepContext, ref: Awaited<ReturnType<typeof dataset>>): Promise<Record<string, Range>> {
  const given = (obj(s, 'ranges') ?? {}) as Record<string, Range>;
  for (const [k, r] of Object.entries(given)) {
    if (r === null || typeof r !== 'object' || (r.min !== undefined && typeof r.min !== 'number') || (r.max !== undefined && typeof r.max !== 'number')) throw Invalid.field(`with.ranges.${k}`, 'a map { min, max } of numbers');
  }
  if (s.with.rangesFromReference !== true) return given;
  const margin = typeof s.with.rangeMargin === 'number' ? s.with.rangeMargin : 0.1;
  const numeric = ref.meta.schema.columns.filter((c) => c.type === 'integer' || c.type === 'number').map((c) => c.name);
  const seen: Record<string, { min: number; max: number }> = {};
  for await (const row of ref.rows()) {
    for (const c of numeric) {
      const v = row[c];
      if (typeof v !== 'number') continue;
      const r = (seen[c] ??= { min: v, max: v });
      r.min = Math.min(r.min, v);
      r.max = Math.max(r.max, v);
    }
  }
  const out: Record<string, Range> = {};
  for (const [c, r] of Object.entries(seen)) out[c] = { min: r.min - (r.max - r.min) * margin, max: r.max + (r.max - r.min) * margin };
  return { ...out, ...given };
}

/** The value as the reference type reads it, or undefined when it is not one. */
function asType(v: Value, t: ColumnType): Value | undefined {
  if (t === 'string') return String(v);
  if (t === 'boolean') return typeof v === 'boolean' ? v : v === 'true' || v === 'false' ? v === 'true' : undefined;
  if (t === 'datetime') return typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? v : undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) return undefined;
  return t === 'integer' && !Number.isInteger(n) ? undefined : n;
}

/**
 * `validate-data`: a dataset version against a reference dataset's schema —
 * every reference column present, values of the reference's type, no nulls
 * where the reference has none, numbers within ranges. Fails with a report
 * naming each column at fault and its rows.
 */
export async function validateStep(s: StepContext): Promise<StepOutputs> {
  const data = await dataset(s, 'dataset');
  const ref = await dataset(s, 'reference');
  const ranges = await rangesOf(s, ref);
  await logDatasetInput(s, data, 'validation');
  const faults = new Map<string, Fault>();
  const fault = (column: string, problem: string, row?: number) => {
    const key = `${column}\u0000${problem}`;
    const f = faults.get(key) ?? { column, problem, count: 0, rows: [] };
    faults.set(key, f);
    f.count++;
    if (row !== undefined && f.rows.length < SHOWN_ROWS) f.rows.push(row);
  };
  const have = new Set(data.meta.schema.columns.map((c) => c.name));
  const cols = ref.meta.schema.columns.filter((c) => {
    if (!have.has(c.name)) fault(c.name, 'missing: the reference has this column, the dataset does not');
    return have.has(c.name);
  });
  let n = 0;
  for await (const row of data.rows()) {
    n++;
    if (s.signal.aborted) break;
    for (const c of cols) {
      const v = row[c.name];
      if (v === null || v === undefined) {
        if (!c.nullable) fault(c.name, 'null where the reference has none', n);
        continue;
      }
      const typed = asType(v, c.type);
      if (typed === undefined) {
        fault(c.name, `not ${c.type === 'integer' ? 'an integer' : `a ${c.type}`} (as in the reference)`, n);
        continue;
      }
      const r = ranges[c.name];
      if (r && typeof typed === 'number' && ((r.min !== undefined && typed < r.min) || (r.max !== undefined && typed > r.max))) fault(c.name, `out of range [${r.min ?? '-inf'}, ${r.max ?? 'inf'}]`, n);
    }
  }
  const extra = data.meta.schema.columns.filter((c) => !ref.meta.schema.columns.some((x) => x.name === c.name)).map((c) => c.name);
  if (extra.length) s.log(`columns not in the reference (not checked): ${extra.join(', ')}`);
  const report = [...faults.values()];
  // The whole report (every fault, its count and first rows) as a run artifact, for tools and the UI.
  const summary = { dataset: data.meta.uri, reference: ref.meta.uri, rows: n, valid: report.length === 0, faults: report, ranges };
  await putRunArtifact(s, 'validation/report.json', Buffer.from(JSON.stringify(summary, null, 2)), 'application/json');
  for (const f of report) s.log(`column '${f.column}': ${f.count} ${f.count === 1 ? 'row' : 'rows'} ${f.problem}${f.rows.length ? ` (rows ${f.rows.join(', ')}${f.count > f.rows.length ? ', …' : ''})` : ''}`);
  if (report.length) throw new Error(`${data.meta.uri} fails validation against ${ref.meta.uri}: ${report.map(describe).join('; ')}`);
  s.log(`${data.meta.uri}: ${n} rows valid against ${ref.meta.uri}`);
  return { dataset: data.meta.uri, rows: n };
}

const describe = (f: Fault) => `column '${f.column}' ${f.problem}${f.rows.length ? ` in rows ${f.rows.join(', ')}${f.count > f.rows.length ? ` and ${f.count - f.rows.length} more` : ''}` : ''}`;
