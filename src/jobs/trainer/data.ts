import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { Invalid } from '../../shared/errors.js';
import type { Column, Format, Row, Value } from '../../datasets/infer.js';
import { resolveFormat } from '../../datasets/names.js';
import { inspectParquet, parquetRows } from '../../datasets/parquet.js';
import { csvInspector, csvRows, jsonlInspector, jsonlRows, type ByteInspector } from '../../datasets/text.js';
import type { TrainSpec } from './spec.js';

/** A class label as the dataset holds it; the model's `label` output gives these values back. */
export type ClassValue = number | string;

/** The training table: features as float32 values (what the ONNX model will see), targets as numbers. */
export interface Table {
  x: number[][];
  /** Class indices into `classes` (classification) or target values (regression). */
  y: number[];
  /** Sorted distinct labels (classification only). */
  classes?: ClassValue[];
}

/** Rows of a local CSV, JSONL or Parquet file, read with the datasets domain's parsers (two passes: schema, then rows). */
export async function readRows(path: string, format?: Format): Promise<{ columns: Column[]; rows: AsyncGenerator<Row> }> {
  const fmt = format ?? resolveFormat(undefined, basename(path), undefined);
  if (fmt === 'parquet') {
    const { columns } = await inspectParquet(path);
    return { columns, rows: parquetRows(path, columns) };
  }
  const inspector: ByteInspector = fmt === 'csv' ? csvInspector() : jsonlInspector();
  for await (const chunk of createReadStream(path) as AsyncIterable<Uint8Array>) inspector.push(chunk);
  const { columns } = inspector.end();
  const rows = fmt === 'csv' ? csvRows(createReadStream(path), columns) : jsonlRows(createReadStream(path), columns);
  return { columns, rows };
}

function columnOf(columns: Column[], name: string, field: string): Column {
  const c = columns.find((col) => col.name === name);
  if (!c) throw Invalid.field(field, `a column of the dataset; '${name}' is not one (columns: ${columns.map((col) => col.name).join(', ')})`);
  return c;
}

const numeric = new Set(['integer', 'number', 'boolean']);

/** Checks the columns the spec names against the dataset's schema, then collects the table. */
export async function collectTable(columns: Column[], rows: AsyncIterable<Row>, spec: TrainSpec): Promise<Table> {
  for (const f of spec.features) {
    const c = columnOf(columns, f, 'spec.features');
    if (!numeric.has(c.type)) throw Invalid.field('spec.features', `numeric or boolean columns; '${f}' holds ${c.type} values`);
  }
  const label = columnOf(columns, spec.label, 'spec.label');
  if (spec.task === 'regression' && label.type !== 'integer' && label.type !== 'number') {
    throw Invalid.field('spec.label', `a numeric column for regression; '${spec.label}' holds ${label.type} values`);
  }
  if (spec.task === 'classification' && label.type === 'number') {
    throw Invalid.field('spec.label', `a column of classes (integers, strings or booleans) for classification; '${spec.label}' holds non-integer numbers`);
  }
  const x: number[][] = [];
  const raw: Value[] = [];
  let n = 0;
  for await (const row of rows) {
    n++;
    x.push(spec.features.map((f) => featureValue(row[f], f, n)));
    const v = row[spec.label];
    if (v === null || (typeof v === 'number' && !Number.isFinite(v))) throw Invalid.field('spec.label', `a value in every row; row ${n} has none in '${spec.label}'`);
    raw.push(v);
  }
  if (n < 2) throw Invalid.field('dataset', `at least 2 rows to train on; found ${n}`);
  if (spec.task === 'regression') return { x, y: raw as number[] };
  return encodeClasses(x, raw, label.type === 'integer' || label.type === 'boolean');
}

/** Features become float32 here, so training sees exactly the values the exported model will. */
function featureValue(v: Value, name: string, row: number): number {
  const n = typeof v === 'boolean' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw Invalid.field('spec.features', `a finite value in every row; row ${row} has ${n === null ? 'none' : String(n)} in '${name}'`);
  }
  return Math.fround(n);
}

function encodeClasses(x: number[][], raw: Value[], integers: boolean): Table {
  // Booleans are classes 0 and 1, as they would be in a Python pipeline; anything else not an integer is text.
  const values: ClassValue[] = raw.map((v) => (typeof v === 'boolean' ? Number(v) : integers ? (v as number) : String(v)));
  const classes = [...new Set(values)].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1));
  if (classes.length < 2) throw Invalid.field('spec.label', `at least two classes; every row has '${String(classes[0])}'`);
  const index = new Map(classes.map((c, i) => [c, i]));
  return { x, y: values.map((v) => index.get(v)!), classes };
}

/** Mulberry32: a small, fast, seedable generator; the same seed gives the same split on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Split {
  train: Table;
  /** Held-out rows; the training rows when testFraction is 0. */
  test: Table;
  holdout: boolean;
}

/** A seeded shuffle, then the first `testFraction` of the rows are held out. */
export function splitTable(table: Table, testFraction: number, seed: number): Split {
  const n = table.y.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const random = seededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nTest = testFraction > 0 ? Math.min(n - 1, Math.max(1, Math.round(n * testFraction))) : 0;
  const pick = (idx: number[]): Table => ({ x: idx.map((i) => table.x[i]), y: idx.map((i) => table.y[i]), classes: table.classes });
  const train = pick(order.slice(nTest));
  if (table.classes && new Set(train.y).size < 2) throw Invalid.field('spec.testFraction', 'a split that leaves at least two classes to train on');
  return nTest === 0 ? { train, test: train, holdout: false } : { train, test: pick(order.slice(0, nTest)), holdout: true };
}
