import { cpSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import type { StoreTarget } from '../../src/store/db.js';

/**
 * Store targets for tests: a PGlite dir (copied from a once-initialised
 * template, since initdb costs seconds) or a fresh database on the local
 * PostgreSQL. Each returns a target and a cleanup.
 */
export type DriverName = 'pglite' | 'postgres';
export const drivers: DriverName[] = ['pglite', 'postgres'];

export const PG_ADMIN_URL = process.env.SLIPWAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const templateDir = join(tmpdir(), 'slipway-pglite-template-v1');

async function pgliteTemplate(): Promise<string> {
  if (existsSync(join(templateDir, 'PG_VERSION'))) return templateDir;
  const building = `${templateDir}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const db = await PGlite.create(building);
  await db.close();
  try {
    renameSync(building, templateDir);
  } catch {
    rmSync(building, { recursive: true, force: true }); // another process won the race
  }
  return templateDir;
}

export interface TestStore {
  target: StoreTarget;
  /** For postgres: the connection URL of the test database. */
  url?: string;
  dir?: string;
  cleanup(): Promise<void>;
}

export async function pgliteStore(): Promise<TestStore> {
  const root = mkdtempSync(join(tmpdir(), 'slipway-test-'));
  const dir = join(root, 'db');
  cpSync(await pgliteTemplate(), dir, { recursive: true });
  return { target: { driver: 'pglite', dir }, dir: root, cleanup: async () => rmSync(root, { recursive: true, force: true }) };
}

export async function postgresStore(): Promise<TestStore> {
  const name = `slipway_t_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = PG_ADMIN_URL.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
  return {
    target: { driver: 'postgres', url },
    url,
    cleanup: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export function testStore(driver: DriverName): Promise<TestStore> {
  return driver === 'pglite' ? pgliteStore() : postgresStore();
}
