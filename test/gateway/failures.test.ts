import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { until } from '../helpers/process.js';
import { remoteModel } from '../helpers/remote-model.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';

const ws = '/api/v1/workspaces/default';
const ep = `${ws}/endpoints`;

describe('gateway failures: timeouts, deployments that cannot start, no traffic (pglite)', () => {
  let t: TestApp;
  let base: string;
  let key: string;
  let slow: { server: Server; url: string };
  const ok = async (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: unknown) => {
    const r = await t.call({ method, url, payload: payload as object });
    assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json();
  };
  const score = (deployment?: string) =>
    fetch(`${base}/endpoints/remote/score`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(deployment ? { 'x-slipway-deployment': deployment } : {}) },
      body: JSON.stringify({ inputs: [[1, 2, 3, 4]] }),
    });

  before(async () => {
    slow = await remoteModel('hang');
    t = await startTestApp('pglite');
    for (const model of ['lr', 'other']) {
      const r = await t.call({ method: 'POST', url: `${ws}/models/${model}/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(r.statusCode, 201, r.body);
    }
    await ok('POST', ep, { name: 'remote' });
    await ok('POST', `${ep}/remote/deployments`, { name: 'slow', model: 'models:/lr/1', runtime: 'http', url: slow.url, timeoutMs: 200 });
    // The server knows no model 'other': its metadata answers 404, so this one never starts.
    await ok('POST', `${ep}/remote/deployments`, { name: 'broken', model: 'models:/other/1', runtime: 'http', url: slow.url });
    key = (await ok('GET', `${ep}/remote/keys`)).primary;
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  });
  after(async () => {
    slow.server.closeAllConnections();
    slow.server.close();
    await t.close();
  });

  it('answers 503 with Retry-After when no traffic is configured', async () => {
    const r = await until('endpoint routed', async () => {
      const r = await score();
      return r.status === 404 ? (await r.arrayBuffer(), undefined) : r;
    });
    assert.equal(r.status, 503);
    assert.match(((await r.json()) as { detail: string }).detail, /no traffic/);
    assert.ok(r.headers.get('retry-after'));
    assert.equal(r.headers.get('x-slipway-deployment'), '-');
  });

  it('answers 504 past the deployment timeout', async () => {
    // Generous deadline: on a saturated CI machine the runtime's start can lag.
    const r = await until('slow deployment ready', async () => {
      const r = await score('slow');
      // Thrown, so a timeout names the last answer.
      if (r.status === 503) throw new Error(`503 ${await r.text()}`);
      return r;
    }, 60_000);
    assert.equal(r.status, 504, await r.clone().text());
    assert.equal(r.headers.get('x-slipway-deployment'), 'slow');
  });

  it('keeps a deployment serving its running version when a change to it cannot start', async () => {
    await ok('POST', `${ep}/remote/deployments`, { name: 'steady', model: 'models:/lr/1' });
    await until('steady serving', async () => {
      const r = await score('steady');
      return r.status === 200 ? (await r.arrayBuffer(), true) : (await r.arrayBuffer(), undefined);
    });
    // The model server knows no model 'other': the changed deployment never becomes ready.
    await ok('PATCH', `${ep}/remote/deployments/steady`, { model: 'models:/other/1', runtime: 'http', url: slow.url });
    await until('steady Failed', async () => String((await ok('GET', `${ep}/remote/deployments/steady`)).state).startsWith('Failed') || undefined);
    const logs = await until('the keep-serving event', async () => {
      const l = await ok('GET', `${ep}/remote/deployments/steady/logs`);
      return l.lines.some((x: { line: string }) => x.line.includes('previous version keeps serving')) || undefined;
    });
    assert.ok(logs);
    for (let i = 0; i < 3; i++) {
      const r = await score('steady');
      assert.equal(r.status, 200, await r.text());
    }
  });

  it('marks a deployment that cannot load Failed and answers 503 naming it', async () => {
    const state = await until('Failed state', async () => {
      const d = await ok('GET', `${ep}/remote/deployments/broken`);
      return String(d.state).startsWith('Failed') ? String(d.state) : undefined;
    });
    assert.ok(state.length > 'Failed: '.length);
    const r = await score('broken');
    assert.equal(r.status, 503);
    assert.ok(r.headers.get('retry-after'));
    assert.match(((await r.json()) as { detail: string }).detail, /broken/);
  });
});
