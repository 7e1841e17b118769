import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HttpPredictor, mlflowPredictions, mlflowRequest } from '../../src/serving/runtimes/http.js';
import type { ModelSignature, Tensor } from '../../src/serving/predictor.js';
import { isSlipwayError } from '../../src/shared/errors.js';
import { expectedOutput } from '../helpers/onnx.js';
import { freePort, until } from '../helpers/process.js';

const fixture = fileURLToPath(new URL('./fixtures/oip-server.mjs', import.meta.url));
const rows = [
  [1, 2, 3, 4],
  [0, 0, 0, 0],
];
const x = (): Tensor => ({ type: 'float32', dims: [2, 4], data: Float32Array.from(rows.flat()) });
const want = expectedOutput(rows, { sigmoid: true });
const signature: ModelSignature = {
  inputs: [{ name: 'input', type: 'float32', shape: [-1, 4] }],
  outputs: [{ name: 'output', type: 'float32', shape: [-1] }],
};

describe('http runtime', () => {
  let server: ChildProcess;
  let url: string;
  before(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [fixture], { env: { PORT: String(port) }, stdio: 'ignore' });
    await until('fixture server', async () => (await fetch(`${url}/v2/health/live`)).ok);
  });
  after(() => {
    server.kill('SIGKILL');
  });

  it('serves through an OIP server, reading its metadata as the signature', async () => {
    const p = new HttpPredictor({ name: 'lr', url });
    try {
      await p.ready;
      assert.deepEqual(p.signature.inputs, signature.inputs);
      const out = await p.predict({ input: x() });
      assert.deepEqual(out.output.dims, [2, 1]);
      (out.output.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6));
      assert.equal(p.stats().healthyInstances, 1);
    } finally {
      await p.close();
    }
  });

  it('serves through MLflow /invocations with dataframe_split', async () => {
    const p = new HttpPredictor({ name: 'lr', url, protocol: 'mlflow', signature, columns: ['a', 'b', 'c', 'd'] });
    try {
      await p.ready;
      const out = await p.predict({ input: x() });
      assert.equal(out.output.type, 'float32');
      assert.deepEqual(out.output.dims, [2]);
      (out.output.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6));
    } finally {
      await p.close();
    }
  });

  it('passes a model server 4xx on as invalid', async () => {
    const p = new HttpPredictor({ name: 'lr', url });
    try {
      await p.ready;
      const bad: Tensor = { type: 'float32', dims: [1, 3], data: new Float32Array(3) };
      await assert.rejects(p.predict({ input: bad }), (e) => isSlipwayError(e) && e.code === 'invalid');
    } finally {
      await p.close();
    }
  });

  it('keeps serving through a server that answers 5xx now and then: only those requests fail', async () => {
    const port = await freePort();
    const flakyUrl = `http://127.0.0.1:${port}`;
    const flaky = spawn(process.execPath, [fixture], { env: { PORT: String(port), FAIL_EVERY: '5' }, stdio: 'ignore' });
    const p = new HttpPredictor({ name: 'lr', url: flakyUrl });
    try {
      await until('flaky fixture', async () => (await fetch(`${flakyUrl}/v2/health/live`)).ok);
      await p.ready;
      const codes: string[] = [];
      for (let i = 0; i < 50; i++) codes.push(await p.predict({ input: x() }).then(() => 'ok', (e) => (isSlipwayError(e) ? e.code : String(e))));
      assert.equal(codes.filter((c) => c === 'ok').length, 40);
      assert.equal(codes.filter((c) => c === 'unavailable').length, 10);
      assert.equal(p.stats().healthyInstances, 1, 'a server that answers is not taken out of rotation');
    } finally {
      await p.close();
      flaky.kill('SIGKILL');
    }
  });

  it('answers Unavailable quickly when the server is down, and ready times out', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const p = new HttpPredictor({ name: 'lr', url: dead, protocol: 'mlflow', signature, startTimeoutMs: 200 });
    try {
      await assert.rejects(p.ready, (e) => isSlipwayError(e) && e.code === 'unavailable' && /not ready within 200 ms/.test(e.message));
      await assert.rejects(p.predict({ input: x() }), (e) => isSlipwayError(e) && e.code === 'unavailable');
    } finally {
      await p.close();
    }
  });

  it('a server that goes away answers Unavailable, and is used again once it is back', async () => {
    const port = await freePort();
    const start = () => spawn(process.execPath, [fixture], { env: { PORT: String(port) }, stdio: 'ignore' });
    let own = start();
    const p = new HttpPredictor({ name: 'lr', url: `http://127.0.0.1:${port}`, protocol: 'oip', healthIntervalMs: 50 });
    try {
      await p.ready;
      await p.predict({ input: x() });
      const gone = new Promise((r) => own.once('exit', r));
      own.kill('SIGKILL');
      await gone;
      await assert.rejects(p.predict({ input: x() }, { timeoutMs: 5_000 }), (e) => isSlipwayError(e) && e.code === 'unavailable');
      await assert.rejects(p.predict({ input: x() }), (e) => isSlipwayError(e) && e.code === 'unavailable' && /no ready instance/.test(e.message));
      own = start();
      const out = await until('service to resume', async () => p.predict({ input: x() }).catch(() => undefined), 5_000, 20);
      assert.deepEqual(out.output.dims, [2, 1]);
    } finally {
      await p.close();
      own.kill('SIGKILL');
    }
  });

  it('requires a signature for MLflow servers', () => {
    assert.throws(() => new HttpPredictor({ name: 'lr', url, protocol: 'mlflow' }), /publishes no signature/);
  });

  it('maps MLflow bodies both ways', () => {
    assert.deepEqual(mlflowRequest({ input: x() }, signature), { dataframe_split: { columns: ['0', '1', '2', '3'], data: rows } });
    const two: ModelSignature = { inputs: [], outputs: [] };
    assert.deepEqual(mlflowPredictions({ predictions: [{ label: 1, p: 0.5 }, { label: 0, p: 0.25 }] }, two, 's'), {
      label: { type: 'float64', dims: [2], data: Float64Array.from([1, 0]) },
      p: { type: 'float64', dims: [2], data: Float64Array.from([0.5, 0.25]) },
    });
    assert.deepEqual(mlflowPredictions({ predictions: { y: ['a', 'b'] } }, two, 's'), { y: { type: 'string', dims: [2], data: ['a', 'b'] } });
    assert.throws(() => mlflowPredictions({ nope: 1 }, two, 's'), (e) => isSlipwayError(e) && e.code === 'unavailable');
  });
});
