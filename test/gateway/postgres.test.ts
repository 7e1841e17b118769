import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { expectedOutput, logisticRegressionOnnx } from '../helpers/onnx.js';

const ws = '/api/v1/workspaces/default';
const x = [
  [1, 2, 3, 4],
  [-3, 0.25, 1.5, -0.5],
];

/** The gateway's basic scoring path on PostgreSQL (the rest is covered on PGlite in gateway.test.ts). */
describe('inference gateway scoring (postgres)', () => {
  let t: TestApp;
  let base: string;
  before(async () => {
    t = await startTestApp('postgres');
    const r = await t.call({ method: 'POST', url: `${ws}/models/lr/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.statusCode, 201, r.body);
    for (const [url, payload] of [
      [`${ws}/endpoints`, { name: 'lr' }],
      [`${ws}/endpoints/lr/deployments`, { name: 'blue', model: 'models:/lr/1' }],
    ] as const) assert.equal((await t.call({ method: 'POST', url, payload })).statusCode, 201);
    assert.equal((await t.call({ method: 'PUT', url: `${ws}/endpoints/lr/traffic`, payload: { traffic: { blue: 100 } } })).statusCode, 200);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = t.app.server.address();
    assert.ok(addr && typeof addr === 'object');
    base = `http://127.0.0.1:${addr.port}`;
  });
  after(() => t.close());

  it('serves onnxruntime outputs through /score once the deployment is Ready', async () => {
    const key = (await t.call({ method: 'GET', url: `${ws}/endpoints/lr/keys` })).json().primary as string;
    const deadline = Date.now() + 10_000;
    let r: Response;
    for (;;) {
      r = await fetch(`${base}/endpoints/lr/score`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: x } }),
      });
      if (r.status === 200 || Date.now() > deadline) break;
      await r.arrayBuffer();
      await new Promise((res) => setTimeout(res, 25));
    }
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal(r.headers.get('x-slipway-deployment'), 'blue');
    const got = ((await r.json()) as { predictions: number[][] }).predictions.flat();
    expectedOutput(x, { sigmoid: true }).forEach((v, i) => assert.ok(Math.abs(got[i] - v) < 1e-5, `${got[i]} vs ${v}`));
    assert.equal((await t.call({ method: 'GET', url: `${ws}/endpoints/lr/deployments/blue` })).json().state, 'Ready');
  });
});
