import { mkdirSync } from 'node:fs';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { PGliteDialect } from './pglite-driver.js';
import { lockDataDir } from './lock.js';
import { migrate } from './migrations/index.js';

/**
 * One Kysely instance over PGlite or PostgreSQL. Domains type it with
 * `db.withTables<TheirTables>()`; the store itself knows no domain.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Db = Kysely<any>;

export type StoreTarget = { driver: 'pglite'; dir: string } | { driver: 'postgres'; url: string };

export interface Store {
  db: Db;
  driver: StoreTarget['driver'];
  ping(): Promise<void>;
  close(): Promise<void>;
}

const int8AsNumber = (v: string) => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
};

function postgresDialect(url: string) {
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') =>
      oid === 20 ? int8AsNumber : pg.types.getTypeParser(oid, format),
  };
  const pool = new pg.Pool({ connectionString: url, max: 10, types: types as never });
  // An idle client dropped by the server (restart, failover) must not crash the
  // process; the pool replaces it and the next query reconnects.
  pool.on('error', () => undefined);
  return new PostgresDialect({ pool });
}

async function pgliteDialect(dir: string) {
  mkdirSync(dir, { recursive: true });
  const unlock = lockDataDir(dir);
  try {
    return { dialect: new PGliteDialect(await PGlite.create(dir)), unlock };
  } catch (e) {
    unlock();
    throw e;
  }
}

/** Opens the store and brings its schema up to date (idempotent). */
export async function openStore(target: StoreTarget): Promise<Store> {
  const { dialect, unlock } =
    target.driver === 'postgres' ? { dialect: postgresDialect(target.url), unlock: () => undefined } : await pgliteDialect(target.dir);
  const db: Db = new Kysely({ dialect });
  try {
    await migrate(db);
  } catch (e) {
    await db.destroy();
    unlock();
    throw e;
  }
  let closed = false;
  return {
    db,
    driver: target.driver,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await db.destroy();
      } finally {
        unlock();
      }
    },
  };
}

/** A typed view of the shared instance (or of a transaction) for one domain's tables. */
export function tables<T>(db: Db): Kysely<T> {
  return db as unknown as Kysely<T>;
}
