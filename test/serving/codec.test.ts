import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeScoring, encodeMlflowResponse } from '../../src/serving/codec.js';
import { decodeOipResponse, encodeOipRequest, encodeOipResponse } from '../../src/serving/codec.oip.js';
import type { ModelSignature, Tensor } from '../../src/serving/predictor.js';
import { isSlipwayError } from '../../src/shared/errors.js';

const lr: ModelSignature = {
  inputs: [{ name: 'X', type: 'float32', shape: [-1, 4] }],
  outputs: [{ name: 'y', type: 'float32', shape: [-1, 1] }],
};
const multi: ModelSignature = {
  inputs: [
    { name: 'age', type: 'int64', shape: [-1, 1] },
    { name: 'city', type: 'string', shape: [-1] },
  ],
  outputs: [{ name: 'p', type: 'float64', shape: [-1] }],
};
const rows = [
  [1, 2, 3, 4],
  [5, 6, 7, 8.5],
];

function invalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e) => {
    assert.ok(isSlipwayError(e), String(e));
    assert.equal(e.code, 'invalid');
    assert.match(e.message, message);
    return true;
  });
}

describe('codec: MLflow bodies', () => {
  it('dataframe_split maps columns to one float32 matrix and keeps the column names', () => {
    const d = decodeScoring({ dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: rows, index: [0, 1] } }, lr);
    assert.equal(d.format, 'dataframe_split');
    assert.deepEqual(d.columns, ['a', 'b', 'c', 'd']);
    assert.ok(d.inputs.X.data instanceof Float32Array);
    assert.deepEqual(d.inputs.X.dims, [2, 4]);
    assert.deepEqual([...(d.inputs.X.data as Float32Array)], rows.flat());
  });

  it('dataframe_records, instances and inputs give the same tensor', () => {
    const want = decodeScoring({ dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: rows } }, lr).inputs;
    const recs = decodeScoring({ dataframe_records: rows.map((r) => ({ a: r[0], b: r[1], c: r[2], d: r[3] })) }, lr);
    assert.deepEqual(recs.columns, ['a', 'b', 'c', 'd']);
    assert.deepEqual(recs.inputs, want);
    assert.deepEqual(decodeScoring({ instances: rows }, lr).inputs, want);
    assert.deepEqual(decodeScoring({ inputs: rows }, lr).inputs, want);
    assert.deepEqual(decodeScoring({ inputs: { X: rows } }, lr).inputs, want);
    assert.deepEqual(decodeScoring({ instances: [{ X: rows[0] }, { X: rows[1] }] }, lr).inputs, want);
  });

  it('several inputs by column or by name, with int64 and strings', () => {
    const split = decodeScoring({ dataframe_split: { columns: ['city', 'age'], data: [['Oslo', 30], ['Lyon', 41]] } }, multi);
    assert.deepEqual(split.inputs.age, { type: 'int64', dims: [2, 1], data: BigInt64Array.from([30n, 41n]) });
    assert.deepEqual(split.inputs.city, { type: 'string', dims: [2], data: ['Oslo', 'Lyon'] });
    const dict = decodeScoring({ inputs: { age: [[30], [41]], city: ['Oslo', 'Lyon'] } }, multi);
    assert.deepEqual(dict.inputs, split.inputs);
  });

  it('a one-input model of rank 1 takes a lone column whatever its name', () => {
    const text: ModelSignature = { inputs: [{ name: 'text', type: 'string', shape: [-1] }], outputs: [] };
    const want = { text: { type: 'string', dims: [2], data: ['a', 'b'] } };
    assert.deepEqual(decodeScoring({ dataframe_split: { columns: ['review'], data: [['a'], ['b']] } }, text).inputs, want);
    assert.deepEqual(decodeScoring({ dataframe_split: { data: [['a'], ['b']] } }, text).inputs, want);
    assert.deepEqual(decodeScoring({ dataframe_records: [{ review: 'a' }, { review: 'b' }] }, text).inputs, want);
    invalid(() => decodeScoring({ dataframe_split: { columns: ['x', 'y'], data: [['a', 'b']] } }, text), /input 'text': a column named 'text' \(columns: x, y\)/);
  });

  it('names the input and the expected shape on a wrong feature count', () => {
    invalid(() => decodeScoring({ dataframe_split: { columns: ['a', 'b', 'c'], data: [[1, 2, 3]] } }, lr), /input 'X': expected shape \[-1, 4\] \(4 features\), got 3 columns/);
    invalid(() => decodeScoring({ dataframe_split: { data: [[1, 2, 3, 4], [1, 2, 3]] } }, lr), /input 'X': expected shape \[-1, 4\] \(4 features\), got 3 values in row 1/);
    invalid(() => decodeScoring({ instances: [[1, 2, 3]] }, lr), /input 'X': expected shape \[-1, 4\] \(4 features\), got shape \[1, 3\]/);
    invalid(() => decodeScoring({ inputs: [1, 2, 3, 4] }, lr), /input 'X': expected shape \[-1, 4\].*got shape \[4\]/);
    invalid(() => decodeScoring({ instances: [[1, 2, 3, 4], [1, 2, 3]] }, lr), /input 'X'.*ragged/);
    invalid(() => decodeScoring({ dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: [] } }, lr), /input 'X'.*got no rows/);
  });

  it('names the input and the type on a wrong dtype', () => {
    invalid(() => decodeScoring({ dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: [[1, 2, 'x', 4]] } }, lr), /input 'X': expected float32 numbers, got "x" at row 0, column c/);
    invalid(() => decodeScoring({ instances: [[1, 2, null, 4]] }, lr), /input 'X': expected float32 numbers, got null at \[0, 2\]/);
    invalid(() => decodeScoring({ inputs: { age: [[1.5]], city: ['a'] } }, multi), /input 'age': expected int64 integers, got 1.5/);
    invalid(() => decodeScoring({ inputs: { age: [[1]], city: [3] } }, multi), /input 'city': expected string values, got 3/);
  });

  it('names what is missing or unknown', () => {
    invalid(() => decodeScoring({ dataframe_split: { columns: ['age'], data: [[1]] } }, multi), /input 'city': a column named 'city' \(columns: age\)/);
    invalid(() => decodeScoring({ dataframe_split: { data: [[1, 'a']] } }, multi), /dataframe_split.columns: column names; the model has inputs age, city/);
    invalid(() => decodeScoring({ inputs: { age: [[1]] } }, multi), /input 'city': missing/);
    invalid(() => decodeScoring({ inputs: { age: [[1]], city: ['a'], zip: [1] } }, multi), /inputs: keys among the model's inputs \(age, city\), got 'zip'/);
    invalid(() => decodeScoring({ inputs: [[1]] }, multi), /inputs: a dict of lists by input name/);
    invalid(() => decodeScoring({ dataframe_records: [{ a: 1, b: 2, c: 3, d: 4 }, { a: 1 }] }, lr), /dataframe_records\[1\]: a value for column 'b'/);
    invalid(() => decodeScoring({ dataframe_records: [] }, lr), /dataframe_records: a non-empty list/);
    invalid(() => decodeScoring({ dataframe_split: { data: 3 } }, lr), /dataframe_split: an object with data/);
    invalid(() => decodeScoring({ dataframe_split: { columns: 'abc', data: rows } }, lr), /dataframe_split.columns: a list of column names/);
    invalid(() => decodeScoring({}, lr), /body: exactly one of dataframe_split, dataframe_records, instances, inputs/);
    invalid(() => decodeScoring({ instances: rows, inputs: rows }, lr), /got instances and inputs/);
    invalid(() => decodeScoring([1, 2], lr), /body: a JSON object/);
  });

  it('encodes MLflow predictions: one output as a list, several as a dict', () => {
    const y: Tensor = { type: 'float32', dims: [2, 1], data: Float32Array.from([0.25, 0.75]) };
    assert.deepEqual(encodeMlflowResponse({ y }), { predictions: [[0.25], [0.75]] });
    const label: Tensor = { type: 'int64', dims: [2], data: BigInt64Array.from([0n, 1n]) };
    const ok: Tensor = { type: 'bool', dims: [2], data: Uint8Array.from([1, 0]) };
    assert.deepEqual(encodeMlflowResponse({ label, ok }), { predictions: { label: [0, 1], ok: [true, false] } });
  });
});

