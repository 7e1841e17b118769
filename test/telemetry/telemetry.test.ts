import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { principalWithToken, startTestApp, type TestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { until } from '../helpers/process.js';
import { drivers } from '../helpers/stores.js';
import { gatewayRoutes } from '../../src/gateway/routes.js';
import { registerErrorHandling } from '../../src/server/errors.js';
import { emptyHistogram, bucketOf } from '../../src/telemetry/histogram.js';
import type { RollupDelta, TelemetryBatch } from '../../src/telemetry/sink.js';

const ws = '/api/v1/workspaces/default';
const ep = `${ws}/endpoints`;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const rows = [
  [1, 2, 3, 4],
  [0.5, -1, 0, 2],
];

interface Minute {
  deployment: string;
  requests: number;
  errors4xx: number;
  errors5xx: number;
  throttled: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

async function setUp(t: TestApp) {
  const ok = async (method: 'POST' | 'PUT' | 'GET', url: string, payload?: object) => {
    const r = await t.call({ method, url, payload });
    assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json();
  };
  const m = await t.call({ method: 'POST', url: `${ws}/models/lr/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(m.statusCode, 201, m.body);
  await ok('POST', ep, { name: 'cap', capture: { sample: 1, drop: ['c'], hash: ['b'] } });
  await ok('POST', ep, { name: 'nocap', capture: { sample: 0 }, rateLimit: { rps: 0.001, burst: 1 } });
  const keys: Record<string, string> = {};
  for (const name of ['cap', 'nocap']) {
    await ok('POST', `${ep}/${name}/deployments`, { name: 'blue', model: 'models:/lr/1' });
    await ok('PUT', `${ep}/${name}/traffic`, { traffic: { blue: 100 } });
    keys[name] = (await ok('GET', `${ep}/${name}/keys`)).primary;
  }
  return keys;
}

for (const driver of drivers) {
  describe(`endpoint telemetry through the gateway (${driver})`, () => {
    let t: TestApp;
    let base: string;
    let keys: Record<string, string>;
    const score = (name: string, body: unknown, requestId?: string) =>
      fetch(`${base}/endpoints/${name}/score`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys[name]}`, 'content-type': 'application/json', ...(requestId ? { 'x-request-id': requestId } : {}) },
        body: JSON.stringify(body),
      });
    const get = async (url: string, token?: string) => {
      const r = await t.call({ method: 'GET', url, token });
      assert.equal(r.statusCode, 200, r.body);
      return r.json();
    };

    before(async () => {
      t = await startTestApp(driver);
      keys = await setUp(t);
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
      for (const name of ['cap', 'nocap']) {
        await until(`${name} ready`, async () => {
          // The signature, not only readiness: it is what bodies are decoded against.
          const r = await fetch(`${base}/v2/models/${name}`, { headers: { authorization: `Bearer ${keys[name]}` } });
          return r.status === 200 && ((await r.json()) as { inputs: unknown[] }).inputs.length > 0 ? true : undefined;
        });
      }
    });
    after(() => t.close());

    it('captures every request at sample 1 with the request columns, dropping and hashing fields before storing', async () => {
      for (let i = 0; i < 3; i++) {
        const r = await score('cap', { dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: rows } }, `cap-${i}`);
        assert.equal(r.status, 200, await r.text());
      }
      assert.equal((await score('cap', { dataframe_split: { data: [[1, 2]] } })).status, 400);
      const r = await until('captures stored', async () => {
        const c = await get(`${ep}/cap/captures`);
        return c.captures.length === 3 ? c : undefined;
      });
      const first = r.captures[0];
      assert.deepEqual(r.captures.map((c: { requestId: string }) => c.requestId), ['cap-0', 'cap-1', 'cap-2']);
      assert.equal(first.deployment, 'blue');
      assert.deepEqual(first.model, { name: 'lr', version: 1 });
      assert.equal(first.status, 200);
      assert.equal(first.format, 'dataframe_split');
      assert.ok(first.latencyMs > 0);
      assert.deepEqual(first.features, { columns: ['a', 'b', 'd'], rows: [[1, sha('2'), 4], [0.5, sha('-1'), 2]] });
      const [out] = Object.values(first.outputs) as number[][][];
      assert.equal(out.flat().length, 2);

      const window = await get(`${ep}/cap/captures?from=${new Date(first.at + 1).toISOString()}&limit=1`);
      assert.deepEqual(window.captures.map((c: { requestId: string }) => c.requestId), ['cap-1']);
      assert.equal(window.next, window.captures[0].id);
      assert.deepEqual((await t.platform.telemetry.capturesByRequest('cap', ['cap-2'])).map((c) => c.requestId), ['cap-2']);
    });

    it('captures nothing at sample 0, and rolls up requests, errors, throttling and latency per minute', async () => {
      const first = await score('nocap', { instances: rows });
      assert.equal(first.status, 200, await first.text());
      const throttled = await score('nocap', { instances: rows });
      assert.equal(throttled.status, 429);
      const minutes = await until('rollups stored', async () => {
        const m = (await get(`${ep}/nocap/metrics`)).minutes as Minute[];
        return m.reduce((s, x) => s + x.requests, 0) === 2 ? m : undefined;
      });
      const blue = minutes.find((m) => m.deployment === 'blue')!;
      const none = minutes.find((m) => m.deployment === '-')!;
      assert.deepEqual([blue.requests, blue.throttled, none.requests, none.throttled, none.errors4xx], [1, 0, 1, 1, 1]);
      assert.equal(none.p50Ms, null, 'throttled requests stay out of latency');
      assert.equal((await get(`${ep}/nocap/captures`)).captures.length, 0);

      const cap = await until('cap rollups', async () => {
        const m = (await get(`${ep}/cap/metrics?deployment=blue`)).minutes as Minute[];
        return m.reduce((s, x) => s + x.requests, 0) === 4 ? m : undefined;
      });
      const sum = (k: keyof Minute) => cap.reduce((s, x) => s + Number(x[k]), 0);
      assert.equal(sum('errors4xx'), 1);
      for (const m of cap) assert.ok(m.p50Ms! > 0 && m.p50Ms! <= m.p95Ms! && m.p95Ms! <= m.p99Ms!, JSON.stringify(m));

      const prom = (await t.call({ method: 'GET', url: '/metrics' })).body;
      assert.match(prom, /slipway_endpoint_throttle_delay_seconds_count\{endpoint="nocap"\} 1/);
      assert.match(prom, /slipway_captures_total\{endpoint="cap"\} 3/);
    });

    it('merges rollups written by two gateway replicas into one row', async () => {
      const id = (await t.platform.serving.routingSnapshot()).endpoints.find((e) => e.name === 'cap')!.id;
      const minute = Date.now() - (Date.now() % 60_000) - 60_000;
      const delta = (ms: number, n: number, errors5xx: number): RollupDelta => {
        const latencyHist = emptyHistogram();
        latencyHist[bucketOf(ms)] = n;
        return { endpointId: id, deployment: 'replicas', minute, requests: n, errors4xx: 0, errors5xx, throttled: 0, latencySumMs: ms * n, latencyHist };
      };
      const batch = (r: RollupDelta): TelemetryBatch => ({ captures: [], rollups: [r], logs: [] });
      await Promise.all([t.platform.telemetry.sink.write(batch(delta(10, 90, 1))), t.platform.telemetry.sink.write(batch(delta(1000, 10, 2)))]);
      await t.platform.telemetry.sink.write(batch(delta(10, 0, 0)));
      const [m] = (await get(`${ep}/cap/metrics?deployment=replicas&from=${minute}`)).minutes as Minute[];
      assert.deepEqual([m.requests, m.errors5xx], [100, 3]);
      assert.ok(Math.abs(m.p50Ms! - 10) < 1 && Math.abs(m.p95Ms! - 1000) < 100 && Math.abs(m.p99Ms! - 1000) < 100, JSON.stringify(m));
    });

    it('records deployment load events, and guards reads with metrics.read and workspace.read', async () => {
      const logs = await until('load events', async () => {
        const l = await get(`${ep}/cap/deployments/blue/logs`);
        return l.lines.some((x: { line: string }) => x.line.startsWith('ready after')) ? l : undefined;
      });
      assert.match(logs.lines[0].line, /^loading model lr version 1 \(runtime onnx, 1 instance\)/);
      assert.equal((await get(`${ep}/cap/deployments/blue/logs?after=${logs.next}`)).lines.length, 0);
      assert.equal((await t.call({ method: 'GET', url: `${ep}/cap/deployments/nope/logs` })).statusCode, 404);

      const token = await principalWithToken(t, `rita-${driver}`);
      await get(`${ws}/roles`);
      const assign = await t.call({ method: 'POST', url: `${ws}/roles`, payload: { principal: `rita-${driver}`, role: 'reader' } });
      assert.ok(assign.statusCode < 300, assign.body);
      for (const what of ['captures', 'metrics']) assert.equal((await t.call({ method: 'GET', url: `${ep}/cap/${what}`, token })).statusCode, 403);
      assert.equal((await t.call({ method: 'GET', url: `${ep}/cap/deployments/blue/logs`, token })).statusCode, 200);
      assert.equal((await t.call({ method: 'GET', url: `${ep}/cap/metrics?from=yesterday` })).statusCode, 400);
    });
  });
}

