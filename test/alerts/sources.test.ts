/**
 * The other sources and action: job failures (optionally of one pipeline),
 * throttling through the real gateway, rates and latency percentiles read
 * from telemetry, and scale_to_zero taking a deployment out of traffic, on
 * both drivers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { withoutDeployment } from '../../src/alerts/actions.js';
import { ServingStore } from '../../src/serving/store.js';
import { Readings } from '../../src/alerts/readings.js';
import { bucketOf, emptyHistogram } from '../../src/telemetry/histogram.js';
import { bucketStart, emptyWindow } from '../../src/telemetry/windows.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { until } from '../helpers/process.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { drivers } from '../helpers/stores.js';

const ws = '/api/v1/workspaces/default';

describe('withoutDeployment', () => {
  it('hands the freed share to the others in proportion and drops the mirror', () => {
    assert.deepEqual(withoutDeployment({ traffic: { a: 50, b: 30, c: 20 }, mirror: { c: 10 }, deployments: ['a', 'b', 'c'] }, 'c'), { traffic: { a: 63, b: 37 }, mirror: {} });
    assert.deepEqual(withoutDeployment({ traffic: { a: 100 }, mirror: { b: 5 }, deployments: ['a', 'b'] }, 'a'), { traffic: {}, mirror: { b: 5 } });
    assert.deepEqual(withoutDeployment({ traffic: { a: 90, b: 10 }, mirror: {}, deployments: ['a', 'b'] }, 'b'), { traffic: { a: 100 }, mirror: {} });
  });
});

for (const driver of drivers) {
  describe(`alert sources and scale_to_zero (${driver})`, () => {
    let t: TestApp;
    const ok = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => {
      const r = await t.call({ method, url, payload });
      assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
      return r.json();
    };
    const alertsOf = async (rule: string) => (await ok('GET', `${ws}/alerts?rule=${rule}`)).alerts;

    before(async () => {
      t = await startTestApp(driver);
    });
    after(() => t.close());

    it('fires on a failed job of the named pipeline only', async () => {
      await ok('POST', '/api/v1/apply', { documents: [{ kind: 'Pipeline', name: 'retrain', steps: [{ name: 'fit', uses: 'command', with: { command: ['false'] } }] }] });
      await ok('POST', `${ws}/alert-rules`, { name: 'any-job', source: { jobs: 'failed' }, window: '10m' });
      await ok('POST', `${ws}/alert-rules`, { name: 'retrain-job', source: { jobs: 'failed', pipeline: 'retrain' }, window: '10m' });
      const ev = t.platform.alertEvaluator({});
      await ev.tick();
      assert.equal((await alertsOf('any-job')).length, 0);
      const db = t.platform.store.db;
      const now = Date.now();
      const wsId = Number((await t.platform.access.authz.workspace('default')).id);
      await db.transaction().execute((tx) =>
        t.platform.jobs.store.insert(tx, { workspace_id: wsId, name: 'adhoc', kind: 'command', spec: '{}', state: 'failed', priority: 0, max_retries: 0, timeout_ms: null, resource_class: 'small', run_after: now, lease_owner: null, lease_expires_at: null, exit_code: 1, error: 'exit code 1', experiment_id: null, run_id: null, principal_id: 1, created_by: 'admin', created_at: now, started_at: now, finished_at: now, updated_at: now }),
      );
      await ev.tick();
      const [a] = await alertsOf('any-job');
      assert.equal(a.state, 'firing');
      assert.match(a.summary, /1 jobs failed in the last 10m \(newest: job \d+ adhoc: exit code 1\)/);
      assert.equal(a.value, 1);
      assert.equal((await alertsOf('retrain-job')).length, 0, 'not a job of pipeline retrain');
    });

    it('scale_to_zero takes the failing deployment out of traffic', async () => {
      assert.equal((await t.call({ method: 'POST', url: `${ws}/models/lr/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } })).statusCode, 201);
      await ok('POST', `${ws}/endpoints`, { name: 'ep' });
      for (const d of ['blue', 'green']) await ok('POST', `${ws}/endpoints/ep/deployments`, { name: d, model: 'models:/lr/1' });
      await ok('PUT', `${ws}/endpoints/ep/traffic`, { traffic: { blue: 70, green: 30 } });
      await ok('POST', `${ws}/alert-rules`, { name: 'green-errors', source: { endpoint: 'ep', deployment: 'green', metric: 'error_rate' }, condition: { op: '>', threshold: 0.1 }, window: '1m', actions: [{ type: 'scale_to_zero', deployment: 'green' }] });
      const e = (await new ServingStore(t.platform.store.db).endpoint('ep'))!;
      await t.platform.telemetry.sink.write({ captures: [], rollups: [], logs: [], windows: [{ ...emptyWindow(Number(e.id), 'green', bucketStart(Date.now())), requests: 10, errors5xx: 9 }] });
      await t.platform.alertEvaluator({}).tick();
      assert.deepEqual((await ok('GET', `${ws}/endpoints/ep`)).traffic, { blue: 100 });
      const [a] = await alertsOf('green-errors');
      assert.deepEqual([a.actions[0].type, a.actions[0].ok], ['scale_to_zero', true]);
      assert.match(a.actions[0].detail, /ep\/green out of traffic; traffic now \{"blue":100\}/);
    });

    it('rollback aborts a rollout driving the endpoint, so its controller does not move the traffic again', async () => {
      await ok('POST', `${ws}/endpoints`, { name: 'ro' });
      for (const d of ['blue', 'green']) await ok('POST', `${ws}/endpoints/ro/deployments`, { name: d, model: 'models:/lr/1' });
      await ok('PUT', `${ws}/endpoints/ro/traffic`, { traffic: { blue: 100 } });
      for (const d of ['blue', 'green']) await t.platform.serving.deployments.setState('ro', d, 'Ready');
      await ok('POST', `${ws}/rollouts`, { name: 'ro-green', endpoint: 'ro', candidate: 'green', steps: [{ traffic: 50, duration: '1h' }], start: true });
      assert.equal((await ok('GET', `${ws}/rollouts/ro-green`)).state, 'running');
      await ok('POST', `${ws}/alert-rules`, { name: 'ro-errors', source: { endpoint: 'ro', metric: 'error_rate' }, condition: { op: '>', threshold: 0.1 }, window: '1m', actions: [{ type: 'rollback' }] });
      const e = (await new ServingStore(t.platform.store.db).endpoint('ro'))!;
      await t.platform.telemetry.sink.write({ captures: [], rollups: [], logs: [], windows: [{ ...emptyWindow(Number(e.id), 'green', bucketStart(Date.now())), requests: 10, errors5xx: 9 }] });
      await t.platform.alertEvaluator({}).tick();
      const [a] = await alertsOf('ro-errors');
      assert.deepEqual([a.actions[0].type, a.actions[0].ok], ['rollback', true], JSON.stringify(a.actions));
      assert.match(a.actions[0].detail, /aborted rollout ro-green of ro/);
      assert.equal((await ok('GET', `${ws}/rollouts/ro-green`)).state, 'aborted');
      assert.deepEqual((await ok('GET', `${ws}/endpoints/ro`)).traffic, { blue: 100 });
    });

    it('counts throttled requests per endpoint (they are refused before a deployment is chosen) and refuses a deployment on a throttled rule', async () => {
      await ok('POST', `${ws}/endpoints`, { name: 'lim', rateLimit: { rps: 0.01, burst: 1 } });
      await ok('POST', `${ws}/endpoints/lim/deployments`, { name: 'blue', model: 'models:/lr/1' });
      const bad = await t.call({ method: 'POST', url: `${ws}/alert-rules`, payload: { name: 'lim-blue-throttled', source: { endpoint: 'lim', deployment: 'blue', metric: 'throttled' }, condition: { op: '>', threshold: 0 }, window: '5m' } });
      assert.equal(bad.statusCode, 400, bad.body);
      assert.match(bad.body, /source\.deployment/);
      await ok('POST', `${ws}/alert-rules`, { name: 'lim-throttled', source: { endpoint: 'lim', metric: 'throttled' }, condition: { op: '>=', threshold: 3 }, window: '5m' });
      const key = (await ok('GET', `${ws}/endpoints/lim/keys`)).primary as string;
      const score = async () => (await t.call({ method: 'POST', url: '/endpoints/lim/score', token: key, payload: { inputs: [[1, 2, 3, 4]] } })).statusCode;
      // Once the gateway's routing table has the endpoint, the burst of one admits the first request only.
      const statuses = [await until('the gateway to route lim', async () => { const s = await score(); return s !== 404 && s; })];
      for (let i = 0; i < 4; i++) statuses.push(await score());
      assert.deepEqual(statuses.slice(1), [429, 429, 429, 429], `statuses ${statuses}`);
      const ev = t.platform.alertEvaluator({});
      // The gateway's telemetry reaches the store after a flush.
      const [a] = await until('throttled rule firing', async () => {
        await ev.tick();
        const found = await alertsOf('lim-throttled');
        return found.length > 0 && found;
      }, 15_000);
      assert.deepEqual([a.state, a.value], ['firing', 4]);
    });

    it('reads requests per minute, the 4xx share and latency percentiles over the window', async () => {
      const db = t.platform.store.db;
      const e = (await new ServingStore(db).endpoint('ep'))!;
      const wsId = Number((await t.platform.access.authz.workspace('default')).id);
      // An hour ahead: nothing else written falls in these windows.
      const minute = Math.ceil((Date.now() + 3_600_000) / 60_000) * 60_000;
      const at = bucketStart(minute + 10_000);
      const latencyHist = emptyHistogram();
      latencyHist[bucketOf(200)] = 30;
      await t.platform.telemetry.sink.write({
        captures: [],
        logs: [],
        rollups: [{ endpointId: Number(e.id), deployment: 'blue', minute, requests: 30, errors4xx: 6, errors5xx: 0, throttled: 0, latencySumMs: 6000, latencyHist }],
        windows: [{ ...emptyWindow(Number(e.id), 'blue', at), requests: 30, latencyHist }],
      });
      const read = (metric: string, op: string, threshold: number) =>
        new Readings(db).read(wsId, { name: 'x', source: { endpoint: 'ep', metric } as never, condition: { op: op as never, threshold }, window: '1m' }, 60_000, at + 1000);
      const rpm = await read('requests_per_minute', '<', 10);
      assert.deepEqual([rpm.value, rpm.breached], [30, false]);
      const c4 = await read('client_error_rate', '>', 0.1);
      assert.deepEqual([c4.value, c4.breached], [0.2, true]);
      const p95 = await read('p95_ms', '>', 150);
      assert.ok(p95.breached && p95.value! > 150 && p95.value! < 260, `p95 ${p95.value}`);
      const p99 = await read('p99_ms', '>', 300);
      assert.equal(p99.breached, false, `p99 ${p99.value}`);
    });
  });
}
