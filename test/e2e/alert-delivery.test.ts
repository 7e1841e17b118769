import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { verifySignature } from '../../src/alerts/channels/payloads.js';
import { startServer, until } from '../helpers/process.js';
import { startReceiver } from '../helpers/receiver.js';

const tmp = mkdtempSync(join(tmpdir(), 'slipway-e2e-alerts-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// The wiring of server/run.ts: in `slipway up` the evaluator queues a notification and the delivery loop sends it.
describe('slipway up sends alert notifications', () => {
  it('a firing rule reaches its webhook, signed, and the delivery is in the log', async () => {
    const rx = await startReceiver();
    const token = 'slw_e2e-alert-delivery-token-0123456789abcdefghijkl';
    const s = await startServer(['up'], { SLIPWAY_DATA_DIR: join(tmp, 'data'), SLIPWAY_ADMIN_TOKEN: token, SLIPWAY_ALERT_INTERVAL_MS: '100', SLIPWAY_ALERT_DELIVERY_POLL_MS: '50' });
    try {
      const call = async (method: string, path: string, body?: unknown) => {
        const r = await fetch(`${s.url}/api/v1/workspaces/default${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
        assert.ok(r.ok, `${method} ${path}: ${r.status} ${await r.clone().text()}`);
        return (await r.json()) as { deliveries: Array<{ state: string }> };
      };
      await call('POST', '/endpoints', { name: 'quiet' });
      await call('POST', '/alert-channels', { name: 'oncall', type: 'webhook', url: `${rx.url}/hook`, secret: 'e2e-secret' });
      await call('POST', '/alert-rules', { name: 'quiet', source: { endpoint: 'quiet', metric: 'no_traffic' }, window: '1m', severity: 'warning', runbook: 'Check the clients.', channels: ['oncall'] });
      const got = await until('the notification', async () => rx.on('/hook')[0], 20_000);
      assert.equal(got.json.alert.rule, 'quiet');
      assert.ok(verifySignature('e2e-secret', String(got.headers['x-slipway-signature']), got.body));
      const log = await until('delivered in the log', async () => {
        const d = (await call('GET', `/alert-deliveries?alert=${got.json.alert.id}`)).deliveries;
        return d[0]?.state === 'delivered' && d;
      });
      assert.equal(log.length, 1);
    } finally {
      assert.equal(await s.kill('SIGTERM'), 0, s.output());
      await rx.close();
    }
  });
});
