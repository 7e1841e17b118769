import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import * as ort from 'onnxruntime-node';
import { trainFromFile, type TrainSpec } from '../../../src/jobs/trainer/index.js';
import { FEATURES, syntheticRows, toCsv } from './synthetic.js';

/** trainFromFile reads CSV, JSONL and Parquet through the datasets readers, and refuses specs it cannot honour with the field at fault. */

const rows = syntheticRows('binary', 120);
const spec: TrainSpec = { task: 'classification', algorithm: 'logistic_regression', features: FEATURES, label: 'y' };
let dir: string;
const file = (name: string) => join(dir, name);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'slipway-trainer-'));
  writeFileSync(file('data.csv'), toCsv(rows));
  writeFileSync(file('data.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const parquet = parquetWriteBuffer({
    columnData: [...FEATURES.map((f) => ({ name: f, data: rows.map((r) => r[f]), type: 'DOUBLE' as const })), { name: 'y', data: rows.map((r) => BigInt(r.y)), type: 'INT64' as const }],
  });
  writeFileSync(file('data.parquet'), Buffer.from(parquet));
  // Classes as text, a boolean feature, and an unused text column.
  const named = rows.map((r) => ({ ...r, y: r.y ? 'yes' : 'no', flag: r.a > 0 ? 'true' : 'false', note: 'n/a' }));
  writeFileSync(file('named.csv'), toCsv(named));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('built-in trainer: files', () => {
  it('trains the same model from CSV, JSONL and Parquet holding the same rows', async () => {
    const csv = await trainFromFile(file('data.csv'), spec);
    const jsonl = await trainFromFile(file('data.jsonl'), spec);
    const parquet = await trainFromFile(file('data.parquet'), spec);
    assert.deepEqual(csv.classes, [0, 1]);
    assert.ok(csv.onnx.equals(jsonl.onnx), 'csv = jsonl');
    assert.ok(csv.onnx.equals(parquet.onnx), 'csv = parquet');
    assert.deepEqual(csv.metrics, parquet.metrics);
    assert.equal(csv.metrics.test_rows, 24);
  });

  it('answers string class labels and takes boolean features', async () => {
    const r = await trainFromFile(file('named.csv'), { ...spec, algorithm: 'decision_tree', features: [...FEATURES, 'flag'], testFraction: 0 });
    assert.deepEqual(r.classes, ['no', 'yes']);
    assert.equal(r.metrics.test_rows, 0);
    const session = await ort.InferenceSession.create(r.onnx);
    const x = rows.slice(0, 5).map((row) => [...FEATURES.map((f) => row[f]), row.a > 0 ? 1 : 0]);
    const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x.flat()), [5, 5]) });
    assert.equal(out.label.type, 'string');
    assert.deepEqual(out.label.data, r.predict(x).labels!.map((l) => r.classes![l]));
  });

  it('refuses bad specs and data, naming the field', async () => {
    const refused = async (path: string, s: unknown, field: string, pattern: RegExp) => {
      await assert.rejects(trainFromFile(path, s as TrainSpec), (e: Error & { code?: string; issues?: Array<{ field: string }> }) => {
        assert.equal(e.code, 'invalid', e.message);
        assert.equal(e.issues?.[0].field, field, e.message);
        assert.match(e.message, pattern);
        return true;
      });
    };
    const csv = file('data.csv');
    await refused(csv, { ...spec, algorithm: 'svm' }, 'spec.algorithm', /spec\.algorithm/);
    await refused(csv, { ...spec, algorithm: 'linear_regression' }, 'spec.algorithm', /does not do classification.*logistic_regression/);
    await refused(csv, { ...spec, features: ['a', 'zz'] }, 'spec.features', /'zz' is not one/);
    await refused(csv, { ...spec, features: ['a', 'y'] }, 'spec.label', /both/);
    await refused(csv, { ...spec, params: { depth: 3 } }, 'spec.params.depth', /l2, maxIterations/);
    await refused(csv, { ...spec, algorithm: 'random_forest', params: { nEstimators: 0.5 } }, 'spec.params.nEstimators', /an integer from 1 to 1000/);
    await refused(csv, { ...spec, algorithm: 'random_forest', params: { maxFeatures: 2.5 } }, 'spec.params.maxFeatures', /a whole count from 1 to 4/);
    await refused(csv, { ...spec, algorithm: 'random_forest', params: { maxFeatures: 0.1 } }, 'spec.params.maxFeatures', /leaving at least one/);
    await refused(file('named.csv'), { ...spec, features: ['a', 'note'] }, 'spec.features', /'note' holds string values/);
    await refused(file('named.csv'), { ...spec, task: 'regression', algorithm: 'linear_regression' }, 'spec.label', /numeric column/);
    writeFileSync(file('gap.csv'), 'a,y\n1,0\n,1\n2,1\n');
    await refused(file('gap.csv'), { ...spec, features: ['a'] }, 'spec.features', /row 2 has none in 'a'/);
    writeFileSync(file('one-class.csv'), 'a,y\n1,0\n2,0\n3,0\n');
    await refused(file('one-class.csv'), { ...spec, features: ['a'] }, 'spec.label', /at least two classes/);
  });
});
