/**
 * Values ↔ typed arrays for the scoring codecs: element conversion with
 * checks that name the input, nested JSON lists ↔ dense tensors, and the
 * Open Inference Protocol's datatype names.
 */
import { Invalid } from '../shared/errors.js';
import { allocate, elementCount, type ElementType, type Tensor, type TensorData, type TensorInfo } from './predictor.js';

export const oipDatatype: Record<ElementType, string> = {
  float32: 'FP32',
  float64: 'FP64',
  int32: 'INT32',
  int64: 'INT64',
  bool: 'BOOL',
  string: 'BYTES',
};

export const elementTypeOfOip: Record<string, ElementType | undefined> = {
  FP32: 'float32',
  FP64: 'float64',
  INT32: 'int32',
  INT64: 'int64',
  BOOL: 'bool',
  BYTES: 'string',
};

export function invalidInput(name: string, expected: string): Invalid {
  return Invalid.field(`input '${name}'`, expected);
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** "expected shape [-1, 4] (4 features)" — the phrase every shape error starts with. */
export function expectedShape(info: TensorInfo): string {
  const f = info.shape.length === 2 && info.shape[1] >= 0 ? ` (${info.shape[1]} feature${info.shape[1] === 1 ? '' : 's'})` : '';
  return `expected shape ${shapeText(info.shape)}${f}`;
}

const what: Record<ElementType, string> = {
  float32: 'numbers',
  float64: 'numbers',
  int32: 'integers',
  int64: 'integers',
  bool: 'booleans',
  string: 'values',
};

function badValue(info: TensorInfo, v: unknown, at: string): Invalid {
  const shown = JSON.stringify(v) ?? String(v);
  return invalidInput(info.name, `expected ${info.type} ${what[info.type]}, got ${shown.slice(0, 40)}${at ? ` at ${at}` : ''}`);
}

/**
 * Writes one JSON value into `out[i]`, or throws naming the input. `at`
 * is computed only on failure (the hot path pays nothing for it).
 */
export function put(out: TensorData, i: number, v: unknown, info: TensorInfo, at: () => string): void {
  switch (info.type) {
    case 'float32':
    case 'float64':
      if (typeof v !== 'number') throw badValue(info, v, at());
      (out as Float32Array)[i] = v;
      return;
    case 'int32':
      if (!Number.isInteger(v) || (v as number) > 2147483647 || (v as number) < -2147483648) throw badValue(info, v, at());
      (out as Int32Array)[i] = v as number;
      return;
    case 'int64':
      if (!Number.isSafeInteger(v)) throw badValue(info, v, at());
      (out as BigInt64Array)[i] = BigInt(v as number);
      return;
    case 'bool':
      if (typeof v === 'boolean') (out as Uint8Array)[i] = v ? 1 : 0;
      else if (v === 0 || v === 1) (out as Uint8Array)[i] = v;
      else throw badValue(info, v, at());
      return;
    case 'string':
      if (typeof v !== 'string') throw badValue(info, v, at());
      (out as string[])[i] = v;
      return;
  }
}

/** Checks rank and fixed dimensions of `dims` against the signature. */
export function checkShape(info: TensorInfo, dims: readonly number[], got = `got shape ${shapeText(dims)}`): void {
  const ok = dims.length === info.shape.length && info.shape.every((d, k) => d < 0 || d === dims[k]);
  if (!ok) throw invalidInput(info.name, `${expectedShape(info)}, ${got}`);
}

/** A nested JSON list → a dense tensor of the signature's type, validated. */
export function fromNested(value: unknown, info: TensorInfo): Tensor {
  const dims: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) {
    dims.push(v.length);
    if (v.length === 0) break;
  }
  checkShape(info, dims);
  const data = allocate(info.type, elementCount(dims));
  let i = 0;
  const walk = (v: unknown, depth: number, path: number[]): void => {
    if (depth === dims.length) {
      put(data, i++, v, info, () => shapeText(path));
      return;
    }
    if (!Array.isArray(v) || v.length !== dims[depth]) {
      throw invalidInput(info.name, `${expectedShape(info)}, got a ragged list (${Array.isArray(v) ? `${v.length} values` : 'a scalar'} at ${shapeText(path)} where ${dims[depth]} were expected)`);
    }
    for (let k = 0; k < v.length; k++) walk(v[k], depth + 1, [...path, k]);
  };
  walk(value, 0, []);
  return { type: info.type, dims, data };
}

/** A flat list (OIP `data`) → typed data; nested lists are flattened first, as OIP allows. */
export function fromFlat(values: unknown[], info: TensorInfo): TensorData {
  const flat = values.length && Array.isArray(values[0]) ? (values.flat(Infinity) as unknown[]) : values;
  const data = allocate(info.type, flat.length);
  for (let i = 0; i < flat.length; i++) put(data, i, flat[i], info, () => `data[${i}]`);
  return data;
}

/** JSON-friendly flat values (int64 as numbers, bool as booleans). */
export function toFlat(t: Tensor): unknown[] {
  if (t.type === 'int64') return Array.from(t.data as BigInt64Array, Number);
  if (t.type === 'bool') return Array.from(t.data as Uint8Array, (b) => b !== 0);
  return Array.from(t.data as ArrayLike<unknown>);
}

/** A tensor → nested JSON lists following its dims. */
export function toNested(t: Tensor): unknown {
  const flat = toFlat(t);
  if (t.dims.length <= 1) return t.dims.length === 0 ? flat[0] : flat;
  let level: unknown[] = flat;
  for (let k = t.dims.length - 1; k >= 1; k--) {
    const size = t.dims[k];
    const next: unknown[] = [];
    for (let i = 0; i < level.length; i += size) next.push(level.slice(i, i + size));
    level = next;
  }
  return level;
}
