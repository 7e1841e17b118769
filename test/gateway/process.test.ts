import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { expectedOutput, logisticRegressionOnnx } from '../helpers/onnx.js';
import { until } from '../helpers/process.js';

const ws = '/api/v1/workspaces/default';
const fixture = fileURLToPath(new URL('../serving/fixtures/oip-server.mjs', import.meta.url));

/** Pids of this process's model-server children. */
const children = () =>
  execFileSync('pgrep', ['-P', String(process.pid), '-f', 'oip-server.mjs'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map(Number);

describe('gateway with a process runtime (pglite)', () => {
  let t: TestApp;
  let base: string;
  let key: string;
  before(async () => {
    // Children start with Slipway's child environment: PATH finds `node`.
    t = await startTestApp('pglite', { PATH: process.env.PATH ?? '' });
    const r = await t.call({ method: 'POST', url: `${ws}/models/lr/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.statusCode, 201, r.body);
    await t.call({ method: 'POST', url: `${ws}/endpoints`, payload: { name: 'proc' } });
    const d = await t.call({ method: 'POST', url: `${ws}/endpoints/proc/deployments`, payload: { name: 'blue', model: 'models:/lr/1', runtime: 'process', command: ['node', fixture] } });
    assert.equal(d.statusCode, 201, d.body);
    await t.call({ method: 'PUT', url: `${ws}/endpoints/proc/traffic`, payload: { traffic: { blue: 100 } } });
    key = (await t.call({ method: 'GET', url: `${ws}/endpoints/proc/keys` })).json().primary;
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  });
  after(() => t.close());

  const score = () =>
    fetch(`${base}/endpoints/proc/score`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: [[1, 2, 3, 4]] } }),
    });

  it('survives its model server being killed: 503s for a moment, then the restarted child serves', async () => {
    const first = await until('the process deployment to serve', async () => {
      const r = await score();
      return r.status === 200 ? ((await r.json()) as { predictions: number[] | number[][] }) : (await r.arrayBuffer(), undefined);
    }, 30_000);
    const want = expectedOutput([[1, 2, 3, 4]], { sigmoid: true })[0];
    assert.ok(Math.abs(Number(first.predictions.flat()[0]) - want) < 1e-5, `${JSON.stringify(first)} vs ${want}`);

    const [pid] = children();
    assert.ok(pid, 'a model-server child runs');
    process.kill(pid, 'SIGKILL');
    const statuses: number[] = [];
    const t0 = Date.now();
    await until('service to resume', async () => {
      const r = await score();
      statuses.push(r.status);
      await r.arrayBuffer();
      return r.status === 200 && children().some((p) => p !== pid) ? true : undefined;
    }, 20_000);
    assert.ok(Date.now() - t0 < 15_000, `resumed after ${Date.now() - t0} ms`);
    assert.deepEqual([...new Set(statuses.filter((s) => s !== 200))].filter((s) => s !== 503), [], `only 503s while down: ${statuses}`);
    assert.equal((await fetch(`${base}/healthz`)).status, 200, 'the gateway never went down');
  });
});
