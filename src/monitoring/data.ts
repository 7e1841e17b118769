/**
 * Samples as named columns of raw cells, from a reference dataset or from
 * captured traffic, and the typing of a column (numerical or categorical).
 */
import type { CaptureView } from '../telemetry/views.js';

export type FeatureType = 'numerical' | 'categorical';

export interface Sample {
  /** Column name → cells in row order (null when missing). */
  columns: Map<string, unknown[]>;
  /** Declared types (a dataset's schema); captured traffic has none. */
  types: Map<string, FeatureType>;
  rows: number;
}

export function emptySample(): Sample {
  return { columns: new Map(), types: new Map(), rows: 0 };
}

function push(s: Sample, name: string, value: unknown): void {
  let col = s.columns.get(name);
  if (!col) {
    // A column first seen late is missing in the rows before it.
    col = new Array(s.rows).fill(null);
    s.columns.set(name, col);
  }
  col.push(value);
}

/** Pads every column to the sample's row count after a row was added. */
function endRow(s: Sample): void {
  s.rows++;
  for (const col of s.columns.values()) if (col.length < s.rows) col.push(null);
}

export function addRecord(s: Sample, record: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(record)) push(s, k, v);
  endRow(s);
}

/** One row per captured feature row, with the request id of each row. */
export function featureSample(captures: CaptureView[]): { sample: Sample; requestIds: string[] } {
  const s = emptySample();
  const requestIds: string[] = [];
  for (const c of captures) {
    if (!c.features) continue;
    for (const row of c.features.rows) {
      c.features.columns.forEach((name, i) => push(s, name, row[i]));
      endRow(s);
      requestIds.push(c.requestId);
    }
  }
  return { sample: s, requestIds };
}

/**
 * One row per predicted row: an output of shape [N] or [N, 1] is one column
 * named after the output, [N, k] gives `name[0]…name[k-1]`.
 */
export function outputSample(captures: CaptureView[]): Sample {
  const s = emptySample();
  for (const c of captures) {
    if (!c.outputs) continue;
    const outputs = Object.entries(c.outputs).filter(([, v]) => Array.isArray(v)) as Array<[string, unknown[]]>;
    const n = Math.max(0, ...outputs.map(([, v]) => v.length));
    for (let r = 0; r < n; r++) {
      for (const [name, v] of outputs) {
        const cell = v[r];
        if (Array.isArray(cell) && cell.length === 1) push(s, name, cell[0]);
        else if (Array.isArray(cell)) cell.forEach((x, i) => push(s, `${name}[${i}]`, x));
        else push(s, name, cell);
      }
      endRow(s);
    }
  }
  return s;
}

export const isMissing = (v: unknown) => v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v)) || v === '';

/** Declared type, else numerical when every present cell is a finite number (or numeric text), else categorical. */
export function featureType(s: Sample, name: string): FeatureType {
  const declared = s.types.get(name);
  if (declared) return declared;
  const col = s.columns.get(name) ?? [];
  let seen = false;
  for (const v of col) {
    if (isMissing(v)) continue;
    seen = true;
    if (typeof v === 'number' ? !Number.isFinite(v) : typeof v === 'boolean' || !Number.isFinite(Number(v))) return 'categorical';
  }
  return seen ? 'numerical' : 'categorical';
}

/** Numbers of a column, missing and non-numeric cells as NaN (the drift methods leave NaNs out). */
export function numbers(col: unknown[]): Float64Array {
  const out = new Float64Array(col.length);
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    out[i] = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  }
  return out;
}

/** Present cells of a column as category names (booleans and numbers by their text). */
export function categories(col: unknown[]): string[] {
  const out: string[] = [];
  for (const v of col) if (!isMissing(v)) out.push(typeof v === 'string' ? v : JSON.stringify(v));
  return out;
}
