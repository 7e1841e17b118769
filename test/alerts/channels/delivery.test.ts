import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { sql } from 'kysely';
import type { AlertNotification } from '../../../src/alerts/notification.js';
import { backoffMs, type DeliveryLoop } from '../../../src/alerts/channels/delivery.js';
import { verifySignature } from '../../../src/alerts/channels/payloads.js';
import type { DeliveryView } from '../../../src/alerts/channels/schema.js';
import { createPlatform } from '../../../src/platform.js';
import { principalWithToken, startTestApp, type TestApp } from '../../helpers/app.js';
import { until } from '../../helpers/process.js';
import { startReceiver, type Receiver } from '../../helpers/receiver.js';
import { drivers } from '../../helpers/stores.js';

const ws = '/api/v1/workspaces/default';
const SECRET = 's3cr3t-key';
const amSchema = JSON.parse(readFileSync(new URL('../../fixtures/alertmanager/webhook-v4.schema.json', import.meta.url), 'utf8'));
const validateAm = new Ajv({ allErrors: true }).compile(amSchema);

const note = (id: number, status: 'firing' | 'resolved' = 'firing'): AlertNotification => ({
  status,
  repeat: false,
  alert: {
    id,
    workspace: 'default',
    rule: 'cancer-errors',
    state: status === 'resolved' ? 'resolved' : 'firing',
    severity: 'critical',
    labels: { team: 'serving' },
    summary: 'error_rate 0.2 > 0.1 over 1m on endpoint cancer',
    value: 0.2,
    threshold: 0.1,
    startsAt: '2026-11-22T03:00:00.000Z',
    endsAt: status === 'resolved' ? '2026-11-22T03:05:00.000Z' : null,
    runbook: '## Roll back\nRun `slipway endpoint traffic cancer blue=100`, then read the green deployment logs.',
    url: `http://slipway.example:8080/api/v1/workspaces/default/alerts/${id}`,
  },
});