describe('a full capture buffer drops samples without failing or slowing requests (pglite)', () => {
  let t: TestApp;
  it('answers every request while the store write hangs, counting the drops', async () => {
    t = await startTestApp('pglite');
    const keys = await setUp(t);
    const registry = new Registry();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const written: TelemetryBatch[] = [];
    const sink = { write: async (b: TelemetryBatch) => (await gate, void written.push(b)) };
    const gw = Fastify();
    registerErrorHandling(gw);
    await gw.register(gatewayRoutes, { serving: t.platform.serving, artifacts: t.platform.artifacts, authz: t.platform.access.authz, registry, telemetry: { sink, maxBuffer: 2, flushMs: 3_600_000 } });
    await gw.listen({ port: 0, host: '127.0.0.1' });
    try {
      const base = `http://127.0.0.1:${(gw.server.address() as { port: number }).port}`;
      const score = () => fetch(`${base}/endpoints/cap/score`, { method: 'POST', headers: { authorization: `Bearer ${keys.cap}`, 'content-type': 'application/json' }, body: JSON.stringify({ instances: rows }) });
      await until('cap ready', async () => ((await score()).status === 200 ? true : undefined));
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await score()).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200]);
      const count = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.reduce((s, v) => s + v.value, 0);
      const captured = await count('slipway_captures_total');
      const dropped = await count('slipway_capture_dropped_total');
      assert.equal(captured, 2);
      assert.ok(dropped >= 5, `dropped ${dropped}`);
    } finally {
      release();
      await gw.close();
      await t.close();
    }
    assert.equal(written.flatMap((b) => b.captures).length, 2, 'what was acknowledged is written on close');
  });
});
