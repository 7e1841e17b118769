import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { drivers, testStore, type TestStore } from '../helpers/stores.js';
import { runCli, startServer } from '../helpers/process.js';

const ADMIN = 'slw_durability-admin-token-0123456789abcdefghijklm';
const tmp = mkdtempSync(join(tmpdir(), 'slipway-e2e-dur-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function serverArgs(driver: string, store: TestStore, dataDir: string): { args: string[]; env: Record<string, string> } {
  const env: Record<string, string> = { SLIPWAY_ADMIN_TOKEN: ADMIN };
  if (driver === 'postgres') env.SLIPWAY_DATABASE_URL = store.url!;
  return { args: ['up', '--data-dir', dataDir], env };
}

const api = (url: string, path: string, init: RequestInit = {}) =>
  fetch(url + path, { ...init, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });

for (const driver of drivers) {
  describe(`durability [${driver}]`, () => {
    it('loses no acknowledged write when killed with SIGKILL mid-stream', async () => {
      const store = await testStore(driver);
      const dataDir = join(tmp, driver);
      // PGlite lives in the data dir; reuse the test store's initialised copy.
      if (driver === 'pglite') rmSync(dataDir, { recursive: true, force: true });
      const dir = driver === 'pglite' ? store.dir! : dataDir;
      const { args, env } = serverArgs(driver, store, dir);
      try {
        const s = await startServer(args, env);
        const acked: string[] = [];
        let next = 0;
        let killed = false;
        const writer = async () => {
          while (!killed) {
            const name = `w-${next++}`;
            try {
              const r = await api(s.url, '/api/v1/groups', { method: 'POST', body: JSON.stringify({ name }) });
              if (r.status === 201) acked.push(name);
            } catch {
              return; // the connection died with the process
            }
          }
        };
        const writers = Array.from({ length: 4 }, writer);
        while (acked.length < 150) await new Promise((r) => setImmediate(r));
        killed = true;
        s.proc.kill('SIGKILL');
        await s.exited;
        await Promise.all(writers);

        const again = await startServer(args, env);
        try {
          const r = await api(again.url, '/api/v1/groups');
          const names = new Set(((await r.json()) as { groups: Array<{ name: string }> }).groups.map((g) => g.name));
          const lost = acked.filter((n) => !names.has(n));
          assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged writes lost`);
          const v = await api(again.url, '/api/v1/audit/verify');
          assert.equal(((await v.json()) as { ok: boolean }).ok, true, 'the audit chain survives the crash');
        } finally {
          await again.kill();
        }
      } finally {
        await store.cleanup();
      }
    });
  });
}

describe('audit verify [postgres]', () => {
  it('passes after a series of actions and names the row altered in SQL', async () => {
    const store = await testStore('postgres');
    const { args, env } = serverArgs('postgres', store, join(tmp, 'audit'));
    const s = await startServer(args, env);
    const cli = { SLIPWAY_URL: s.url, SLIPWAY_TOKEN: ADMIN };
    try {
      for (const cmd of [
        ['workspace', 'create', 'fraud-prod', '--env', 'prod', '--project', 'fraud'],
        ['user', 'create', 'dana'],
        ['persona', 'apply', 'dana', 'data-scientist', '--project', 'fraud'],
        ['group', 'create', 'ops'],
        ['group', 'add', 'ops', 'dana'],
        ['role', 'assign', 'ops', 'reader', '-w', 'fraud-prod'],
      ]) {
        const r = await runCli(cmd, cli);
        assert.equal(r.code, 0, `${cmd.join(' ')}: ${r.stderr}`);
      }
      const ok = await runCli(['audit', 'verify'], cli);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /audit chain intact: \d+ records/);

      const c = new pg.Client({ connectionString: store.url });
      await c.connect();
      await c.query(`update audit_log set target = 'user/mallory' where seq = 3`);
      await c.end();

      const bad = await runCli(['audit', 'verify'], cli);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /audit chain broken at record 3: content does not match its hash/);
      const listed = await runCli(['audit', 'ls', '--principal', 'admin', '-o', 'json'], cli);
      assert.ok(JSON.parse(listed.stdout).records.length >= 6);
    } finally {
      await s.kill();
      await store.cleanup();
    }
  });
});
