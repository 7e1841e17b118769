import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openStore, tables, type Store } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrations/index.js';
import type { AccessTables } from '../../src/access/tables.js';
import { drivers, testStore, type TestStore } from '../helpers/stores.js';

/** The store contract: the same suite on every driver. */
for (const driver of drivers) {
  describe(`store [${driver}]`, () => {
    let ts: TestStore;
    let store: Store;
    before(async () => {
      ts = await testStore(driver);
      store = await openStore(ts.target);
    });
    after(async () => {
      await store.close();
      await ts.cleanup();
    });

    it('migrates at open and again without change (idempotent)', async () => {
      await migrate(store.db);
      await migrate(store.db);
      const rows = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(store.db);
      assert.ok(rows.rows.length >= 1);
      assert.equal(rows.rows[0].name, '0001_access');
      const ws = await tables<AccessTables>(store.db).selectFrom('workspaces').select(['name', 'env']).execute();
      assert.deepEqual(ws, [{ name: 'default', env: 'dev' }]);
    });

    it('reads int8 as numbers, timestamps as Dates, doubles exactly', async () => {
      const r = await sql<{ big: number; at: Date; d: number; nan: number }>`select 9007199254740991::int8 as big, '2026-01-02T03:04:05.678Z'::timestamptz as at, 0.1::float8 as d, 'NaN'::float8 as nan`.execute(store.db);
      const row = r.rows[0];
      assert.equal(row.big, 9007199254740991);
      assert.ok(row.at instanceof Date);
      assert.equal(row.at.toISOString(), '2026-01-02T03:04:05.678Z');
      assert.equal(row.d, 0.1);
      assert.ok(Number.isNaN(row.nan));
    });

    it('commits a transaction whole and rolls a failed one back whole', async () => {
      const t = tables<AccessTables>(store.db);
      await store.db.transaction().execute(async (tx) => {
        await tables<AccessTables>(tx).insertInto('principals').values({ name: 'tx-a', kind: 'user' }).execute();
        await tables<AccessTables>(tx).insertInto('principals').values({ name: 'tx-b', kind: 'user' }).execute();
      });
      await assert.rejects(
        store.db.transaction().execute(async (tx) => {
          await tables<AccessTables>(tx).insertInto('principals').values({ name: 'tx-c', kind: 'user' }).execute();
          await tables<AccessTables>(tx).insertInto('principals').values({ name: 'tx-a', kind: 'user' }).execute();
        }),
      );
      const names = (await t.selectFrom('principals').select('name').where('name', 'like', 'tx-%').orderBy('name').execute()).map((r) => r.name);
      assert.deepEqual(names, ['tx-a', 'tx-b']);
    });

    it('keeps concurrent transactions isolated and all committed', async () => {
      const t = tables<AccessTables>(store.db);
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.db.transaction().execute(async (tx) => {
            const head = await tables<AccessTables>(tx).selectFrom('audit_head').select('seq').where('id', '=', 1).forUpdate().executeTakeFirstOrThrow();
            await tables<AccessTables>(tx).insertInto('principals').values({ name: `conc-${i}`, kind: 'service' }).execute();
            await tables<AccessTables>(tx).updateTable('audit_head').set({ seq: Number(head.seq) + 1 }).where('id', '=', 1).execute();
          }),
        ),
      );
      const n = await t.selectFrom('principals').select(sql<number>`count(*)::int`.as('n')).where('name', 'like', 'conc-%').executeTakeFirstOrThrow();
      assert.equal(n.n, 20);
      const head = await t.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow();
      assert.equal(Number(head.seq), 20, 'no lost update under the head lock');
    });

    it('answers ping while open', async () => {
      await store.ping();
    });
  });
}

describe('store [pglite] data dir lock', () => {
  it('refuses a second open of the same data dir', async () => {
    const ts = await testStore('pglite');
    const a = await openStore(ts.target);
    try {
      await assert.rejects(openStore(ts.target), /in use by process/);
    } finally {
      await a.close();
      await ts.cleanup();
    }
  });
});

describe('store [pglite] stale lock', () => {
  it('takes over a pid file left by a crashed process with our own pid (a restarted container)', async () => {
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const ts = await testStore('pglite');
    const target = ts.target as { driver: 'pglite'; dir: string };
    writeFileSync(join(target.dir, 'slipway.pid'), String(process.pid));
    const s = await openStore(ts.target);
    await s.close();
    await ts.cleanup();
  });
});
