import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { ArtifactStore } from '../../src/artifacts/index.js';
import { gatewayRoutes } from '../../src/gateway/routes.js';
import { registerErrorHandling } from '../../src/server/errors.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { linearOnnx } from '../helpers/onnx.js';
import { until } from '../helpers/process.js';

const ws = '/api/v1/workspaces/default';
const ep = `${ws}/endpoints`;

/** Routing changes land within the refresh period even while a model's bytes are still downloading. */
describe('gateway routing refresh while a model downloads (pglite)', () => {
  let t: TestApp;
  let gw: FastifyInstance;
  let base: string;
  let release: () => void = () => undefined;
  const keys: Record<string, string> = {};
  const ok = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, headers?: Record<string, string>) => {
    const r = await t.call({ method, url, payload: payload as object, headers });
    assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json();
  };
  const score = async (endpoint: string, deployment?: string) => {
    const r = await fetch(`${base}/endpoints/${endpoint}/score`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys[endpoint]}`, 'content-type': 'application/json', ...(deployment ? { 'x-slipway-deployment': deployment } : {}) },
      body: JSON.stringify({ inputs: [[1, 1, 1, 1]] }),
    });
    await r.arrayBuffer();
    return { status: r.status, deployment: r.headers.get('x-slipway-deployment') };
  };

  before(async () => {
    t = await startTestApp('pglite');
    const octet = { 'content-type': 'application/octet-stream' };
    await ok('POST', `${ws}/models/lr/versions?filename=model.onnx`, linearOnnx(), octet);
    // Version 2's file is the one whose download hangs.
    await ok('POST', `${ws}/models/lr/versions?filename=big.onnx`, linearOnnx(), octet);
    for (const name of ['a', 'b']) {
      await ok('POST', ep, { name });
      for (const d of ['blue', 'green']) await ok('POST', `${ep}/${name}/deployments`, { name: d, model: 'models:/lr/1' });
      await ok('PUT', `${ep}/${name}/traffic`, { traffic: { blue: 100 } });
      keys[name] = (await ok('GET', `${ep}/${name}/keys`)).primary;
    }
    const gate = new Promise<void>((r) => (release = r));
    const real = t.platform.artifacts;
    const artifacts: ArtifactStore = Object.assign(Object.create(real) as ArtifactStore, {
      get: async (key: string) => (key.endsWith('big.onnx') ? gate.then(() => real.get(key)) : real.get(key)),
    });
    gw = Fastify();
    registerErrorHandling(gw);
    await gw.register(gatewayRoutes, { serving: t.platform.serving, artifacts, authz: t.platform.access.authz, registry: new Registry(), refreshMs: 100, telemetry: { sink: t.platform.telemetry.sink } });
    await gw.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(gw.server.address() as { port: number }).port}`;
    for (const name of ['a', 'b']) for (const d of ['blue', 'green']) await until(`${name}/${d} serving`, async () => (await score(name, d)).status === 200 || undefined);
  });
  after(async () => {
    release();
    await gw?.close();
    await t?.close();
  });

  it('applies a traffic change on another endpoint while a deployment waits for its model bytes', async () => {
    await ok('POST', `${ep}/a/deployments`, { name: 'big', model: 'models:/lr/2' });
    await until('big loading', async () => (await score('a', 'big')).status === 503 || undefined);
    await ok('PUT', `${ep}/b/traffic`, { traffic: { green: 100 } });
    const changed = Date.now();
    await until('b routed to green', async () => (await score('b')).deployment === 'green' || undefined, 5_000);
    assert.ok(Date.now() - changed < 1_000, `routing change took ${Date.now() - changed} ms`);
    assert.equal((await score('a')).status, 200, 'a keeps serving');

    release();
    await until('big serving once its bytes arrive', async () => (await score('a', 'big')).status === 200 || undefined);
  });
});
