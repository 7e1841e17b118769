/**
 * Scoring bodies → input tensors, validated against the model signature.
 * MLflow serving formats (dataframe_split, dataframe_records, instances,
 * inputs) and Open Inference Protocol requests. This is the gateway's hot
 * path: dataframe_split of a single 2-D input is one pass into one
 * preallocated typed array, with no per-row objects.
 */
import { Invalid } from '../shared/errors.js';
import { allocate, type ModelSignature, type Tensor, type TensorInfo, type Tensors } from './predictor.js';
import { decodeOipRequest, isOipRequest } from './codec.oip.js';
import { expectedShape, fromNested, invalidInput, put, toNested } from './codec.values.js';

export type ScoringFormat = 'dataframe_split' | 'dataframe_records' | 'instances' | 'inputs' | 'oip';

export interface Decoded {
  format: ScoringFormat;
  inputs: Tensors;
  /** Column names of a dataframe body, in order (monitoring keys features by them). */
  columns?: string[];
  /** OIP: the outputs asked for, and the request id to echo. */
  outputs?: string[];
  id?: string;
}

const formats = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;

export function decodeScoring(body: unknown, signature: ModelSignature): Decoded {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw Invalid.field('body', `a JSON object with one of ${formats.join(', ')} (MLflow) or an Open Inference Protocol request`);
  }
  const b = body as Record<string, unknown>;
  if (isOipRequest(b)) return { format: 'oip', ...decodeOipRequest(b, signature) };
  const present = formats.filter((f) => b[f] !== undefined);
  if (present.length !== 1) {
    const why = present.length ? `got ${present.join(' and ')}` : `got ${Object.keys(b).slice(0, 5).join(', ') || 'an empty object'}`;
    throw Invalid.field('body', `exactly one of ${formats.join(', ')} or an Open Inference Protocol request; ${why}`);
  }
  switch (present[0]) {
    case 'dataframe_split':
      return decodeSplit(b.dataframe_split, signature);
    case 'dataframe_records':
      return decodeRecords(b.dataframe_records, signature);
    case 'instances':
      return { format: 'instances', inputs: decodeLists(b.instances, signature, 'instances') };
    default:
      return { format: 'inputs', inputs: decodeLists(b.inputs, signature, 'inputs') };
  }
}

/** The model takes one matrix: columns are its features, in order. */
function singleMatrix(signature: ModelSignature): TensorInfo | undefined {
  const [only] = signature.inputs;
  return signature.inputs.length === 1 && only.shape.length === 2 ? only : undefined;
}

function decodeSplit(raw: unknown, signature: ModelSignature): Decoded {
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as { data?: unknown }).data)) {
    throw Invalid.field('dataframe_split', 'an object with data (a list of rows) and columns');
  }
  const { columns, data } = raw as { columns?: unknown; data: unknown[] };
  if (columns !== undefined && !(Array.isArray(columns) && columns.every((c) => typeof c === 'string' || typeof c === 'number'))) {
    throw Invalid.field('dataframe_split.columns', 'a list of column names');
  }
  const names = columns === undefined ? undefined : (columns as unknown[]).map(String);
  const matrix = singleMatrix(signature);
  if (matrix) return { format: 'dataframe_split', inputs: { [matrix.name]: rowsToMatrix(data, matrix, names) }, columns: names };
  return { format: 'dataframe_split', inputs: columnsToInputs(data, names, signature), columns: names };
}

/**
 * Rows → one [N, F] tensor in a single pass. F comes from the signature
 * when fixed, else from the columns or the first row.
 */
function rowsToMatrix(rows: unknown[], info: TensorInfo, columns: string[] | undefined): Tensor {
  const fixed = info.shape[1];
  const width = fixed >= 0 ? fixed : (columns?.length ?? (Array.isArray(rows[0]) ? rows[0].length : 0));
  if (columns && columns.length !== width) {
    throw invalidInput(info.name, `${expectedShape(info)}, got ${columns.length} column${columns.length === 1 ? '' : 's'}`);
  }
  if (rows.length === 0) throw invalidInput(info.name, `${expectedShape(info)}, got no rows`);
  if (info.shape[0] >= 0 && info.shape[0] !== rows.length) throw invalidInput(info.name, `${expectedShape(info)}, got ${rows.length} rows`);
  const n = rows.length;
  const out = allocate(info.type, n * width);
  const fast = info.type === 'float32' || info.type === 'float64';
  for (let r = 0, o = 0; r < n; r++) {
    const row = rows[r];
    if (!Array.isArray(row) || row.length !== width) {
      throw invalidInput(info.name, `${expectedShape(info)}, got ${Array.isArray(row) ? `${row.length} values` : 'a non-list'} in row ${r}`);
    }
    if (fast) {
      const f = out as Float32Array;
      for (let c = 0; c < width; c++, o++) {
        const v = row[c];
        if (typeof v !== 'number') put(out, o, v, info, () => `row ${r}, column ${columns?.[c] ?? c}`);
        f[o] = v;
      }
    } else {
      for (let c = 0; c < width; c++, o++) put(out, o, row[c], info, () => `row ${r}, column ${columns?.[c] ?? c}`);
    }
  }
  return { type: info.type, dims: [n, width], data: out };
}

