import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { until } from '../helpers/process.js';
import { parsePrometheus, sampleValue, type Sample } from '../helpers/prometheus.js';

const ws = '/api/v1/workspaces/default';
const fixture = fileURLToPath(new URL('../serving/fixtures/oip-server.mjs', import.meta.url));

describe('per-deployment CPU and memory on /metrics (pglite)', () => {
  let t: TestApp;
  let base: string;
  const keys: Record<string, string> = {};
  before(async () => {
    // Children start with Slipway's child environment: PATH finds `node`.
    t = await startTestApp('pglite', { PATH: process.env.PATH ?? '' });
    const r = await t.call({ method: 'POST', url: `${ws}/models/lr/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.statusCode, 201, r.body);
    const deployments = { onx: { runtime: 'onnx' }, proc: { runtime: 'process', command: ['node', fixture] } };
    for (const [name, settings] of Object.entries(deployments)) {
      assert.equal((await t.call({ method: 'POST', url: `${ws}/endpoints`, payload: { name } })).statusCode, 201);
      const d = await t.call({ method: 'POST', url: `${ws}/endpoints/${name}/deployments`, payload: { name: 'blue', model: 'models:/lr/1', ...settings } });
      assert.equal(d.statusCode, 201, d.body);
      await t.call({ method: 'PUT', url: `${ws}/endpoints/${name}/traffic`, payload: { traffic: { blue: 100 } } });
      keys[name] = (await t.call({ method: 'GET', url: `${ws}/endpoints/${name}/keys` })).json().primary;
    }
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  });
  after(() => t.close());

  const score = (endpoint: string) =>
    fetch(`${base}/endpoints/${endpoint}/score`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys[endpoint]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: Array.from({ length: 64 }, (_, i) => [i, 2, 3, 4]) } }),
    });
  const scrape = async (): Promise<Sample[]> => parsePrometheus(await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${t.adminToken}` } })).text());
  const series = (s: Sample[], name: string, endpoint: string) => s.find((x) => x.name === name && x.labels.endpoint === endpoint && x.labels.deployment === 'blue');

  it('reports CPU seconds of onnx worker threads and resident memory of model-server processes', async () => {
    for (const ep of ['onx', 'proc']) await until(`${ep} serving`, async () => ((await score(ep)).status === 200 ? true : undefined), 30_000);
    for (let i = 0; i < 20; i++) for (const ep of ['onx', 'proc']) assert.equal((await score(ep)).status, 200);

    const samples = await until('usage series', async () => {
      const s = await scrape();
      return sampleValue(s, 'slipway_deployment_cpu_seconds_total', { endpoint: 'onx', deployment: 'blue' }) > 0 ? s : undefined;
    }, 10_000);
    const cpu = series(samples, 'slipway_deployment_cpu_seconds_total', 'onx');
    assert.equal(cpu?.type, 'counter');
    assert.ok(cpu!.value > 0 && cpu!.value < 60, `onnx cpu ${cpu!.value}`);
    assert.ok(sampleValue(samples, 'slipway_deployment_memory_bytes', { endpoint: 'onx', deployment: 'blue' }) > 0, 'onnx worker heap');
    const rss = series(samples, 'slipway_deployment_memory_bytes', 'proc');
    assert.equal(rss?.type, 'gauge');
    // A node model server holds at least a few MB resident.
    assert.ok(rss!.value > 4 * 1024 * 1024, `process rss ${rss!.value}`);
    assert.ok(series(samples, 'slipway_deployment_cpu_seconds_total', 'proc')!.value > 0, 'process cpu');

    // A counter: it never goes backwards between scrapes.
    for (let i = 0; i < 10; i++) assert.equal((await score('onx')).status, 200);
    const later = await scrape();
    assert.ok(series(later, 'slipway_deployment_cpu_seconds_total', 'onx')!.value >= cpu!.value);
  });
});
