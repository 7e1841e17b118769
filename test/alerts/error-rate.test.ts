/**
 * Acceptance (issue 7): an endpoint answering 5xx on 20% of requests fires
 * its error-rate rule within the window plus one evaluation interval; a
 * webhook receiver gets one signed notification (not one per evaluation);
 * the rollback action moves traffic back; the alert resolves once the error
 * rate falls. Real gateway, real http runtime against a loopback model
 * server failing every fifth request, real evaluator and delivery loops.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { verifySignature } from '../../src/alerts/channels/payloads.js';
import type { AlertEvaluator } from '../../src/alerts/evaluator.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { until } from '../helpers/process.js';
import { drivers } from '../helpers/stores.js';
import { flakyModel } from './flaky-model.js';

const ws = '/api/v1/workspaces/default';
const WINDOW_MS = 5000;
const INTERVAL_MS = 300;
const SECRET = 'hook-secret';

interface Received {
  at: number;
  body: { status: string; repeat: boolean; alert: { id: number; rule: string; state: string } };
  signed: boolean;
}

for (const driver of drivers) {
  describe(`error-rate alert fires once, rolls back and resolves (${driver})`, () => {
    let t: TestApp;
    let base: string;
    let key: string;
    let flaky: Awaited<ReturnType<typeof flakyModel>>;
    let good: Awaited<ReturnType<typeof flakyModel>>;
    let hook: Server;
    let hookUrl: string;
    let evaluator: AlertEvaluator;
    let delivery: { start(): void; stop(): Promise<void> };
    let driving = true;
    let firstFailure = 0;
    let traffic: Promise<void>;
    const received: Received[] = [];
    const ok = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => {
      const r = await t.call({ method, url, payload });
      assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
      return r.json();
    };

    before(async () => {
      flaky = await flakyModel(5);
      good = await flakyModel(0);
      hook = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const raw = Buffer.concat(chunks).toString();
          const header = req.headers['x-slipway-signature'];
          received.push({ at: Date.now(), body: JSON.parse(raw), signed: typeof header === 'string' && verifySignature(SECRET, header, raw) });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
      hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;
      t = await startTestApp(driver, { SLIPWAY_ALERT_DELIVERY_POLL_MS: '100' });
      assert.equal((await t.call({ method: 'POST', url: `${ws}/models/lr/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } })).statusCode, 201);
      await ok('POST', `${ws}/endpoints`, { name: 'shop' });
      await ok('POST', `${ws}/endpoints/shop/deployments`, { name: 'good', model: 'models:/lr/1', runtime: 'http', url: good.url });
      await ok('POST', `${ws}/endpoints/shop/deployments`, { name: 'flaky', model: 'models:/lr/1', runtime: 'http', url: flaky.url });
      await ok('PUT', `${ws}/endpoints/shop/traffic`, { traffic: { good: 100 } });
      key = (await ok('GET', `${ws}/endpoints/shop/keys`)).primary;
      await ok('POST', `${ws}/alert-channels`, { name: 'oncall', type: 'webhook', url: hookUrl, secret: SECRET });
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
      // Ready as the gateway reports it: no request (and so no 5xx) before the test's own traffic.
      for (const d of ['good', 'flaky']) await until(`${d} ready`, async () => (await ok('GET', `${ws}/endpoints/shop/deployments/${d}`)).state === 'Ready', 60_000);
      await ok('POST', `${ws}/alert-rules`, {
        name: 'shop-errors',
        source: { endpoint: 'shop', metric: 'error_rate' },
        condition: { op: '>', threshold: 0.1 },
        window: `${WINDOW_MS / 1000}s`,
        severity: 'critical',
        runbook: 'Check the flaky deployment; traffic is rolled back automatically.',
        channels: ['oncall'],
        renotify: '1h',
        actions: [{ type: 'rollback' }],
      });
      evaluator = t.platform.alertEvaluator({ intervalMs: INTERVAL_MS });
      delivery = t.platform.alertDelivery({ log: () => undefined });
      evaluator.start();
      delivery.start();
    });
    after(async () => {
      driving = false;
      await traffic;
      await evaluator?.stop();
      await delivery?.stop();
      await t.close();
      for (const s of [flaky.server, good.server, hook]) {
        s.closeAllConnections();
        s.close();
      }
    });

    it('fires within window + one interval, notifies once, rolls back, resolves', async () => {
      // Four clients, all along: first through the healthy deployment, then the flaky one.
      const client = async () => {
        while (driving) {
          const r = await fetch(`${base}/endpoints/shop/score`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [[1, 2, 3, 4]] }) });
          await r.arrayBuffer();
          if (r.status >= 500 && !firstFailure) firstFailure = Date.now();
        }
      };
      traffic = Promise.all(Array.from({ length: 4 }, client)).then(() => undefined);
      await ok('PUT', `${ws}/endpoints/shop/traffic`, { traffic: { flaky: 100 }, reason: 'new model' });

      const fired = await until('alert firing', async () => (await ok('GET', `${ws}/alerts?rule=shop-errors`)).alerts.find((a: { firedAt: string | null }) => a.firedAt), 30_000);
      assert.ok(firstFailure > 0);
      const lag = Date.parse(fired.firedAt) - firstFailure;
      // Telemetry reaches the store within a flush (0.5 s); the rule is read every interval.
      assert.ok(lag <= WINDOW_MS + INTERVAL_MS + 1000, `fired ${lag} ms after the first 5xx`);
      assert.ok(fired.value > 0.1 && fired.value < 0.5, `error rate ${fired.value}`);

      // The rollback action: traffic back to what it was before the last change.
      const endpoint = await until('traffic rolled back', async () => {
        const e = await ok('GET', `${ws}/endpoints/shop`);
        return e.traffic.good === 100 && e;
      });
      assert.deepEqual(endpoint.traffic, { good: 100 });
      const history = await ok('GET', `${ws}/endpoints/shop/history`);
      const newest = (history.history ?? history)[0];
      assert.equal(newest.who, 'alert:shop-errors');
      const shown = await ok('GET', `${ws}/alerts/${fired.id}`);
      assert.equal(shown.actions.length, 1);
      assert.deepEqual([shown.actions[0].type, shown.actions[0].ok], ['rollback', true]);
      assert.match(shown.runbook, /flaky deployment/);

      const resolved = await until('alert resolved', async () => {
        const a = await ok('GET', `${ws}/alerts/${fired.id}`);
        return a.state === 'resolved' && a;
      }, 30_000);
      assert.ok(resolved.resolvedAt);
      await until('resolved notification', async () => received.some((r) => r.body.status === 'resolved'));
      const firing = received.filter((r) => r.body.status === 'firing');
      assert.equal(firing.length, 1, `one firing notification over ${Math.round((Date.parse(resolved.resolvedAt) - Date.parse(fired.firedAt)) / INTERVAL_MS)} evaluations, got ${firing.length}`);
      assert.ok(received.every((r) => r.signed), 'every notification carries a valid signature');
      assert.deepEqual([firing[0].body.alert.id, firing[0].body.alert.rule, firing[0].body.repeat], [fired.id, 'shop-errors', false]);
      assert.equal(received.length, 2);
    });
  });
}