/** Several inputs: each input is the column of its name, shaped [N] or [N, 1]. */
function columnsToInputs(rows: unknown[], columns: string[] | undefined, signature: ModelSignature): Tensors {
  const [only] = signature.inputs;
  // One input, one column: the column is the input, whatever it is called.
  const lone = signature.inputs.length === 1 && (columns?.length === 1 || (!columns && Array.isArray(rows[0]) && rows[0].length === 1));
  if (!columns && !lone) throw Invalid.field('dataframe_split.columns', `column names; the model has inputs ${signature.inputs.map((i) => i.name).join(', ')}`);
  const names = columns ?? [only.name];
  const out: Tensors = {};
  for (const info of signature.inputs) {
    const c = lone ? 0 : names.indexOf(info.name);
    if (c < 0) throw invalidInput(info.name, `a column named '${info.name}' (columns: ${names.join(', ')})`);
    const values = rows.map((row, r) => {
      if (!Array.isArray(row) || row.length !== names.length) throw Invalid.field(`dataframe_split.data[${r}]`, `a row of ${names.length} values`);
      return info.shape.length === 2 ? [row[c]] : row[c];
    });
    out[info.name] = fromNested(values, info);
  }
  return out;
}

function decodeRecords(raw: unknown, signature: ModelSignature): Decoded {
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) {
    throw Invalid.field('dataframe_records', 'a non-empty list of {column: value} objects');
  }
  const columns = Object.keys(raw[0] as object);
  const rows = (raw as Array<Record<string, unknown>>).map((rec, r) =>
    columns.map((c) => {
      if (!(c in rec)) throw Invalid.field(`dataframe_records[${r}]`, `a value for column '${c}'`);
      return rec[c];
    }),
  );
  const matrix = singleMatrix(signature);
  const inputs = matrix ? { [matrix.name]: rowsToMatrix(rows, matrix, columns) } : columnsToInputs(rows, columns, signature);
  return { format: 'dataframe_records', inputs, columns };
}

/** `instances` / `inputs`: a list for a one-input model, a dict of lists (or a list of dicts) by input name otherwise. */
function decodeLists(raw: unknown, signature: ModelSignature, field: 'instances' | 'inputs'): Tensors {
  const names = signature.inputs.map((i) => i.name);
  if (Array.isArray(raw) && raw.length && raw.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) {
    // A list of {input: value} records (TF-serving style): stack per input.
    const byName: Record<string, unknown[]> = {};
    for (const n of names) byName[n] = (raw as Array<Record<string, unknown>>).map((r) => r[n]);
    return decodeLists(byName, signature, field);
  }
  if (Array.isArray(raw)) {
    if (signature.inputs.length !== 1) throw Invalid.field(field, `a dict of lists by input name (${names.join(', ')}); the model has ${names.length} inputs`);
    return { [names[0]]: fromNested(raw, signature.inputs[0]) };
  }
  if (typeof raw !== 'object' || raw === null) throw Invalid.field(field, 'a list, or a dict of lists by input name');
  const dict = raw as Record<string, unknown>;
  const unknown = Object.keys(dict).find((k) => !names.includes(k));
  if (unknown !== undefined) throw Invalid.field(field, `keys among the model's inputs (${names.join(', ')}), got '${unknown}'`);
  const out: Tensors = {};
  for (const info of signature.inputs) {
    if (dict[info.name] === undefined) throw invalidInput(info.name, `missing; ${field} needs ${names.join(', ')}`);
    out[info.name] = fromNested(dict[info.name], info);
  }
  return out;
}

/** MLflow's response: one output as a list, several as a dict of lists by output name. */
export function encodeMlflowResponse(outputs: Tensors): { predictions: unknown } {
  const names = Object.keys(outputs);
  if (names.length === 1) return { predictions: toNested(outputs[names[0]]) };
  const predictions: Record<string, unknown> = {};
  for (const n of names) predictions[n] = toNested(outputs[n]);
  return { predictions };
}