describe('codec: Open Inference Protocol', () => {
  const req = { id: 'r1', inputs: [{ name: 'X', shape: [2, 4], datatype: 'FP32', data: rows.flat() }], outputs: [{ name: 'y' }] };

  it('decodes a request (flat or nested data) and round-trips through encode', () => {
    const d = decodeScoring(req, lr);
    assert.equal(d.format, 'oip');
    assert.equal(d.id, 'r1');
    assert.deepEqual(d.outputs, ['y']);
    assert.deepEqual(d.inputs, decodeScoring({ instances: rows }, lr).inputs);
    assert.deepEqual(decodeScoring({ inputs: [{ ...req.inputs[0], data: rows }] }, lr).inputs, d.inputs);
    const again = decodeScoring(encodeOipRequest(d.inputs), lr);
    assert.deepEqual(again.inputs, d.inputs);
  });

  it('encodes a response and decodes it back', () => {
    const outputs = { y: { type: 'float32', dims: [2, 1], data: Float32Array.from([0.5, 0.125]) } as Tensor };
    const body = encodeOipResponse('cancer', outputs, { id: 'r1', modelVersion: '2' });
    assert.deepEqual(body, { model_name: 'cancer', model_version: '2', id: 'r1', outputs: [{ name: 'y', shape: [2, 1], datatype: 'FP32', data: [0.5, 0.125] }] });
    assert.deepEqual(decodeOipResponse(JSON.parse(JSON.stringify(body)), 'test'), outputs);
  });

  it('names the input on a wrong datatype, shape or count', () => {
    const with_ = (patch: object) => ({ inputs: [{ ...req.inputs[0], ...patch }] });
    invalid(() => decodeScoring(with_({ datatype: 'INT64' }), lr), /input 'X': expected datatype FP32, got "INT64"/);
    invalid(() => decodeScoring(with_({ shape: [2, 3] }), lr), /input 'X': expected shape \[-1, 4\] \(4 features\), got shape \[2, 3\]/);
    invalid(() => decodeScoring(with_({ shape: [3, 4] }), lr), /input 'X': shape \[3, 4\] needs 12 values, got 8/);
    invalid(() => decodeScoring(with_({ shape: [2, -4] }), lr), /input 'X' shape: a list of non-negative integers/);
    invalid(() => decodeScoring(with_({ name: 'Z' }), lr), /inputs\[0\].name: one of the model's inputs \(X\), got 'Z'/);
    invalid(() => decodeScoring(with_({ data: [1, 2, 3, 4, 5, 6, 7, 'x'] }), lr), /input 'X': expected float32 numbers, got "x" at data\[7\]/);
    invalid(() => decodeScoring({ ...req, outputs: [{ name: 'nope' }] }, lr), /outputs: names among the model's outputs \(y\), got 'nope'/);
    invalid(() => decodeScoring({ inputs: [{ name: 'age', shape: [1, 1], datatype: 'INT64', data: [1] }] }, multi), /input 'city': missing/);
  });

  it('refuses an unusable server response as unavailable, not invalid', () => {
    assert.throws(() => decodeOipResponse({ nope: 1 }, 'http://127.0.0.1:1'), (e) => isSlipwayError(e) && e.code === 'unavailable');
    assert.throws(() => decodeOipResponse({ outputs: [{ name: 'y', shape: [3], datatype: 'FP32', data: [1] }] }, 's'), /1 values for shape \[3\]/);
  });
});
