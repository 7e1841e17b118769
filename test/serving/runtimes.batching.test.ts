import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BatchingPredictor } from '../../src/serving/runtimes/batching.js';
import { createPredictor } from '../../src/serving/runtimes/index.js';
import type { ModelSignature, Predictor, Tensors } from '../../src/serving/predictor.js';
import { isSlipwayError } from '../../src/shared/errors.js';
import { expectedOutput, logisticRegressionOnnx } from '../helpers/onnx.js';

const dynamic: ModelSignature = {
  inputs: [{ name: 'input', type: 'float32', shape: [-1, 4] }],
  outputs: [{ name: 'output', type: 'float32', shape: [-1, 1] }],
};

/** The test model in plain JS, recording the batch sizes it is given; `gate` holds answers back. */
class FakeModel implements Predictor {
  readonly ready = Promise.resolve();
  calls: number[] = [];
  gate: Promise<void> = Promise.resolve();
  constructor(readonly signature: ModelSignature = dynamic) {}
  async predict(inputs: Tensors): Promise<Tensors> {
    const x = inputs.input;
    this.calls.push(x.dims[0]);
    await this.gate;
    const rows: number[][] = [];
    for (let r = 0; r < x.dims[0]; r++) rows.push([...(x.data as Float32Array).slice(r * 4, r * 4 + 4)]);
    return { output: { type: 'float32', dims: [rows.length, 1], data: Float32Array.from(expectedOutput(rows, { sigmoid: true })) } };
  }
  stats() {
    return { inFlight: 0, queued: 0, healthyInstances: 1, instances: 1, modelLoadMs: 0, restarts: 0 };
  }
  async close(): Promise<void> {}
}

const req = (rows: number[][]): Tensors => ({ input: { type: 'float32', dims: [rows.length, 4], data: Float32Array.from(rows.flat()) } });
const row = (k: number) => [k, k / 2, -k, 1];

function check(out: Tensors, rows: number[][]): void {
  const want = expectedOutput(rows, { sigmoid: true });
  assert.deepEqual(out.output.dims, [rows.length, 1]);
  (out.output.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6, `${v} vs ${want[i]}`));
}

describe('micro-batching', () => {
  it('joins requests of one tick into one inference and splits the answers back', async () => {
    const inner = new FakeModel();
    const p = new BatchingPredictor(inner, { name: 'm', maxBatchSize: 64, maxWaitMicros: 0 });
    await p.ready;
    const asks = [[row(1)], [row(2), row(3)], [row(4)], [row(5), row(6), row(7)]];
    const outs = await Promise.all(asks.map((r) => p.predict(req(r))));
    assert.deepEqual(inner.calls, [7]);
    outs.forEach((o, i) => check(o, asks[i]));
  });

  it('flushes at maxBatchSize and passes big requests straight through', async () => {
    const inner = new FakeModel();
    const p = new BatchingPredictor(inner, { name: 'm', maxBatchSize: 4, maxWaitMicros: 0 });
    await p.ready;
    const asks = [[row(1), row(2)], [row(3), row(4)], [row(5), row(6)], [row(1), row(2), row(3), row(4), row(5)]];
    const outs = await Promise.all(asks.map((r) => p.predict(req(r))));
    assert.deepEqual(inner.calls.sort(), [2, 4, 5]);
    outs.forEach((o, i) => check(o, asks[i]));
  });

  it('waits up to maxWaitMicros for company', async () => {
    const inner = new FakeModel();
    const p = new BatchingPredictor(inner, { name: 'm', maxBatchSize: 64, maxWaitMicros: 200_000 });
    await p.ready;
    const first = p.predict(req([row(1)]));
    await new Promise((r) => setImmediate(r));
    const second = p.predict(req([row(2)]));
    check(await first, [row(1)]);
    check(await second, [row(2)]);
    assert.deepEqual(inner.calls, [2]);
  });

  it('a member past its deadline times out alone; the others get their answers', async () => {
    const inner = new FakeModel();
    let open!: () => void;
    inner.gate = new Promise((r) => (open = r));
    const p = new BatchingPredictor(inner, { name: 'm', maxBatchSize: 64, maxWaitMicros: 0 });
    await p.ready;
    const late = p.predict(req([row(1)]), { timeoutMs: 1 });
    const fine = p.predict(req([row(2)]));
    await assert.rejects(late, (e) => isSlipwayError(e) && e.code === 'timeout');
    open();
    check(await fine, [row(2)]);
    assert.deepEqual(inner.calls, [2]);
  });

  it('passes through a model with a fixed batch dimension', async () => {
    const inner = new FakeModel({ ...dynamic, inputs: [{ name: 'input', type: 'float32', shape: [1, 4] }] });
    const p = new BatchingPredictor(inner, { name: 'm', maxBatchSize: 64, maxWaitMicros: 0 });
    await p.ready;
    await Promise.all([p.predict(req([row(1)])), p.predict(req([row(2)]))]);
    assert.deepEqual(inner.calls, [1, 1]);
  });

  it('batches the real onnx runtime with the same answers as unbatched', async () => {
    const p = createPredictor({ kind: 'onnx', name: 'lr', model: logisticRegressionOnnx(), batching: { maxBatchSize: 32, maxWaitMicros: 200 } });
    try {
      await p.ready;
      assert.ok(p instanceof BatchingPredictor);
      const asks = Array.from({ length: 20 }, (_, k) => [row(k), row(k + 1)].slice(0, 1 + (k % 2)));
      const outs = await Promise.all(asks.map((r) => p.predict(req(r))));
      outs.forEach((o, i) => check(o, asks[i]));
    } finally {
      await p.close();
    }
  });
});
