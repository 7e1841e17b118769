import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { logisticRegressionOnnx, expectedOutput, linearOnnx } from '../helpers/onnx.js';
import { OnnxPredictor } from '../../src/serving/runtimes/onnx.js';
import { createPredictor } from '../../src/serving/runtimes/index.js';
import type { Tensor } from '../../src/serving/predictor.js';
import { isSlipwayError } from '../../src/shared/errors.js';
import { until } from '../helpers/process.js';

const rows = [
  [1, 2, 3, 4],
  [0, 0, 0, 0],
  [-1, 0.5, 2, -3],
];
const x = (r: number[][] = rows): Tensor => ({ type: 'float32', dims: [r.length, 4], data: Float32Array.from(r.flat()) });

describe('onnx runtime', () => {
  let dir: string;
  let modelPath: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-onnx-'));
    modelPath = join(dir, 'model.onnx');
    writeFileSync(modelPath, logisticRegressionOnnx());
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the signature, warms up, and equals onnxruntime run directly', async () => {
    const p = new OnnxPredictor({ name: 'lr', model: modelPath, instances: 2 });
    try {
      await p.ready;
      assert.deepEqual(p.signature, {
        inputs: [{ name: 'input', type: 'float32', shape: [-1, 4] }],
        outputs: [{ name: 'output', type: 'float32', shape: [-1, 1] }],
      });
      const s = p.stats();
      assert.equal(s.healthyInstances, 2);
      assert.ok(s.modelLoadMs !== null && s.modelLoadMs > 0);

      const input = x();
      const out = await p.predict({ input });
      assert.deepEqual(out.output.dims, [3, 1]);
      assert.equal(out.output.type, 'float32');
      // Captures and mirrors reuse the request's tensors: the runtime must not detach them.
      assert.deepEqual([...(input.data as Float32Array)], rows.flat());

      const direct = await InferenceSession.create(modelPath);
      const ref = await direct.run({ input: new OrtTensor('float32', Float32Array.from(rows.flat()), [3, 4]) });
      await direct.release();
      assert.deepEqual([...(out.output.data as Float32Array)], [...(ref.output.data as Float32Array)]);
      const want = expectedOutput(rows, { sigmoid: true });
      (out.output.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6));
    } finally {
      await p.close();
    }
  });

  it('an input onnxruntime refuses is invalid, and the worker keeps serving', async () => {
    const p = new OnnxPredictor({ name: 'lr', model: modelPath });
    try {
      await p.ready;
      const bad: Tensor = { type: 'float32', dims: [1, 3], data: new Float32Array(3) };
      await assert.rejects(p.predict({ input: bad }), (e) => isSlipwayError(e) && e.code === 'invalid' && /model 'lr' refused the input/.test(e.message));
      assert.deepEqual((await p.predict({ input: x() })).output.dims, [3, 1]);
    } finally {
      await p.close();
    }
  });

  it('takes model bytes too', async () => {
    const p = createPredictor({ kind: 'onnx', name: 'lin', model: linearOnnx() });
    try {
      await p.ready;
      const out = await p.predict({ input: x() });
      const want = expectedOutput(rows);
      (out.output.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5));
    } finally {
      await p.close();
    }
  });

  it('refuses a file that is not a model', async () => {
    const p = new OnnxPredictor({ name: 'bad', model: Buffer.from('not onnx') });
    await assert.rejects(p.ready, (e) => isSlipwayError(e) && /bad/.test(e.message));
  });

  const big = (n: number): Tensor => {
    const data = new Float32Array(n * 4);
    for (let i = 0; i < data.length; i++) data[i] = (i % 7) / 7;
    return { type: 'float32', dims: [n, 4], data };
  };

  /** How late 1 ms timers fire while `work` runs: the event loop's responsiveness. */
  async function timerLag(work: () => Promise<unknown>): Promise<{ median: number; max: number; ticks: number }> {
    const lags: number[] = [];
    let stop = false;
    const probe = new Promise<void>((resolve) => {
      const tick = () => {
        const t0 = performance.now();
        setTimeout(() => {
          lags.push(performance.now() - t0 - 1);
          if (stop) resolve();
          else tick();
        }, 1);
      };
      tick();
    });
    await work();
    stop = true;
    await probe;
    lags.sort((a, b) => a - b);
    return { median: lags[lags.length >> 1], max: lags[lags.length - 1], ticks: lags.length };
  }

  it('keeps the event loop responsive while the workers are saturated', async () => {
    const rowsPerRun = 1_000_000;
    // The control: the same model run on this thread blocks the loop for a
    // whole inference at a time (onnxruntime's run is synchronous).
    const direct = await InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
    const control = await timerLag(async () => {
      for (let i = 0; i < 3; i++) await direct.run({ input: new OrtTensor('float32', big(rowsPerRun).data as Float32Array, [rowsPerRun, 4]) });
    });
    await direct.release();

    // One worker: on a 2-core machine the other core is the gateway's.
    const p = new OnnxPredictor({ name: 'lr', model: modelPath, instances: 1, maxConcurrent: 2, maxQueue: 100 });
    try {
      await p.ready;
      const inputs = Array.from({ length: 8 }, () => big(rowsPerRun));
      let peak = p.stats();
      const lag = await timerLag(async () => {
        const burst = inputs.map((input) => p.predict({ input }));
        peak = p.stats();
        const outs = await Promise.all(burst);
        assert.ok(outs.every((o) => o.output.dims[0] === rowsPerRun));
      });
      assert.equal(peak.inFlight, 2);
      assert.equal(peak.queued, 6);
      assert.ok(lag.ticks > 5, `the probe ran ${lag.ticks} times`);
      const text = `with workers median ${lag.median.toFixed(1)} ms, max ${lag.max.toFixed(1)} ms; on the event loop median ${control.median.toFixed(1)} ms, max ${control.max.toFixed(1)} ms`;
      assert.ok(lag.median < 3 && lag.max < 100, `timer lag ${text}`);
    } finally {
      await p.close();
    }
  });

  it('refuses at once with Unavailable and Retry-After when the queue is full', async () => {
    const p = new OnnxPredictor({ name: 'lr', model: modelPath, instances: 1, maxConcurrent: 1, maxQueue: 2 });
    try {
      await p.ready;
      const settled = await Promise.allSettled(Array.from({ length: 6 }, () => p.predict({ input: x() })));
      assert.deepEqual(
        settled.map((s) => s.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected'],
      );
      const e = (settled[3] as PromiseRejectedResult).reason;
      assert.ok(isSlipwayError(e));
      assert.equal(e.code, 'unavailable');
      assert.ok((e as { retryAfterSeconds?: number }).retryAfterSeconds! >= 1);
      assert.match(e.message, /queue of 2 full/);
      assert.deepEqual(p.stats().queued, 0);
    } finally {
      await p.close();
    }
  });

  it('times out a request queued behind slow ones with code timeout, and keeps serving', async () => {
    // The running case is covered deterministically in runtimes.pool.test.ts.
    const p = new OnnxPredictor({ name: 'lr', model: modelPath, instances: 1, maxConcurrent: 1 });
    try {
      await p.ready;
      const slow = [p.predict({ input: big(1_000_000) }), p.predict({ input: big(1_000_000) })];
      const queued = p.predict({ input: x() }, { timeoutMs: 5 });
      await assert.rejects(queued, (e) => isSlipwayError(e) && e.code === 'timeout' && /within 5 ms/.test(e.message));
      for (const out of await Promise.all(slow)) assert.deepEqual(out.output.dims, [1_000_000, 1]);
      const ok = await p.predict({ input: x() }, { timeoutMs: 10_000 });
      assert.deepEqual(ok.output.dims, [3, 1]);
    } finally {
      await p.close();
    }
  });

  it('replaces a worker that dies: Unavailable meanwhile, then serving again', async () => {
    const p = new OnnxPredictor({ name: 'lr', model: modelPath });
    try {
      await p.ready;
      const worker = p['workers'][0]['worker'];
      await worker.terminate();
      assert.equal(p.stats().healthyInstances, 0);
      await assert.rejects(p.predict({ input: x() }), (e) => isSlipwayError(e) && e.code === 'unavailable');
      const out = await until('the new worker', async () => p.predict({ input: x() }).catch(() => undefined), 10_000, 20);
      assert.deepEqual(out.output.dims, [3, 1]);
      assert.equal(p.stats().restarts, 1);
    } finally {
      await p.close();
    }
  });

  it('honours an abort signal and refuses work when closed', async () => {
    const p = new OnnxPredictor({ name: 'lr', model: modelPath });
    await p.ready;
    const ac = new AbortController();
    ac.abort(new Error('client went away'));
    await assert.rejects(p.predict({ input: x() }, { signal: ac.signal }), /client went away/);
    await p.close();
    await assert.rejects(p.predict({ input: x() }), (e) => isSlipwayError(e) && e.code === 'unavailable');
  });
});
