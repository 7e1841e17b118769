import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { principalWithToken, startTestApp, type TestApp } from '../helpers/app.js';
import { until } from '../helpers/process.js';
import { expectedOutput, linearOnnx, logisticRegressionOnnx } from '../helpers/onnx.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';

const ws = '/api/v1/workspaces/default';
const ep = `${ws}/endpoints`;
const x = [
  [1, 2, 3, 4],
  [0.5, -1, 0, 2],
  [-3, 0.25, 1.5, -0.5],
];
const logistic = expectedOutput(x, { sigmoid: true });
const linear = expectedOutput(x);

function close(actual: number[], expected: number[]) {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5, `${v} vs ${expected[i]} at ${i}`));
}


describe('inference gateway over a loopback socket (pglite)', () => {
  let t: TestApp;
  let base: string;
  let key: string;
  const ok = async (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: unknown) => {
    const r = await t.call({ method, url, payload: payload as object });
    assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.statusCode === 204 ? null : r.json();
  };
  const call = (path: string, opts: { token?: string | null; body?: unknown; headers?: Record<string, string>; method?: string } = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const token = opts.token === undefined ? key : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    return fetch(base + path, { method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'), headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  };
  const split = { dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: x } };

  before(async () => {
    t = await startTestApp('pglite');
    for (const model of [logisticRegressionOnnx(), linearOnnx()]) {
      const r = await t.call({ method: 'POST', url: `${ws}/models/lr/versions?filename=model.onnx`, payload: model, headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(r.statusCode, 201, r.body);
    }
    await ok('POST', ep, { name: 'lr' });
    await ok('POST', `${ep}/lr/deployments`, { name: 'blue', model: 'models:/lr/1' });
    await ok('POST', `${ep}/lr/deployments`, { name: 'green', model: 'models:/lr/2' });
    await ok('PUT', `${ep}/lr/traffic`, { traffic: { blue: 100 } });
    key = (await ok('GET', `${ep}/lr/keys`)).primary;
    await ok('POST', ep, { name: 'tok', auth: 'token', rateLimit: { rps: 0.5, burst: 3 } });
    await ok('POST', `${ep}/tok/deployments`, { name: 'only', model: 'models:/lr/1' });
    await ok('PUT', `${ep}/tok/traffic`, { traffic: { only: 100 } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = t.app.server.address();
    assert.ok(addr && typeof addr === 'object');
    base = `http://127.0.0.1:${addr.port}`;
    await until('lr ready', async () => ((await call('/v2/models/lr/ready')).status === 200 ? true : undefined));
    await until('tok ready', async () => ((await call('/v2/models/tok/ready', { token: t.adminToken })).status === 200 ? true : undefined));
  });
  after(() => t.close());

  it('scores dataframe_split and OIP bodies with onnxruntime outputs, naming the deployment', async () => {
    const r = await call('/endpoints/lr/score', { body: split, headers: { 'x-request-id': 'req-1' } });
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal(r.headers.get('x-slipway-deployment'), 'blue');
    assert.equal(r.headers.get('x-request-id'), 'req-1');
    const body = (await r.json()) as { predictions: number[][] };
    close(body.predictions.flat(), logistic);

    const oip = { id: 'abc', inputs: [{ name: 'input', shape: [3, 4], datatype: 'FP32', data: x.flat() }] };
    const v2 = await call('/v2/models/lr/infer', { body: oip });
    assert.equal(v2.status, 200, await v2.clone().text());
    const out = (await v2.json()) as { id: string; model_name: string; outputs: Array<{ name: string; shape: number[]; data: number[] }> };
    assert.equal(out.id, 'abc');
    assert.equal(out.model_name, 'lr');
    assert.deepEqual(out.outputs[0].shape, [3, 1]);
    close(out.outputs[0].data, logistic);

    // An OIP body on /score answers in OIP.
    const mixed = (await (await call('/endpoints/lr/score', { body: oip })).json()) as { outputs: Array<{ data: number[] }> };
    close(mixed.outputs[0].data, logistic);

    const meta = (await (await call('/v2/models/lr')).json()) as { inputs: Array<{ name: string; datatype: string }> };
    assert.equal(meta.inputs[0].name, 'input');
    assert.equal(meta.inputs[0].datatype, 'FP32');
    assert.equal((await call('/v2/health/live', { token: null })).status, 200);
    assert.equal((await call('/v2/health/ready', { token: null })).status, 200);
  });

  it('answers 401, 403, 404, 400 and 429 as problems, with the request id and deployment headers', async () => {
    const missing = await call('/endpoints/lr/score', { body: split, token: null });
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get('content-type') ?? '', /problem\+json/);
    assert.ok(missing.headers.get('x-request-id'));
    assert.equal(missing.headers.get('x-slipway-deployment'), '-');
    assert.equal((await call('/endpoints/lr/score', { body: split, token: 'swk_wrong' })).status, 401);
    assert.equal((await call('/endpoints/lr/score', { body: split, token: t.adminToken })).status, 401, 'a token is not a key');

    const reader = await principalWithToken(t, 'rita');
    await ok('POST', `${ws}/roles`, { principal: 'rita', role: 'reader' });
    const denied = await call('/endpoints/tok/score', { body: split, token: reader });
    assert.equal(denied.status, 403);
    assert.match(((await denied.json()) as { detail: string }).detail, /endpoint\.invoke/);
    assert.equal((await call('/endpoints/tok/score', { body: split, token: null })).status, 401);

    const unknown = await call('/endpoints/nope/score', { body: split });
    assert.equal(unknown.status, 404);

    const bad = await call('/endpoints/lr/score', { body: { dataframe_split: { columns: ['a', 'b'], data: [[1, 2]] } } });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('x-slipway-deployment'), 'blue');
    assert.match(((await bad.json()) as { detail: string }).detail, /input/);

    // burst 3 at 0.5 rps: the admin (invoke everywhere) gets three, then 429 with Retry-After.
    const statuses: number[] = [];
    let retry: string | null = null;
    for (let i = 0; i < 4; i++) {
      const r = await call('/endpoints/tok/score', { body: split, token: t.adminToken });
      statuses.push(r.status);
      if (r.status === 429) retry = r.headers.get('retry-after');
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.ok(retry !== null && Number(retry) >= 1, `Retry-After ${retry}`);
  });

  it('answers malformed or empty JSON bodies with a 400 naming the body', async () => {
    for (const [raw, why] of [['{"dataframe_split": ', /valid JSON/], ['', /body is empty/]] as const) {
      const r = await fetch(`${base}/endpoints/lr/score`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: raw });
      assert.equal(r.status, 400);
      assert.match(r.headers.get('content-type') ?? '', /problem\+json/);
      const p = (await r.json()) as { detail: string; field?: string };
      assert.match(p.detail, why);
      assert.match(JSON.stringify(p), /body/);
    }
  });

  it('splits traffic by weight, targets by header, and picks up a traffic change within a second', async () => {
    await ok('PUT', `${ep}/lr/traffic`, { traffic: { blue: 70, green: 30 } });
    // Both deployments are loaded already; only the split moves.
    await until('split', async () => {
      const r = await call('/endpoints/lr/score', { body: split });
      await r.arrayBuffer();
      return r.headers.get('x-slipway-deployment') === 'green' ? true : undefined;
    }, 2000);
    const counts: Record<string, number> = { blue: 0, green: 0 };
    for (let i = 0; i < 200; i++) {
      const r = await call('/endpoints/lr/score', { body: split });
      await r.arrayBuffer();
      counts[r.headers.get('x-slipway-deployment')!]++;
    }
    assert.ok(counts.green > 30 && counts.green < 90, JSON.stringify(counts));

    for (let i = 0; i < 10; i++) {
      const r = await call('/endpoints/lr/score', { body: split, headers: { 'x-slipway-deployment': 'green' } });
      assert.equal(r.headers.get('x-slipway-deployment'), 'green');
      close(((await r.json()) as { predictions: number[][] }).predictions.flat(), linear);
    }
    assert.equal((await call('/endpoints/lr/score', { body: split, headers: { 'x-slipway-deployment': 'red' } })).status, 404);

    await ok('PUT', `${ep}/lr/traffic`, { traffic: { green: 100 } });
    // Timed from the acknowledged change to the first request routed by it: the refresh alone, not the load on the machine.
    const changed = Date.now();
    // Picked up when a request starts a run of 21 green answers (under the old 70/30 split some were green already).
    const pickedUp = await until('traffic change', async () => {
      const sent = Date.now();
      const r = await call('/endpoints/lr/score', { body: split });
      await r.arrayBuffer();
      return r.headers.get('x-slipway-deployment') === 'green' && (await allGreen()) ? sent - changed + 1 : undefined;
    }, 5_000);
    assert.ok(pickedUp < 1_000, `picked up after ${pickedUp} ms`);

    async function allGreen() {
      for (let i = 0; i < 20; i++) {
        const r = await call('/endpoints/lr/score', { body: split });
        await r.arrayBuffer();
        if (r.headers.get('x-slipway-deployment') !== 'green') return false;
      }
      return true;
    }
  });

  it('swaps a changed deployment in only once its new predictor is ready, failing no request', async () => {
    await ok('PATCH', `${ep}/lr/deployments/green`, { model: 'models:/lr/1' });
    const statuses = new Set<number>();
    await until('new model on green', async () => {
      const r = await call('/endpoints/lr/score', { body: split, headers: { 'x-slipway-deployment': 'green' } });
      statuses.add(r.status);
      if (r.status !== 200) return undefined;
      const got = ((await r.json()) as { predictions: number[][] }).predictions.flat();
      return Math.abs(got[0] - logistic[0]) < 1e-5 ? true : undefined;
    }, 5000);
    assert.deepEqual([...statuses], [200]);
    await ok('PATCH', `${ep}/lr/deployments/green`, { model: 'models:/lr/2' });
    await until('old model back on green', async () => {
      const r = await call('/endpoints/lr/score', { body: split, headers: { 'x-slipway-deployment': 'green' } });
      assert.equal(r.status, 200);
      const got = ((await r.json()) as { predictions: number[][] }).predictions.flat();
      return Math.abs(got[0] - linear[0]) < 1e-5 ? true : undefined;
    }, 5000);
  });

  it('counts requests on /metrics as sent (a strict text-format parse)', async () => {
    const scrape = async () => parsePrometheus(await (await call('/metrics', { token: t.adminToken })).text());
    const labels = (status: string) => ({ endpoint: 'lr', deployment: 'green', status });
    const counts = (s: Awaited<ReturnType<typeof scrape>>) => ({
      ok: sampleValue(s, 'slipway_endpoint_requests_total', labels('200')),
      bad: sampleValue(s, 'slipway_endpoint_requests_total', labels('400')),
      gateway: sampleValue(s, 'slipway_endpoint_request_duration_seconds_count', { endpoint: 'lr' }),
      model: sampleValue(s, 'slipway_model_inference_duration_seconds_count', { endpoint: 'lr', deployment: 'green' }),
    });
    const before = counts(await scrape());
    for (let i = 0; i < 5; i++) await (await call('/endpoints/lr/score', { body: split })).arrayBuffer();
    for (let i = 0; i < 2; i++) await (await call('/endpoints/lr/score', { body: { dataframe_split: { columns: ['a'], data: [[1]] } } })).arrayBuffer();
    const samples = await scrape();
    const after = counts(samples);
    // Exactly the requests sent: 5 scored, 2 refused before reaching the model, all 7 timed by the gateway.
    assert.deepEqual({ ok: after.ok - before.ok, bad: after.bad - before.bad, gateway: after.gateway - before.gateway, model: after.model - before.model }, { ok: 5, bad: 2, gateway: 7, model: 5 });
    assert.equal(sampleValue(samples, 'slipway_endpoint_throttled_total', { endpoint: 'tok' }), 1);
    assert.ok(sampleValue(samples, 'slipway_model_load_seconds', { endpoint: 'lr', deployment: 'blue' }) > 0);
    assert.equal(sampleValue(samples, 'slipway_endpoint_in_flight', { endpoint: 'lr' }), 0);
    const state = await ok('GET', `${ep}/lr/deployments/blue`);
    assert.equal(state.state, 'Ready');
  });
});
