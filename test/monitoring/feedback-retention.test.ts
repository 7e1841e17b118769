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
  });
}
