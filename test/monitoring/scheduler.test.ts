import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MonitorReport } from '../../src/monitoring/service.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { drivers } from '../helpers/stores.js';

const ws = '/api/v1/workspaces/default';
const at = (hhmmss: string) => Date.parse(`2026-01-01T${hhmmss}Z`);

for (const driver of drivers) {
  describe(`monitor schedules (${driver})`, () => {
    let t: TestApp;
    const logs: string[] = [];
    let clock = at('00:00:30');
    const scheduler = () => t.platform.monitorScheduler({ now: () => clock, log: (m) => logs.push(m) });
    const runs = async (name: string): Promise<MonitorReport[]> => {
      const r = await t.call({ method: 'GET', url: `${ws}/monitors/${name}/runs` });
      assert.equal(r.statusCode, 200, r.body);
      return r.json().runs;
    };

    before(async () => {
      t = await startTestApp(driver);
      const csv = ['x', ...Array.from({ length: 50 }, (_, i) => String(i))].join('\n') + '\n';
      assert.equal((await t.call({ method: 'POST', url: `${ws}/datasets/ref/versions?filename=ref.csv`, payload: csv, headers: { 'content-type': 'text/csv' } })).statusCode, 201);
      assert.equal((await t.call({ method: 'POST', url: `${ws}/endpoints`, payload: { name: 'ep' } })).statusCode, 201);
      for (const [name, schedule] of [['every5', '*/5 * * * *'], ['never', undefined]] as const) {
        const r = await t.call({ method: 'POST', url: `${ws}/monitors`, payload: { name, endpoint: 'ep', reference: 'datasets:/ref/1', signals: ['data_drift'], ...(schedule ? { schedule } : {}) } });
        assert.equal(r.statusCode, 201, r.body);
      }
    });
    after(() => t.close());

    it('runs a monitor at its cron tick, recorded as scheduled; never twice for one tick across restarts and workers', async () => {
      const a = scheduler();
      clock = at('00:05:10');
      await a.tick();
      let r = await runs('every5');
      assert.deepEqual(r.map((x) => [x.cause, x.scheduledFor]), [['schedule', '2026-01-01T00:05:00.000Z']], logs.join('\n'));
      assert.deepEqual(await runs('never'), []);

      // A restarted worker whose clock still saw 00:05 as new does not run it again.
      clock = at('00:04:50');
      const restarted = scheduler();
      clock = at('00:05:20');
      await restarted.tick();
      assert.equal((await runs('every5')).length, 1);

      // Two workers polling past the same tick: one run.
      const b = scheduler();
      const c = scheduler();
      clock = at('00:10:05');
      await Promise.all([b.tick(), c.tick(), a.tick()]);
      r = await runs('every5');
      assert.deepEqual(r.map((x) => x.scheduledFor), ['2026-01-01T00:10:00.000Z', '2026-01-01T00:05:00.000Z']);
    });

    it('skips a tick while the previous scheduled run is still going', async () => {
      const s = scheduler();
      const m = (await t.platform.monitoring.store.get(1, 'every5'))!;
      // Another worker holds a run of this monitor.
      assert.equal(await t.platform.monitoring.store.claimTick(m.id, at('00:14:00'), Date.now(), Date.now() + 60_000), 'run');
      clock = at('00:15:01');
      await s.tick();
      assert.equal((await runs('every5')).length, 2);
      assert.ok(logs.some((l) => /every5: tick 2026-01-01T00:15:00.000Z skipped, the previous scheduled run is still going/.test(l)), logs.join('\n'));
      await t.platform.monitoring.store.releaseTick(m.id);
      clock = at('00:20:01');
      await s.tick();
      assert.equal((await runs('every5'))[0].scheduledFor, '2026-01-01T00:20:00.000Z');
    });

    it('refuses a malformed schedule naming the field', async () => {
      const r = await t.call({ method: 'POST', url: `${ws}/monitors`, payload: { name: 'bad', endpoint: 'ep', reference: 'datasets:/ref/1', signals: ['data_drift'], schedule: 'hourly' } });
      assert.equal(r.statusCode, 400, r.body);
      assert.match(r.json().detail, /^schedule: a cron expression of five fields/);
    });

    it('records a run by hand as manual', async () => {
      const r = await t.call({ method: 'POST', url: `${ws}/monitors/never/runs`, payload: {} });
      assert.equal(r.statusCode, 201, r.body);
      assert.equal(r.json().cause, 'manual');
      assert.equal((await runs('never'))[0].cause, 'manual');
    });
  });
}