for (const driver of drivers) {
  describe(`alert channels and delivery (${driver})`, () => {
    let t: TestApp;
    let rx: Receiver;
    let loop: DeliveryLoop;
    const ok = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, status = 200, token?: string) => {
      const r = await t.call({ method, url, payload: payload as object, token });
      assert.equal(r.statusCode, status, `${method} ${url}: ${r.body}`);
      return r.statusCode === 204 ? null : r.json();
    };
    const enqueue = (channels: string[], n: AlertNotification) => t.platform.store.db.transaction().execute((tx) => t.platform.notifier.enqueue(tx, 'default', channels, n));
    const deliveries = async (alert: number): Promise<DeliveryView[]> => (await ok('GET', `${ws}/alert-deliveries?alert=${alert}`)).deliveries;
    const settled = (alert: number, n = 1) =>
      until(`deliveries of alert ${alert} settled`, async () => {
        const d = await deliveries(alert);
        return d.length === n && d.every((x) => x.state !== 'pending') && d;
      }, 15_000);

    before(async () => {
      // /flaky answers 500 twice, then 200; /gone always 404; /late 500 once.
      rx = await startReceiver((path, n) => ((path === '/flaky' && n <= 2) || (path === '/late' && n === 1) ? 500 : path === '/gone' ? 404 : 200));
      t = await startTestApp(driver, { SLIPWAY_ALERT_DELIVERY_POLL_MS: '20', SLIPWAY_ALERT_RETRY_BASE_MS: '200', SLIPWAY_ALERT_DELIVERY_TIMEOUT_MS: '2000', SLIPWAY_ALERT_DELIVERY_ATTEMPTS: '4' });
      loop = t.platform.alertDelivery({ log: (m) => process.stderr.write(`${m}\n`) });
      loop.start();
      await ok('POST', `${ws}/alert-channels`, { name: 'hook', type: 'webhook', url: `${rx.url}/hook`, secret: SECRET }, 201);
      await ok('POST', `${ws}/alert-channels`, { name: 'chat', type: 'slack', url: `${rx.url}/slack` }, 201);
      await ok('POST', `${ws}/alert-channels`, { name: 'am', type: 'alertmanager', url: `${rx.url}/am` }, 201);
      await ok('POST', `${ws}/alert-channels`, { name: 'flaky', type: 'webhook', url: `${rx.url}/flaky`, secret: SECRET }, 201);
      await ok('POST', `${ws}/alert-channels`, { name: 'gone', type: 'slack', url: `${rx.url}/gone` }, 201);
    });
    after(async () => {
      await loop.stop();
      await t.close();
      await rx.close();
    });

    it('keeps the secret write-only and refuses bad channels naming the field', async () => {
      const list = await ok('GET', `${ws}/alert-channels`);
      assert.deepEqual(list.channels.map((c: { name: string; secretSet: boolean }) => [c.name, c.secretSet]), [['am', false], ['chat', false], ['flaky', true], ['gone', false], ['hook', true]]);
      assert.ok(!JSON.stringify(list).includes(SECRET));
      // An update without a secret keeps the stored one; "" removes it, which a webhook refuses.
      const kept = await ok('PUT', `${ws}/alert-channels/hook`, { name: 'hook', type: 'webhook', url: `${rx.url}/hook` });
      assert.equal(kept.secretSet, true);
      const refuse = async (body: object, field: string) => {
        const r = await t.call({ method: 'POST', url: `${ws}/alert-channels`, payload: body });
        assert.equal(r.statusCode, 400, r.body);
        assert.match(r.json().detail, new RegExp(`^(body: )?${field}[: ]`));
      };
      await refuse({ name: 'x', type: 'webhook', url: `${rx.url}/x` }, 'secret');
      await refuse({ name: 'x', type: 'slack', url: `${rx.url}/x`, secret: 'k' }, 'secret');
      await refuse({ name: 'x', type: 'webhook', url: 'ftp://host/x', secret: 'k' }, 'url');
      await refuse({ name: 'Bad_Name', type: 'slack', url: `${rx.url}/x` }, 'name');
      await refuse({ name: 'x', type: 'pager', url: `${rx.url}/x` }, 'type');
      assert.equal((await t.call({ method: 'POST', url: `${ws}/alert-channels`, payload: { name: 'hook', type: 'slack', url: `${rx.url}/x` } })).statusCode, 409);
      const nobody = await principalWithToken(t, `nobody-${driver}`);
      assert.equal((await t.call({ method: 'POST', url: `${ws}/alert-channels`, payload: { name: 'y', type: 'slack', url: `${rx.url}/y` }, token: nobody })).statusCode, 403);
    });

    it('applies and exports kind: AlertChannel without the secret; re-applying the export changes nothing', async () => {
      const doc = { kind: 'AlertChannel', name: 'applied', workspace: 'default', type: 'webhook', url: `${rx.url}/hook`, secret: 'first' };
      const created = await ok('POST', '/api/v1/apply', { documents: [doc] });
      assert.deepEqual(created.plan.map((p: { action: string }) => p.action), ['create']);
      const exported = (await ok('GET', '/api/v1/export?workspace=default')) as { documents: Array<Record<string, unknown>> };
      const mine = exported.documents.filter((d) => d.kind === 'AlertChannel');
      assert.ok(mine.length >= 5 && mine.every((d) => !('secret' in d)), JSON.stringify(mine));
      const again = await ok('POST', '/api/v1/apply', { documents: mine });
      assert.ok(again.plan.every((p: { action: string }) => p.action === 'unchanged'), JSON.stringify(again.plan));
      const rotated = await ok('POST', '/api/v1/apply', { documents: [{ ...doc, secret: 'second' }] });
      assert.deepEqual(rotated.plan.map((p: { action: string; changes: string[] }) => [p.action, p.changes]), [['update', ['secret']]]);
      // --prune with only 'applied' left deletes the others of the kind: a dry run shows it, nothing changes.
      const pruned = await ok('POST', '/api/v1/apply', { documents: [doc], prune: true, dryRun: true });
      assert.deepEqual(pruned.plan.filter((p: { action: string }) => p.action === 'delete').map((p: { name: string }) => p.name).sort(), ['am', 'chat', 'flaky', 'gone', 'hook']);
      assert.equal((await ok('GET', `${ws}/alert-channels`)).channels.length, 6);
    });

    it('signs webhook bodies: the signature verifies with the secret, not without it; an unknown channel is a failed delivery', async () => {
      await enqueue(['hook', 'missing'], note(101));
      const d = await settled(101, 2);
      const missing = d.find((x) => x.channel === 'missing')!;
      assert.equal(missing.state, 'failed');
      assert.match(missing.error, /no alert channel 'missing' in workspace 'default'/);
      assert.equal(d.find((x) => x.channel === 'hook')!.state, 'delivered');
      const [got] = rx.on('/hook').filter((r) => r.json?.alert?.id === 101);
      const sig = String(got.headers['x-slipway-signature']);
      assert.match(sig, /^t=\d+,v1=[0-9a-f]{64}$/);
      assert.ok(verifySignature(SECRET, sig, got.body));
      assert.ok(!verifySignature('other', sig, got.body));
      assert.ok(!verifySignature(SECRET, sig, got.body.replace('0.2', '0.3')));
      assert.deepEqual(got.json, { version: '1', ...note(101) });
      assert.equal(got.headers['x-slipway-delivery'], String(d.find((x) => x.channel === 'hook')!.id));
    });

    it('sends Slack incoming-webhook and Alertmanager v4 payloads', async () => {
      await enqueue(['chat', 'am'], note(102, 'resolved'));
      await settled(102, 2);
      const slack = rx.on('/slack').find((r) => r.json.text.includes('cancer-errors'))!.json;
      assert.match(slack.text, /^RESOLVED: cancer-errors \(critical\): error_rate 0\.2 > 0\.1/);
      const blocks = slack.blocks as Array<{ type: string; text?: { type: string; text: string }; fields?: unknown[]; elements?: Array<{ text: string }> }>;
      assert.deepEqual(blocks.map((b) => b.type), ['header', 'section', 'section', 'context']);
      assert.equal(blocks[0].text!.type, 'plain_text');
      assert.ok(blocks[0].text!.text.length <= 150);
      assert.match(blocks[1].text!.text, /CRITICAL\* error_rate 0\.2 > 0\.1/);
      assert.match(blocks[2].text!.text, /^\*Runbook\*\n## Roll back/);
      assert.ok(blocks[3].elements!.some((e) => e.text === '<http://slipway.example:8080/api/v1/workspaces/default/alerts/102|Open in Slipway>'));

      const am = rx.on('/am').at(-1)!.json;
      const valid: boolean = validateAm(am);
      assert.ok(valid, JSON.stringify(validateAm.errors));
      assert.equal(am.receiver, 'am');
      assert.equal(am.status, 'resolved');
      assert.equal(am.externalURL, 'http://slipway.example:8080');
      assert.deepEqual(am.groupLabels, { alertname: 'cancer-errors' });
      const [a] = am.alerts;
      assert.deepEqual(a.labels, { alertname: 'cancer-errors', severity: 'critical', team: 'serving', workspace: 'default' });
      assert.equal(a.annotations.summary, note(102).alert.summary);
      assert.equal(a.annotations.runbook, note(102).alert.runbook);
      assert.deepEqual([a.startsAt, a.endsAt], ['2026-11-22T03:00:00.000Z', '2026-11-22T03:05:00.000Z']);
      assert.equal(a.generatorURL, note(102).alert.url);
    });

    it('retries a receiver answering 500 twice then 200: three attempts with growing delays, all in the log', async () => {
      await enqueue(['flaky'], note(103));
      const [d] = await settled(103);
      assert.equal(d.state, 'delivered');
      assert.deepEqual(d.attempts.map((a) => a.statusCode), [500, 500, 200]);
      assert.match(d.attempts[0].error, /HTTP 500: receiver says no/);
      const [r1, r2] = d.attempts.map((a) => a.retryInMs!);
      assert.ok(r1 >= 100 && r1 <= 200 && r2 >= 200 && r2 <= 400 && r2 >= r1, `backoff ${r1}, ${r2}`);
      assert.equal(d.attempts[2].retryInMs, null);
      const at = d.attempts.map((a) => Date.parse(a.at));
      assert.ok(at[1] - at[0] >= r1 && at[2] - at[1] >= r2, `attempts at ${at} after backoff ${r1}, ${r2}`);
      assert.ok(d.attempts.every((a) => a.durationMs >= 0));
      assert.equal(rx.on('/flaky').length, 3);
    });

    it("keeps one alert's notifications to a channel in order: a resolved one waits for the firing one's retry", async () => {
      await ok('POST', `${ws}/alert-channels`, { name: 'late', type: 'alertmanager', url: `${rx.url}/late` }, 201);
      // Queued together, as when an alert resolves while its firing notification is in backoff.
      await t.platform.store.db.transaction().execute(async (tx) => {
        await t.platform.notifier.enqueue(tx, 'default', ['late'], note(107));
        await t.platform.notifier.enqueue(tx, 'default', ['late'], note(107, 'resolved'));
      });
      const ds = await settled(107, 2);
      assert.ok(ds.every((d) => d.state === 'delivered'), JSON.stringify(ds));
      // Otherwise the receiver would hear "resolved" and then "firing", and show an alert that is over as firing.
      assert.deepEqual(rx.on('/late').map((r) => r.json.status), ['firing', 'firing', 'resolved']);
    });

    it('gives up at once on a 4xx, and keeps a failed delivery in the log', async () => {
      await enqueue(['gone'], note(104));
      const [d] = await settled(104);
      assert.equal(d.state, 'failed');
      assert.deepEqual(d.attempts.map((a) => [a.statusCode, a.retryInMs]), [[404, null]]);
    });

    it('trims finished deliveries past the retention, with their attempts', async () => {
      await sql`update alert_deliveries set finished_at = ${Date.now() - 40 * 86_400_000} where alert_id = 104`.execute(t.platform.store.db);
      await t.platform.alertChannels.store.trimFinished(Date.now() - 30 * 86_400_000);
      assert.deepEqual(await deliveries(104), []);
      assert.equal((await deliveries(103)).length, 1);
    });

    it('sends nothing for an enqueue whose transaction rolled back', async () => {
      await assert.rejects(
        t.platform.store.db.transaction().execute(async (tx) => {
          await t.platform.notifier.enqueue(tx, 'default', ['hook'], note(105));
          throw new Error('state change failed');
        }),
        /state change failed/,
      );
      await enqueue(['hook'], note(106));
      await settled(106);
      assert.equal(rx.on('/hook').filter((r) => r.json?.alert?.id === 105).length, 0);
      assert.deepEqual(await deliveries(105), []);
    });

    it('sends a test notification on demand and logs it', async () => {
      const d = await ok('POST', `${ws}/alert-channels/hook/test`);
      assert.deepEqual([d.state, d.test, d.attempts.length, d.attempts[0].statusCode], ['delivered', true, 1, 200]);
      const got = rx.on('/hook').at(-1)!;
      assert.equal(got.json.alert.rule, 'slipway-test');
      assert.ok(verifySignature(SECRET, String(got.headers['x-slipway-signature']), got.body));
      const failed = await ok('POST', `${ws}/alert-channels/gone/test`);
      assert.deepEqual([failed.state, failed.attempts[0].statusCode], ['failed', 404]);
      assert.equal((await t.call({ method: 'POST', url: `${ws}/alert-channels/none/test` })).statusCode, 404);
    });

    if (driver === 'postgres') {
      it('delivers each notification exactly once across two delivery loops on one PostgreSQL', async () => {
        const config = { ...t.platform.config, store: t.store.target };
        const other = await createPlatform(config);
        const loop2 = other.alertDelivery({ log: (m) => process.stderr.write(`${m}\n`) });
        loop2.start();
        try {
          const ids = Array.from({ length: 40 }, (_, i) => 1000 + i);
          for (const id of ids) await enqueue(['hook'], note(id));
          await until('all 40 delivered', async () => {
            for (const id of ids) if ((await deliveries(id))[0]?.state !== 'delivered') return false;
            return true;
          }, 20_000);
          const got = rx.on('/hook').filter((r) => r.json?.alert?.id >= 1000);
          assert.equal(got.length, 40);
          assert.equal(new Set(got.map((r) => r.headers['x-slipway-delivery'])).size, 40);
        } finally {
          await loop2.stop();
          await other.close();
        }
      });
    }
  });
}

describe('delivery backoff', () => {
  it('doubles per failed attempt with jitter between half and all of it, never shorter than the one before', () => {
    for (const r of [0, 0.5, 0.999]) {
      const delays = [1, 2, 3, 4, 5].map((n) => backoffMs(n, 1000, () => r));
      delays.forEach((d, i) => assert.ok(d >= 500 * 2 ** i && d <= 1000 * 2 ** i, `${d} at ${i}`));
    }
    assert.ok(backoffMs(2, 1000, () => 0) >= backoffMs(1, 1000, () => 0.999));
    assert.equal(backoffMs(30, 1000, () => 1), 15 * 60_000);
  });
});
