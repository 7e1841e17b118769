import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { linearOnnx } from '../helpers/onnx.js';
import { until } from '../helpers/process.js';
import { remoteModel } from '../helpers/remote-model.js';
import { drivers } from '../helpers/stores.js';
import { gatewayRoutes } from '../../src/gateway/routes.js';
import { agree } from '../../src/gateway/mirror.js';
import { registerErrorHandling } from '../../src/server/errors.js';

const ws = '/api/v1/workspaces/default';
const ep = `${ws}/endpoints`;
const rows = [
  [1, 2, 3, 4],
  [0.5, -1, 0, 2],
];
const N = 12;
/** Mirrors in flight per endpoint in the gateway under test. */
const MAX_IN_FLIGHT = 3;

for (const driver of drivers) {
  describe(`mirrored traffic (${driver})`, () => {
    let t: TestApp;
    let gw: FastifyInstance;
    let base: string;
    const registry = new Registry();
    const keys: Record<string, string> = {};
    const ids: Record<string, number> = {};
    const remotes: Array<{ server: Server; url: string }> = [];
    const ok = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
      const r = await t.call({ method, url, payload: payload as object });
      assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
      return r.json();
    };
    const score = (endpoint: string, deployment?: string) =>
      fetch(`${base}/endpoints/${endpoint}/score`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys[endpoint]}`, 'content-type': 'application/json', ...(deployment ? { 'x-slipway-deployment': deployment } : {}) },
        body: JSON.stringify({ inputs: rows }),
      });
    const mirrored = async (labels: Record<string, string>) => {
      const m = await registry.getSingleMetric('slipway_endpoint_mirrored_total')!.get();
      return m.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0);
    };
    const window = (endpoint: string, deployment: string) => t.platform.telemetry.deploymentWindow(ids[endpoint], deployment, Date.now() - 600_000, Date.now() + 10_000);

    before(async () => {
      const [hang, fail] = [await remoteModel('hang'), await remoteModel('fail')];
      remotes.push(hang, fail);
      t = await startTestApp(driver);
      // v1 and v2 answer alike; v3 weighs the last feature differently.
      for (const weights of [undefined, undefined, [0.5, -0.25, 1, 3]]) {
        const r = await t.call({ method: 'POST', url: `${ws}/models/lr/versions?filename=model.onnx`, payload: linearOnnx({ weights }), headers: { 'content-type': 'application/octet-stream' } });
        assert.equal(r.statusCode, 201, r.body);
      }
      const deployments: Record<string, Record<string, object>> = {
        shadow: { same: { model: 'models:/lr/2' }, diff: { model: 'models:/lr/3' } },
        hang: { slow: { model: 'models:/lr/1', runtime: 'http', url: hang.url, timeoutMs: 120_000 } },
        fails: { broken: { model: 'models:/lr/1', runtime: 'http', url: fail.url } },
      };
      for (const [name, extra] of Object.entries(deployments)) {
        await ok('POST', ep, { name });
        await ok('POST', `${ep}/${name}/deployments`, { name: 'blue', model: 'models:/lr/1' });
        for (const [d, spec] of Object.entries(extra)) await ok('POST', `${ep}/${name}/deployments`, { name: d, ...spec });
        await ok('PUT', `${ep}/${name}/traffic`, { traffic: { blue: 100 }, mirror: Object.fromEntries(Object.keys(extra).map((d) => [d, 100])) });
        keys[name] = (await ok('GET', `${ep}/${name}/keys`)).primary;
      }
      for (const e of (await t.platform.serving.routingSnapshot()).endpoints) ids[e.name] = e.id;

      gw = Fastify();
      registerErrorHandling(gw);
      await gw.register(gatewayRoutes, { serving: t.platform.serving, artifacts: t.platform.artifacts, authz: t.platform.access.authz, registry, telemetry: { sink: t.platform.telemetry.sink, flushMs: 100 }, mirror: { maxInFlight: MAX_IN_FLIGHT } });
      await gw.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(gw.server.address() as { port: number }).port}`;
      for (const [name, extra] of Object.entries(deployments)) {
        for (const d of ['blue', ...Object.keys(extra)]) {
          await until(`${name}/${d} ready`, async () => {
            // The signature, not only readiness: it is what bodies are decoded against.
            const r = await fetch(`${base}/v2/models/${name}`, { headers: { authorization: `Bearer ${keys[name]}`, 'x-slipway-deployment': d } });
            return r.status === 200 && ((await r.json()) as { inputs: unknown[] }).inputs.length > 0 ? true : undefined;
          });
        }
      }
    });
    after(async () => {
      for (const r of remotes) {
        r.server.closeAllConnections();
        r.server.close();
      }
      await gw?.close();
      await t?.close();
    });

    it('mirrors every live request at 100% and compares the outputs: an agreeing and a disagreeing candidate', async () => {
      for (let i = 1; i <= N; i++) {
        const r = await score('shadow');
        const body = await r.text();
        assert.equal(r.status, 200, body);
        assert.equal(r.headers.get('x-slipway-deployment'), 'blue');
        // One request at a time: the mirror bound never drops one here.
        await until(`request ${i} mirrored`, async () => (await mirrored({ endpoint: 'shadow' })) === 2 * i);
      }
      assert.equal(await mirrored({ deployment: 'same', outcome: 'agreed' }), N);
      assert.equal(await mirrored({ deployment: 'diff', outcome: 'disagreed' }), N);

      const same = await until('windows written', async () => {
        const w = await window('shadow', 'same');
        return w.mirror.compared === N ? w : undefined;
      });
      assert.equal(same.requests, 0, 'mirrored requests are not live requests of the mirror deployment');
      assert.deepEqual([same.mirror.requests, same.mirror.errors5xx, same.mirror.exactMatches, same.mirror.absDiffSum], [N, 0, N, 0]);
      assert.ok(same.mirror.p95Ms! > 0);
      const diff = await until('diff window', async () => {
        const w = await window('shadow', 'diff');
        return w.mirror.compared === N ? w : undefined;
      });
      assert.equal(diff.mirror.exactMatches, 0);
      // The last weight differs by 1: each row's output moves by its last feature (4 and 2), a mean of 3.
      assert.ok(Math.abs(diff.mirror.absDiffSum / diff.mirror.compared - 3) < 1e-4, String(diff.mirror.absDiffSum));
      const blue = await until('blue window', async () => {
        const w = await window('shadow', 'blue');
        return w.requests === N ? w : undefined;
      });
      assert.deepEqual([blue.errors5xx, blue.mirror.requests], [0, 0]);
      assert.ok(blue.p95Ms! > 0 && blue.p95Ms! <= blue.p99Ms!);

      // The same through the read API, with the agreement rate and mean difference worked out.
      const read = async (d: string) => {
        const r = await t.call({ method: 'GET', url: `${ep}/shadow/deployments/${d}/window?from=${Date.now() - 600_000}` });
        assert.equal(r.statusCode, 200, r.body);
        return r.json();
      };
      const [sameView, diffView] = [await read('same'), await read('diff')];
      assert.deepEqual([sameView.deployment, sameView.mirror.compared, sameView.mirror.agreement, sameView.mirror.meanAbsDiff], ['same', N, 1, 0]);
      assert.equal(diffView.mirror.agreement, 0);
      assert.ok(Math.abs(diffView.mirror.meanAbsDiff - 3) < 1e-4);
      assert.equal((await read('nobody')).mirror.agreement, null);
    });

    it('does not mirror requests that name their deployment', async () => {
      const before = await mirrored({ endpoint: 'shadow' });
      for (const d of ['blue', 'blue', 'same']) {
        const r = await score('shadow', d);
        assert.equal(r.status, 200);
        await r.arrayBuffer();
      }
      await (await score('shadow')).arrayBuffer();
      await until('the untargeted request mirrored', async () => (await mirrored({ endpoint: 'shadow' })) >= before + 2);
      assert.equal(await mirrored({ endpoint: 'shadow' }), before + 2);
      const same = await until('targeted request counted', async () => {
        const w = await window('shadow', 'same');
        return w.requests === 1 && w.mirror.compared === N + 1 ? w : undefined;
      });
      assert.equal(same.mirror.requests, N + 1);
    });

    it('answers live requests at full speed while a mirror hangs, dropping mirrors beyond the in-flight bound', async () => {
      for (let i = 0; i < 6; i++) {
        const started = performance.now();
        const r = await score('hang');
        assert.equal(r.status, 200);
        await r.arrayBuffer();
        const ms = performance.now() - started;
        // The mirror hangs for good: anything near that would show as seconds, not a loaded machine's hundreds of ms.
        assert.ok(ms < 5_000, `live request took ${ms} ms`);
      }
      await until('drops counted', async () => (await mirrored({ endpoint: 'hang', outcome: 'dropped' })) === 6 - MAX_IN_FLIGHT);
      assert.equal(await mirrored({ endpoint: 'hang' }), 6 - MAX_IN_FLIGHT, 'the mirrors in flight are still waiting');
    });

    it('answers live requests while a mirror fails, counting its errors in the window', async () => {
      for (let i = 0; i < 5; i++) {
        const r = await score('fails');
        assert.equal(r.status, 200);
        await r.arrayBuffer();
      }
      await until('failures counted', async () => (await mirrored({ endpoint: 'fails', deployment: 'broken', outcome: 'failed' })) === 5);
      const broken = await until('broken window', async () => {
        const w = await window('fails', 'broken');
        return w.mirror.requests === 5 ? w : undefined;
      });
      assert.deepEqual([broken.requests, broken.mirror.errors5xx, broken.mirror.compared], [0, 5, 0]);
      const blue = await until('live window', async () => {
        const w = await window('fails', 'blue');
        return w.requests === 5 ? w : undefined;
      });
      assert.equal(blue.errors5xx, 0);
    });
  });
}

describe('agreement of mirrored outputs', () => {
  const f32 = (...xs: number[]) => ({ type: 'float32' as const, dims: [xs.length], data: Float32Array.from(xs) });
  const i64 = (...xs: number[]) => ({ type: 'int64' as const, dims: [xs.length], data: BigInt64Array.from(xs.map(BigInt)) });
  it('is exact only when every output is elementwise equal, and averages absolute differences over float outputs', () => {
    assert.deepEqual(agree({ label: i64(1, 0), p: f32(0.5, 0.25) }, { label: i64(1, 0), p: f32(0.5, 0.25) }), { exact: true, absDiff: 0 });
    assert.deepEqual(agree({ label: i64(1, 0), p: f32(0.5, 0.25) }, { label: i64(1, 1), p: f32(0.5, 0.75) }), { exact: false, absDiff: 0.25 });
    assert.deepEqual(agree({ label: i64(1, 0) }, { label: i64(1, 0), extra: i64(2) }), { exact: false, absDiff: 0 });
    assert.deepEqual(agree({ p: f32(1, 2) }, { p: f32(1) }), { exact: false, absDiff: 0 });
  });
});
