/**
 * Acceptance (issue 7): a drift alert triggers a retraining pipeline whose
 * run records the alert as its cause. A monitor whose stored run flags
 * data drift (captures shifted by half the reference's range), a rule on its
 * data_drift signal with a run_pipeline action, the real evaluator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ServingStore } from '../../src/serving/store.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { drivers } from '../helpers/stores.js';
import { capturedRows } from '../monitoring/fixtures.js';

const ws = '/api/v1/workspaces/default';
const N = 200;

for (const driver of drivers) {
  describe(`drift alert starts a retraining run (${driver})`, () => {
    let t: TestApp;
    const ok = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object | string, headers?: Record<string, string>) => {
      const r = await t.call({ method, url, payload, headers });
      assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
      return r.json();
    };

    before(async () => {
      t = await startTestApp(driver);
      const csv = ['x', ...Array.from({ length: N }, (_, i) => String(i))].join('\n') + '\n';
      await ok('POST', `${ws}/datasets/ref/versions?filename=ref.csv`, csv, { 'content-type': 'text/csv' });
      await ok('POST', `${ws}/endpoints`, { name: 'ep' });
      const e = (await new ServingStore(t.platform.store.db).endpoint('ep'))!;
      const captures = capturedRows(Number(e.id), ['x'], Array.from({ length: N }, (_, i) => [100 + i]), () => ({ y: [[0.5]] }));
      await t.platform.telemetry.sink.write({ captures, rollups: [], logs: [] });
      await ok('POST', `${ws}/monitors`, { name: 'ep-drift', endpoint: 'ep', reference: 'datasets:/ref/1', signals: ['data_drift'], window: '1h' });
      await ok('POST', '/api/v1/apply', { documents: [{ kind: 'Pipeline', name: 'retrain', params: { reason: 'schedule' }, steps: [{ name: 'hello', uses: 'command', with: { command: ['true'] } }] }] });
    });
    after(() => t.close());

    it('runs the pipeline once per firing with the alert as its cause', async () => {
      await ok('POST', `${ws}/alert-rules`, {
        name: 'ep-drifted',
        source: { monitor: 'ep-drift', signal: 'data_drift' },
        window: '1h',
        severity: 'warning',
        actions: [{ type: 'run_pipeline', pipeline: 'retrain', params: { reason: 'drift' } }],
      });
      const evaluator = t.platform.alertEvaluator({});
      await evaluator.tick();
      assert.equal((await ok('GET', `${ws}/alerts?rule=ep-drifted`)).alerts.length, 0, 'no monitor run yet: nothing to fire on');

      const report = await ok('POST', `${ws}/monitors/ep-drift/runs`, {});
      assert.equal(report.signals.data_drift.drifted, true);
      await evaluator.tick();
      await evaluator.tick();
      const [alert] = (await ok('GET', `${ws}/alerts?rule=ep-drifted`)).alerts;
      assert.equal(alert.state, 'firing');
      assert.match(alert.summary, new RegExp(`monitor ep-drift run ${report.id} flags data_drift`));
      assert.equal(alert.actions.length, 1, 'actions run once per firing');
      assert.deepEqual([alert.actions[0].type, alert.actions[0].ok], ['run_pipeline', true], alert.actions[0].detail);

      const { runs } = await ok('GET', `${ws}/pipelines/retrain`);
      assert.equal(runs.length, 1);
      assert.deepEqual(runs[0].cause, { kind: 'alert', id: String(alert.id), by: 'admin' });
      assert.equal(runs[0].startedBy, `alert ${alert.id}`);
      assert.equal(runs[0].params.reason, 'drift');
      assert.match(alert.actions[0].detail, new RegExp(`pipeline retrain run ${runs[0].id} started`));

      const { records } = await ok('GET', '/api/v1/audit?action=alert.action&limit=1000');
      assert.deepEqual(records.filter((e: { target: string }) => e.target === `alert/${alert.id}`).map((e: { principal: string; detail: { type: string; ok: boolean } }) => [e.principal, e.detail.type, e.detail.ok]), [['alert:ep-drifted', 'run_pipeline', true]]);
    });

    it('needs monitor.write to write a rule and alert.ack to acknowledge', async () => {
      const u = await t.call({ method: 'POST', url: '/api/v1/users', payload: { name: 'watcher', kind: 'user' } });
      assert.equal(u.statusCode, 201, u.body);
      const token = (await t.call({ method: 'POST', url: '/api/v1/users/watcher/tokens', payload: {} })).json().token as string;
      assert.ok((await t.call({ method: 'POST', url: '/api/v1/workspaces/default/roles', payload: { principal: 'watcher', role: 'reader' } })).statusCode < 300);
      const r = await t.call({ method: 'POST', url: `${ws}/alert-rules`, token, payload: { name: 'sneaky', source: { monitor: 'ep-drift' }, window: '1h' } });
      assert.equal(r.statusCode, 403, r.body);
      assert.match(r.body, /monitor\.write/);
      const [alert] = (await t.call({ method: 'GET', url: `${ws}/alerts`, token })).json().alerts;
      const ack = await t.call({ method: 'POST', url: `${ws}/alerts/${alert.id}/ack`, token, payload: {} });
      assert.equal(ack.statusCode, 403, ack.body);
      assert.match(ack.body, /alert\.ack/);
    });

    it('lets a contributor (not an admin) write a rule with actions, whose rights are checked without deadlocking PGlite', async () => {
      assert.equal((await t.call({ method: 'POST', url: '/api/v1/users', payload: { name: 'author', kind: 'user' } })).statusCode, 201);
      const token = (await t.call({ method: 'POST', url: '/api/v1/users/author/tokens', payload: {} })).json().token as string;
      assert.ok((await t.call({ method: 'POST', url: `${ws}/roles`, payload: { principal: 'author', role: 'contributor' } })).statusCode < 300);
      const body = { name: 'authored', source: { monitor: 'ep-drift' }, window: '1h', actions: [{ type: 'run_pipeline', pipeline: 'retrain' }] };
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('POST alert-rules did not answer within 20 s')), 20_000)));
      try {
        const r = await Promise.race([t.call({ method: 'POST', url: `${ws}/alert-rules`, token, payload: body }), deadline]);
        assert.equal(r.statusCode, 201, r.body);
      } finally {
        clearTimeout(timer);
      }
    });
  });
}
