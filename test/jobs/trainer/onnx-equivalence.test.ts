import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { train, type TrainResult, type TrainSpec } from '../../../src/jobs/trainer/index.js';
import { FEATURES, syntheticTable, type Kind } from './synthetic.js';

/**
 * Every algorithm, trained on 300 synthetic rows, exported to ONNX and run
 * in onnxruntime: the model's outputs must equal the fitted model's own
 * predictions (labels exactly; probabilities and values to float32
 * precision), and where a library fitted the model, the library's own
 * `predict` as well.
 */

/** float32 against float64: equal within 1e-5, relative to the size of the value (absolute below 1). */
function near(actual: number, expected: number, what: string) {
  assert.ok(Math.abs(actual - expected) <= 1e-5 * Math.max(1, Math.abs(expected)), `${what}: onnx ${actual} vs ${expected}`);
}

interface OnnxOut {
  label?: unknown[];
  probabilities?: number[][];
  values?: number[];
}

async function runOnnx(bytes: Buffer, x: number[][]): Promise<OnnxOut> {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x.flat()), [x.length, x[0].length]) });
  if (out.variable) {
    assert.deepEqual(out.variable.dims, [x.length, 1]);
    return { values: [...(out.variable.data as Float32Array)] };
  }
  const C = out.probabilities.dims[1];
  const p = out.probabilities.data as Float32Array;
  return {
    label: [...(out.label.data as BigInt64Array | string[])],
    probabilities: x.map((_, i) => [...p.subarray(i * C, (i + 1) * C)]),
  };
}

/** ONNX labels are the dataset's class values: int64 for integer classes. */
const classValue = (r: TrainResult, index: number) => BigInt(r.classes![index] as number);

async function checkAgainstModel(r: TrainResult, x: number[][]): Promise<OnnxOut> {
  const out = await runOnnx(r.onnx, x);
  const expected = r.predict(x);
  if (r.task === 'regression') {
    expected.values!.forEach((v, i) => near(out.values![i], v, `row ${i}`));
  } else {
    assert.deepEqual(out.label, expected.labels!.map((l) => classValue(r, l)));
    expected.probabilities!.forEach((row, i) => row.forEach((p, c) => near(out.probabilities![i][c], p, `row ${i} class ${c}`)));
  }
  return out;
}

const cases: Array<{ algorithm: TrainSpec['algorithm']; kind: Kind; params?: Record<string, number> }> = [
  { algorithm: 'logistic_regression', kind: 'binary' },
  { algorithm: 'logistic_regression', kind: 'multiclass', params: { l2: 0.1 } },
  { algorithm: 'linear_regression', kind: 'regression' },
  { algorithm: 'decision_tree', kind: 'binary', params: { maxDepth: 6 } },
  { algorithm: 'decision_tree', kind: 'multiclass' },
  { algorithm: 'decision_tree', kind: 'regression', params: { minSamples: 5 } },
  { algorithm: 'random_forest', kind: 'binary', params: { nEstimators: 15 } },
  { algorithm: 'random_forest', kind: 'multiclass', params: { nEstimators: 10, maxFeatures: 0.75 } },
  { algorithm: 'random_forest', kind: 'regression', params: { nEstimators: 10, maxDepth: 6 } },
  { algorithm: 'gradient_boosting', kind: 'binary', params: { nEstimators: 20, subsample: 0.5 } },
  { algorithm: 'gradient_boosting', kind: 'multiclass', params: { nEstimators: 10, learningRate: 0.3 } },
  { algorithm: 'gradient_boosting', kind: 'regression', params: { nEstimators: 20, maxDepth: 4 } },
];

describe('built-in trainer: ONNX outputs equal the fitted model', () => {
  for (const c of cases) {
    it(`${c.algorithm} (${c.kind})`, async () => {
      const task = c.kind === 'regression' ? 'regression' : 'classification';
      const table = syntheticTable(c.kind);
      const spec: TrainSpec = { task, algorithm: c.algorithm, features: FEATURES, label: 'y', params: c.params, seed: 3 };
      const r = train(spec, table);
      assert.deepEqual(r.features, FEATURES);
      assert.equal(r.metrics.train_rows, 240);
      assert.equal(r.metrics.test_rows, 60);
      // Better than chance on the held-out rows: the data has a learnable signal.
      if (task === 'classification') assert.ok(r.metrics.accuracy > 0.7, `accuracy ${r.metrics.accuracy}`);
      else assert.ok(r.metrics.r2 > 0.5, `r2 ${r.metrics.r2}`);
      const out = await checkAgainstModel(r, table.x);
      checkAgainstLibrary(r, table.x, out);
      // Deterministic: the same spec and rows give the same bytes.
      assert.ok(train(spec, table).onnx.equals(r.onnx));
    });
  }

  it('a different seed gives a different split and model', () => {
    const table = syntheticTable('binary');
    const spec: TrainSpec = { task: 'classification', algorithm: 'random_forest', features: FEATURES, label: 'y', params: { nEstimators: 5 } };
    assert.ok(!train({ ...spec, seed: 1 }, table).onnx.equals(train({ ...spec, seed: 2 }, table).onnx));
  });
});

interface NativePredictor {
  predict(x: number[][]): number[] | number[][];
  predictionValues?(x: number[][]): { to2DArray(): number[][] };
}

/** Where a library fitted the model, ONNX agrees with the library's own `predict`. */
function checkAgainstLibrary(r: TrainResult, x: number[][], out: OnnxOut) {
  if (r.algorithm === 'logistic_regression' || r.algorithm === 'gradient_boosting') return; // fitted here, checked above
  const lib = r.model.native as NativePredictor;
  assert.ok(lib, `${r.algorithm} keeps the library's model`);
  const predicted = lib.predict(x);
  if (r.task === 'regression') {
    predicted.forEach((v, i) => near(out.values![i], Array.isArray(v) ? v[0] : v, `row ${i} (library)`));
    return;
  }
  const votes = lib.predictionValues?.(x).to2DArray();
  let compared = 0;
  predicted.forEach((label, i) => {
    // A forest's vote tie is the one case the library (first class to reach the count) and ArgMax (lowest class) may part.
    if (votes && isTie(votes[i])) return;
    compared++;
    assert.equal(out.label![i], classValue(r, label as number), `row ${i} (library)`);
  });
  assert.ok(compared > x.length * 0.9, `compared ${compared} rows`);
}

function isTie(votes: number[]): boolean {
  const counts = new Map<number, number>();
  for (const v of votes) counts.set(v, (counts.get(v) ?? 0) + 1);
  const sorted = [...counts.values()].sort((a, b) => b - a);
  return sorted.length > 1 && sorted[0] === sorted[1];
}
