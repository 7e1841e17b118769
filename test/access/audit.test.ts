import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { systemCtx } from '../../src/access/principal.js';
import { drivers } from '../helpers/stores.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

for (const driver of drivers) {
  describe(`audit chain [${driver}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(driver);
    });
    after(() => t.close());

    it('chains every record to its predecessor and detects an altered, a deleted or a reordered row', async () => {
      const ctx = systemCtx('audit-test');
      const { access } = t.platform;
      await Promise.all(Array.from({ length: 10 }, (_, i) => access.principals.create(ctx, { name: `a-${i}`, kind: 'user' })));
      const v = await access.audit.verify();
      assert.equal(v.ok, true);
      assert.equal(v.checked, 11); // bootstrap + 10

      await sql`update audit_log set outcome = 'denied' where seq = 5`.execute(t.platform.store.db);
      const altered = await access.audit.verify();
      assert.deepEqual(altered.firstBad, { seq: 5, reason: 'content does not match its hash' });
      await sql`update audit_log set outcome = 'ok' where seq = 5`.execute(t.platform.store.db);
      assert.equal((await access.audit.verify()).ok, true);

      await sql`delete from audit_log where seq = 7`.execute(t.platform.store.db);
      assert.deepEqual((await access.audit.verify()).firstBad, { seq: 7, reason: 'record missing' });
    });

    it('filters by principal, action, workspace and time', async () => {
      const r = await t.call({ method: 'GET', url: '/api/v1/audit?principal=system&action=admin.user.create&limit=3' });
      assert.equal(r.statusCode, 200);
      assert.equal(r.json().records.length, 3);
      const since = new Date(Date.now() + 60_000).toISOString();
      const none = await t.call({ method: 'GET', url: `/api/v1/audit?since=${since}` });
      assert.deepEqual(none.json().records, []);
      const bad = await t.call({ method: 'GET', url: '/api/v1/audit?since=yesterday' });
      assert.equal(bad.statusCode, 400);
    });
  });
}
