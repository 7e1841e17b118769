import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { ServingStore } from '../../src/serving/store.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { drivers } from '../helpers/stores.js';

for (const driver of drivers) {
  describe(`ground-truth feedback retention (${driver})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(driver, { SLIPWAY_TELEMETRY_RETENTION: '2h' });
      assert.equal((await t.call({ method: 'POST', url: '/api/v1/workspaces/default/endpoints', payload: { name: 'ep' } })).statusCode, 201);
    });
    after(() => t.close());

    it('keeps feedback for SLIPWAY_TELEMETRY_RETENTION, like the captures it labels', async () => {
      const id = Number((await new ServingStore(t.platform.store.db).endpoint('ep'))!.id);
      const m = t.platform.monitoring;
      await m.writeFeedback(id, [{ requestId: 'old', label: 1 }, { requestId: 'new', label: 0 }]);
      await sql`update endpoint_feedback set at = ${Date.now() - 3 * 3_600_000} where request_id = 'old'`.execute(t.platform.store.db);
      await m.trimFeedback();
      assert.deepEqual([...(await m.store.feedback(id, ['old', 'new'])).keys()], ['new']);
    });

    it("keeps monitor runs (a scheduled monitor adds one per tick) for the retention, and always each monitor's newest", async () => {
      const ws = '/api/v1/workspaces/default';
      const post = async (url: string, payload: object | string, headers?: Record<string, string>) => {
        const r = await t.call({ method: 'POST', url: `${ws}${url}`, payload, headers });
        assert.ok(r.statusCode < 300, `${url}: ${r.statusCode} ${r.body}`);
        return r.json();
      };
      await post('/datasets/ref/versions?filename=ref.csv', 'x\n1\n2\n3\n', { 'content-type': 'text/csv' });
      await post('/monitors', { name: 'mon', endpoint: 'ep', reference: 'datasets:/ref/1', signals: ['data_drift'] });
      const ids = [(await post('/monitors/mon/runs', {})).id, (await post('/monitors/mon/runs', {})).id];
      await sql`update monitor_runs set at = ${Date.now() - 3 * 3_600_000}`.execute(t.platform.store.db);
      const m = t.platform.monitoring;
      const left = async () => (await m.store.runs((await m.store.get(1, 'mon'))!.id, 100)).map((r) => r.id);
      await m.trimRuns();
      assert.deepEqual(await left(), [ids[1]], 'the old newest run stays: alerts and people read it');
      const fresh = (await post('/monitors/mon/runs', {})).id;
      await m.trimRuns();
      assert.deepEqual(await left(), [fresh]);
    });
  });
}
