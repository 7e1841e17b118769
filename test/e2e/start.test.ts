import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServer, until } from '../helpers/process.js';

const tmp = mkdtempSync(join(tmpdir(), 'slipway-e2e-start-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('npm start', () => {
  it('answers /healthz within 10 s, writes admin-token 0600, and stops cleanly on SIGTERM', async () => {
    const dataDir = join(tmp, 'data1');
    const s = await startServer([], { SLIPWAY_DATA_DIR: dataDir }, { command: ['npm', 'start', '--silent', '--'] });
    assert.ok(s.liveAfterMs < 10_000, `healthz after ${s.liveAfterMs} ms`);
    const tokenFile = join(dataDir, 'admin-token');
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    assert.match(token, /^slw_[A-Za-z0-9_-]{43}$/);
    assert.match(s.output(), /admin-token/);

    // The CLI logs in and keeps its config private.
    const env = { XDG_CONFIG_HOME: join(tmp, 'cfg'), SLIPWAY_URL: '', SLIPWAY_TOKEN: '' };
    const login = await runCli(['login', '--url', s.url, '--token', token], env);
    assert.equal(login.code, 0, login.stderr);
    assert.equal(statSync(join(tmp, 'cfg', 'slipway', 'config.json')).mode & 0o777, 0o600);
    const who = await runCli(['whoami', '-o', 'json'], env);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(JSON.parse(who.stdout).name, 'admin');

    const made = await runCli(['user', 'create', 'ci-bot', '--service'], env);
    assert.equal(made.code, 0, made.stderr);
    const tok = await runCli(['token', 'create', 'ci-bot', '--expires', '30d'], env);
    assert.equal(tok.code, 0, tok.stderr);
    const last = tok.stdout.trim().split('\n').at(-1)!;
    assert.match(last, /^slw_/, 'the token alone on the last line');
    const ls = await runCli(['token', 'ls', 'ci-bot', '-o', 'json'], env);
    assert.equal(JSON.parse(ls.stdout).tokens.length, 1);
    assert.ok(!ls.stdout.includes(last), 'token ls never shows the secret');

    // npm relays SIGTERM to the platform, which closes the store (releasing its lock) before exiting.
    await s.kill('SIGTERM');
    await until('the data dir lock to be released', async () => !existsSync(join(dataDir, 'db', 'slipway.pid')), 15_000);
  });

  it('uses SLIPWAY_ADMIN_TOKEN instead of writing a token file', async () => {
    const dataDir = join(tmp, 'data2');
    const preset = 'slw_preset-token-for-tests-0123456789abcdefghijk';
    const s = await startServer(['up', '--data-dir', dataDir], { SLIPWAY_ADMIN_TOKEN: preset, SLIPWAY_LOG_LEVEL: 'debug' });
    let minted = '';
    try {
      assert.ok(!existsSync(join(dataDir, 'admin-token')));
      const r = await fetch(`${s.url}/api/v1/whoami`, { headers: { authorization: `Bearer ${preset}` } });
      assert.equal(r.status, 200);
      assert.equal(((await r.json()) as { name: string }).name, 'admin');
      const t = await fetch(`${s.url}/api/v1/users/admin/tokens`, { method: 'POST', headers: { authorization: `Bearer ${preset}`, 'content-type': 'application/json' }, body: '{}' });
      minted = ((await t.json()) as { token: string }).token;
      await fetch(`${s.url}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${minted}` });
    } finally {
      assert.equal(await s.kill('SIGTERM'), 0, 'a graceful stop exits 0');
    }
    assert.match(s.output(), /incoming request/, 'debug logs were written');
    assert.ok(!s.output().includes(preset) && !s.output().includes(minted), 'logs never contain a token');
  });

  it('explains a taken port and an unreachable server in one line each', async () => {
    const dataDir = join(tmp, 'data3');
    const s = await startServer(['up', '--data-dir', dataDir], {});
    try {
      const clash = await runCli(['up', '--data-dir', join(tmp, 'data4'), '--port', String(s.port)], {});
      assert.equal(clash.code, 1);
      assert.match(clash.stderr, /port \d+ is taken/);
      assert.ok(!clash.stderr.includes('    at '), 'no stack trace');
    } finally {
      await s.kill();
    }
    const down = await runCli(['whoami'], { SLIPWAY_URL: s.url, SLIPWAY_TOKEN: 'x' });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /no Slipway at .* \(connection refused\)/);
    const nologin = await runCli(['whoami'], { SLIPWAY_URL: '', SLIPWAY_TOKEN: '', XDG_CONFIG_HOME: join(tmp, 'empty') });
    assert.match(nologin.stderr, /not logged in/);
  });
});

describe('process roles', () => {
  it('starts gateway and worker on a shared PostgreSQL, answering health checks', async () => {
    const { testStore } = await import('../helpers/stores.js');
    const store = await testStore('postgres');
    const env = { SLIPWAY_DATABASE_URL: store.url!, SLIPWAY_ADMIN_TOKEN: 'slw_roles-test-token-0123456789abcdefghijklmnopq' };
    const procs = [];
    try {
      for (const role of ['server', 'gateway', 'worker']) {
        const s = await startServer([role, '--data-dir', join(tmp, role)], env);
        procs.push(s);
        const h = (await (await fetch(`${s.url}/healthz`)).json()) as { role: string };
        assert.equal(h.role, role);
        assert.equal((await fetch(`${s.url}/readyz`)).status, 200);
      }
    } finally {
      for (const s of procs) assert.equal(await s.kill('SIGTERM'), 0);
      await store.cleanup();
    }
  });
});
