/**
 * Alert states on both drivers, driven by a clock the test holds: telemetry
 * windows written through the real sink, the real evaluator, and a notifier
 * that records what was queued in each transition's transaction.
 */
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { after, before, describe, it } from 'node:test';
import { AlertActions } from '../../src/alerts/actions.js';
import { AlertEvaluator } from '../../src/alerts/evaluator.js';
import type { AlertNotification, Notifier } from '../../src/alerts/notification.js';
import { Readings } from '../../src/alerts/readings.js';
import { AlertStore } from '../../src/alerts/store.js';
import type { Db } from '../../src/store/db.js';
import { ServingStore } from '../../src/serving/store.js';
import { bucketStart, emptyWindow } from '../../src/telemetry/windows.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { until } from '../helpers/process.js';
import { drivers } from '../helpers/stores.js';

const ws = '/api/v1/workspaces/default';
const MIN = 60_000;

for (const driver of drivers) {
  describe(`alert states (${driver})`, () => {
    let t: TestApp;
    let endpointId: number;
    let clock = 0;
    const sent: Array<{ channels: string[]; n: AlertNotification }> = [];
    const recorder: Notifier = { enqueue: async (_tx, _ws, channels, n) => void sent.push({ channels, n }) };
    const evaluator = () => {
      const p = t.platform;
      const db = p.store.db;
      return new AlertEvaluator(
        { db, authz: p.access.authz, store: p.alerts.store, readings: new Readings(db), notifier: recorder, actions: new AlertActions({ db, authz: p.access.authz, access: p.access, serving: p.serving, pipelines: p.pipelines, store: p.alerts.store }) },
        { now: () => clock, publicUrl: 'http://slipway.test' },
      );
    };
    const call = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) => {
      const r = await t.call({ method, url, payload });
      return { status: r.statusCode, body: r.body ? r.json() : null };
    };
    const ok = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) => {
      const r = await call(method, url, payload);
      assert.ok(r.status < 300, `${method} ${url}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    /** `errors` of `requests` 5xx in the 5-second bucket holding `at`. */
    const traffic = (at: number, requests: number, errors: number) =>
      t.platform.telemetry.sink.write({ captures: [], rollups: [], logs: [], windows: [{ ...emptyWindow(endpointId, 'blue', bucketStart(at)), requests, errors5xx: errors }] });
    const rule = (name: string, extra: object = {}) =>
      ok('POST', `${ws}/alert-rules`, { name, source: { endpoint: 'ep', metric: 'error_rate' }, condition: { op: '>', threshold: 0.1 }, window: '1m', channels: ['oncall'], ...extra });
    const alertsOf = async (rule: string) => (await ok('GET', `${ws}/alerts?rule=${rule}`)).alerts as Array<{ id: number; state: string; silenced: boolean; summary: string; value: number; lastNotifiedAt: string | null }>;

    before(async () => {
      t = await startTestApp(driver);
      assert.equal((await t.call({ method: 'POST', url: `${ws}/models/lr/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } })).statusCode, 201);
      await ok('POST', `${ws}/endpoints`, { name: 'ep' });
      await ok('POST', `${ws}/endpoints/ep/deployments`, { name: 'blue', model: 'models:/lr/1' });
      endpointId = Number((await new ServingStore(t.platform.store.db).endpoint('ep'))!.id);
      await ok('POST', `${ws}/alert-channels`, { name: 'oncall', type: 'webhook', url: 'http://127.0.0.1:9/hook', secret: 'k' });
    });
    after(() => t.close());

    it('refuses malformed rules naming the field', async () => {
      const bad = async (body: object, field: RegExp) => {
        const r = await call('POST', `${ws}/alert-rules`, { name: 'bad', source: { endpoint: 'ep', metric: 'error_rate' }, condition: { op: '>', threshold: 0.1 }, window: '1m', ...body });
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.match(JSON.stringify(r.body), field);
      };
      await bad({ window: 'soon' }, /window.*duration/);
      await bad({ name: 'export' }, /name/);
      await bad({ window: '5ms' }, /window/);
      // The 5-second windows error_rate reads are kept for a day: a longer window would silently read less.
      await bad({ window: '25h' }, /window.*24h/);
      await bad({ for: '-1s' }, /for/);
      await bad({ condition: undefined }, /condition/);
      await bad({ source: { endpoint: 'nope', metric: 'error_rate' } }, /source\.endpoint/);
      await bad({ source: { endpoint: 'ep', metric: 'vibes' } }, /source/);
      await bad({ source: { monitor: 'nope' }, condition: undefined }, /source\.monitor/);
      await bad({ labels: { 'bad-label': 'x' } }, /labels\.bad-label/);
      await bad({ actions: [{ type: 'run_pipeline' }] }, /actions/);
      // What a rule names must exist when it is written: a typo would otherwise surface only when it fires.
      await bad({ channels: ['oncall', 'on-call'] }, /channels.*on-call/);
      await bad({ actions: [{ type: 'run_pipeline', pipeline: 'nope' }] }, /actions\[0\]\.pipeline/);
      await bad({ actions: [{ type: 'rollback', endpoint: 'nope' }] }, /actions\[0\]\.endpoint/);
      await bad({ actions: [{ type: 'scale_to_zero', deployment: 'green' }] }, /actions\[0\]\.deployment/);
    });

    it('fires once per episode, re-notifies after renotify, stops re-notifying once acknowledged, resolves once', async () => {
      await rule('errors', { renotify: '1m', labels: { team: 'serving' } });
      const t0 = Date.now();
      clock = t0;
      const ev = evaluator();
      await ev.tick();
      assert.equal((await alertsOf('errors')).length, 0, 'no traffic, no alert');
      await traffic(t0, 100, 20);
      clock = t0 + 1000;
      // Two evaluators at once on the same reading: one firing, one notification.
      await Promise.all([ev.tick(), evaluator().tick()]);
      await ev.tick();
      let [a] = await alertsOf('errors');
      assert.equal((await alertsOf('errors')).length, 1);
      assert.equal(a.state, 'firing');
      assert.equal(a.value, 0.2);
      assert.match(a.summary, /ep: 5xx rate 0\.2.* over 1m \(alert when > 0\.1\)/);
      const mine = () => sent.filter((s) => s.n.alert.rule === 'errors');
      assert.equal(mine().length, 1, 'one notification, not one per evaluation');
      assert.deepEqual([mine()[0].channels, mine()[0].n.status, mine()[0].n.repeat, mine()[0].n.alert.severity, mine()[0].n.alert.labels], [['oncall'], 'firing', false, 'warning', { team: 'serving' }]);
      assert.equal(mine()[0].n.alert.url, `http://slipway.test/api/v1/workspaces/default/alerts/${a.id}`);

      // Still failing a minute later: re-notified once.
      await traffic(t0 + 65_000, 50, 25);
      clock = t0 + 66_000;
      await ev.tick();
      await ev.tick();
      assert.equal(mine().length, 2);
      assert.equal(mine()[1].n.repeat, true);

      const acked = await ok('POST', `${ws}/alerts/${a.id}/ack`, { comment: 'looking' });
      assert.equal(acked.state, 'acknowledged');
      assert.equal((await call('POST', `${ws}/alerts/${a.id}/ack`, {})).status, 409);
      await traffic(t0 + 130_000, 50, 25);
      clock = t0 + 131_000;
      await ev.tick();
      assert.equal(mine().length, 2, 'acknowledged: no re-notification');

      clock = t0 + 10 * MIN;
      await ev.tick();
      await ev.tick();
      [a] = await alertsOf('errors');
      assert.equal(a.state, 'resolved');
      assert.equal(mine().length, 3);
      assert.deepEqual([mine()[2].n.status, mine()[2].n.alert.state], ['resolved', 'resolved']);
      // Each transition is one audited commit, as the rule's own principal.
      const { records } = await ok('GET', '/api/v1/audit?action=alert.evaluate&limit=1000');
      const mineAudited = records.filter((e: { target: string }) => e.target === 'alert-rule/errors');
      assert.deepEqual(mineAudited.map((e: { detail: { op: string } }) => e.detail.op).sort(), ['fire', 'renotify', 'resolve']);
      assert.ok(mineAudited.every((e: { principal: string }) => e.principal === 'alert:errors'));
    });

    it('holds a rule pending for its `for` duration, and drops it when the condition clears first', async () => {
      await rule('slow', { for: '30s', channels: [] });
      const t0 = Date.now() + 20 * MIN;
      await traffic(t0, 10, 5);
      clock = t0 + 1000;
      const ev = evaluator();
      await ev.tick();
      assert.equal((await alertsOf('slow'))[0].state, 'pending');
      clock = t0 + 20_000;
      await ev.tick();
      assert.equal((await alertsOf('slow'))[0].state, 'pending');
      await traffic(t0 + 30_000, 10, 5);
      clock = t0 + 32_000;
      await ev.tick();
      assert.equal((await alertsOf('slow'))[0].state, 'firing');
      clock = t0 + 10 * MIN;
      await ev.tick();
      // A new breach that clears before `for`: the pending alert goes without a trace.
      await traffic(t0 + 11 * MIN, 10, 5);
      clock = t0 + 11 * MIN + 1000;
      await ev.tick();
      assert.equal((await alertsOf('slow'))[0].state, 'pending');
      clock = t0 + 20 * MIN;
      await ev.tick();
      assert.deepEqual((await alertsOf('slow')).map((a) => a.state), ['resolved']);
    });

    it('a silence keeps the state but holds notifications until it ends', async () => {
      await rule('quiet', { labels: { team: 'quiet' } });
      const s = await ok('POST', `${ws}/silences`, { matchers: { team: 'quiet' }, duration: '1h', comment: 'maintenance' });
      assert.equal((await call('POST', `${ws}/silences`, { matchers: { team: 'quiet' } })).status, 400);
      const t0 = Date.now() + 40 * MIN;
      await traffic(t0, 10, 5);
      clock = t0 + 1000;
      const ev = evaluator();
      await ev.tick();
      const [a] = await alertsOf('quiet');
      assert.deepEqual([a.state, a.silenced], ['firing', true]);
      const mine = () => sent.filter((x) => x.n.alert.rule === 'quiet');
      assert.equal(mine().length, 0);
      await ok('DELETE', `${ws}/silences/${s.id}`);
      await ev.tick();
      assert.equal(mine().length, 1, 'notified once the silence is gone');
      assert.equal(mine()[0].n.repeat, false);
    });

    it('a silence expires by itself: the alert it held is notified once its time is up', async () => {
      await rule('expiring', { labels: { team: 'expiring' } });
      const s = await ok('POST', `${ws}/silences`, { matchers: { rule: 'expiring' }, duration: '4h' });
      const until = Date.parse(s.until);
      const mine = () => sent.filter((x) => x.n.alert.rule === 'expiring');
      const ev = evaluator();
      await traffic(until - 30 * MIN, 10, 5);
      clock = until - 30 * MIN + 1000;
      await ev.tick();
      assert.equal((await alertsOf('expiring'))[0].state, 'firing');
      assert.equal(mine().length, 0, 'silenced');
      await traffic(until + 5000, 10, 5);
      clock = until + 6000;
      await ev.tick();
      assert.equal(mine().length, 1, 'notified once the silence has expired');
    });

    it('a person resolves an alert by hand: its channels are told, and a breach that goes on opens a new alert', async () => {
      await rule('byhand', { labels: { team: 'byhand' } });
      const t0 = Date.now() + 6 * 60 * MIN;
      const ev = evaluator();
      await traffic(t0, 10, 5);
      clock = t0 + 1000;
      await ev.tick();
      const [a] = await alertsOf('byhand');
      assert.equal(a.state, 'firing');
      // An empty POST is an acknowledgement without a comment.
      assert.equal((await t.call({ method: 'POST', url: `${ws}/alerts/${a.id}/ack` })).statusCode, 200);
      const done = await ok('POST', `${ws}/alerts/${a.id}/resolve`, { comment: 'fixed the upstream' });
      assert.equal(done.state, 'resolved');
      assert.equal((await call('POST', `${ws}/alerts/${a.id}/resolve`, {})).status, 409);
      const { deliveries } = await ok('GET', `${ws}/alert-deliveries?alert=${a.id}`);
      assert.deepEqual(deliveries.map((d: { status: string; channel: string }) => `${d.channel} ${d.status}`), ['oncall resolved']);
      const { records } = await ok('GET', `/api/v1/audit?action=alert.ack&limit=1000`);
      assert.ok(records.some((r: { target: string; detail: { op: string } }) => r.target === `alert/${a.id}` && r.detail.op === 'resolve'));
      clock = t0 + 2000;
      await ev.tick();
      const again = await alertsOf('byhand');
      assert.equal(again.length, 2);
      assert.equal(again[0].state, 'firing');
    });

    if (driver === 'postgres') {
      it('an acknowledgement made while a worker decides on the alert is kept, not overwritten', async () => {
        await rule('ackrace', { labels: { team: 'ackrace' }, channels: [] });
        const s = await ok('POST', `${ws}/silences`, { matchers: { team: 'ackrace' }, duration: '3h' });
        const t0 = Date.now() + 60 * MIN;
        await traffic(t0, 10, 5);
        clock = t0 + 1000;
        await evaluator().tick();
        const [a] = await alertsOf('ackrace');
        assert.deepEqual([a.state, a.silenced, a.lastNotifiedAt], ['firing', true, null]);
        await ok('DELETE', `${ws}/silences/${s.id}`);
        // The next decision is 'notify' (the silence ended). A person acknowledges the alert just as it is taken.
        const db = t.platform.store.db;
        let ack: Promise<{ status: number }> | undefined;
        let acked = false;
        class Hooked extends AlertStore {
          override async openAlert(ruleId: number, tx?: Db, lock?: boolean) {
            const open = await super.openAlert(ruleId, tx, lock);
            if (tx && open?.rule === 'ackrace' && !ack) {
              ack = call('POST', `${ws}/alerts/${open.id}/ack`, {}).finally(() => (acked = true));
              // Either the acknowledgement commits at once, or it waits for the row the decision holds.
              await until('the ack to finish or wait for the alert row', async () => {
                const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
                return acked || rows[0].n > 0;
              });
            }
            return open;
          }
        }
        const store = new Hooked(db);
        const p = t.platform;
        await new AlertEvaluator(
          { db, authz: p.access.authz, store, readings: new Readings(db), notifier: recorder, actions: new AlertActions({ db, authz: p.access.authz, access: p.access, serving: p.serving, pipelines: p.pipelines, store }) },
          { now: () => clock },
        ).tick();
        assert.ok(ack, 'the decision read the alert in its transaction');
        assert.equal((await ack).status, 200);
        const [after] = await alertsOf('ackrace');
        assert.equal(after.state, 'acknowledged');
      });
    }

    it('keeps resolved alerts and ended silences for the retention, open alerts whatever their age', async () => {
      const before = (await alertsOf('byhand')).map((a) => a.state);
      assert.deepEqual(before, ['firing', 'resolved']);
      assert.ok((await ok('GET', `${ws}/silences?all=true`)).silences.length > 0);
      // A month and a day on: the by-hand resolved alert and every silence of this file have ended long ago.
      clock = Date.now() + 31 * 24 * 60 * MIN;
      await evaluator().tick();
      const after = await alertsOf('byhand');
      assert.equal(after.length, 1, 'the old resolved alert is gone');
      assert.equal(after[0].state, 'resolved', 'the open one was resolved by this pass (no traffic then), and is kept');
      assert.deepEqual((await ok('GET', `${ws}/silences?all=true`)).silences, []);
    });

    it('applies kind: AlertRule, a second apply changes nothing, export gives it back', async () => {
      const doc = { kind: 'AlertRule', name: 'applied', source: { endpoint: 'ep', deployment: 'blue', metric: 'p95_ms' }, condition: { op: '>', threshold: 250 }, window: '5m', for: '1m', severity: 'critical', labels: { team: 'serving' }, runbook: 'Roll back.\n', channels: ['oncall'], renotify: '4h' };
      const apply = async () => (await ok('POST', '/api/v1/apply', { documents: [doc] })).plan[0];
      assert.equal((await apply()).action, 'create');
      assert.equal((await apply()).action, 'unchanged');
      doc.window = '10m';
      assert.deepEqual((await apply()).changes, ['window']);
      const exported = (await ok('GET', '/api/v1/export')).documents.find((d: { kind: string; name: string }) => d.kind === 'AlertRule' && d.name === 'applied');
      assert.deepEqual(exported, { ...doc, workspace: 'default' });
      // --prune deletes the rules of the file's workspace that it no longer names.
      const other = { kind: 'AlertRule', name: 'other', source: { endpoint: 'ep', metric: 'no_traffic' }, window: '1h' };
      const pruned = await ok('POST', '/api/v1/apply', { documents: [other], prune: true, dryRun: true });
      assert.ok(pruned.plan.some((r: { name: string; action: string }) => r.name === 'applied' && r.action === 'delete'));
      await ok('POST', '/api/v1/apply', { documents: [doc, other], prune: true });
      assert.equal((await call('GET', `${ws}/alert-rules/applied`)).status, 200);
    });
  });
}
