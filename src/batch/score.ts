import { decodeScoring } from '../serving/codec.js';
import { toNested } from '../serving/codec.values.js';
import type { Predictor, Tensors } from '../serving/predictor.js';
import { isSlipwayError } from '../shared/errors.js';
import { encodeLine, type OutputFormat } from './output.js';

export interface ScoreInput {
  /** Cells in `columns` order, as planning staged them. */
  rows: unknown[][];
  columns: string[];
  /** Columns passed to the model, in its order; null for every column. */
  features: string[] | null;
  format: OutputFormat;
}

export interface Scored {
  /** The output lines of the rows that scored, in input order. */
  lines: string;
  predictionColumns: string[];
  /** Rows (index within the mini-batch) that could not be scored, and why. */
  failed: Array<{ index: number; error: string }>;
}

/**
 * Scores one mini-batch exactly as online serving scores a `dataframe_split`
 * request: the same codec turns rows into tensors against the model's
 * signature and the same runtime runs them, so a row's scores are the
 * numbers `POST /endpoints/{e}/score` answers for it. A row the codec refuses
 * fails alone; a model error fails the call (the mini-batch is retried).
 */
export async function scoreRows(predictor: Predictor, input: ScoreInput): Promise<Scored> {
  const names = input.features ?? input.columns;
  const idx = names.map((f) => input.columns.indexOf(f));
  const data = input.rows.map((r) => idx.map((i) => r[i]));
  const decode = (rows: unknown[][]) => decodeScoring({ dataframe_split: { columns: names, data: rows } }, predictor.signature).inputs;
  let good = data.map((_, i) => i);
  const failed: Scored['failed'] = [];
  let inputs: Tensors | undefined;
  try {
    inputs = decode(data);
  } catch (e) {
    if (!isSlipwayError(e) || e.code !== 'invalid') throw e;
    // One bad row refuses the whole body: find the rows at fault one by one, score the rest together.
    good = [];
    data.forEach((row, i) => {
      try {
        decode([row]);
        good.push(i);
      } catch (err) {
        failed.push({ index: i, error: (err as Error).message });
      }
    });
    if (good.length) inputs = decode(good.map((i) => data[i]));
  }
  if (!inputs) return { lines: '', predictionColumns: [], failed };
  const outputs = await predictor.predict(inputs);
  const { columns: predictionColumns, cells } = predictionCells(outputs, good.length);
  let lines = '';
  good.forEach((rowIndex, k) => {
    lines += encodeLine(input.format, [...input.columns, ...predictionColumns], [...input.rows[rowIndex], ...cells[k]]);
  });
  return { lines, predictionColumns, failed };
}

/**
 * Per row, the prediction cells: one output is `prediction`, several are
 * named after their outputs; a row value of one element is that element, a
 * list of k scalars becomes k columns `<name>_0…`, anything deeper its JSON.
 */
export function predictionCells(outputs: Tensors, n: number): { columns: string[]; cells: unknown[][] } {
  const names = Object.keys(outputs);
  const columns: string[] = [];
  const cells: unknown[][] = Array.from({ length: n }, () => []);
  for (const name of names) {
    const base = names.length === 1 ? 'prediction' : name;
    const nested = toNested(outputs[name]);
    const perRow = Array.isArray(nested) ? nested : [nested];
    const first = perRow[0];
    const width = Array.isArray(first) && first.length > 1 && first.every((v) => !Array.isArray(v)) ? first.length : 1;
    if (width === 1) columns.push(base);
    else for (let j = 0; j < width; j++) columns.push(`${base}_${j}`);
    for (let i = 0; i < n; i++) {
      let v = perRow[i];
      if (Array.isArray(v) && v.length === 1 && !Array.isArray(v[0])) v = v[0];
      if (width > 1 && Array.isArray(v)) cells[i].push(...v);
      else cells[i].push(Array.isArray(v) ? JSON.stringify(v) : typeof v === 'bigint' ? Number(v) : v);
    }
  }
  return { columns, cells };
}
