import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, freePort, repoRoot, runCli, startServer, type CliResult } from '../helpers/process.js';

/**
 * Issue 8, items 1 and 4: what a newcomer reads. `slipway up` (what `npm
 * start` runs) says where it is, where the admin token is, how to log the
 * CLI in and what to try next; every error on the first path says what
 * happened and what to do next in one or two lines, with no stack trace and
 * a non-zero exit. Each case runs the built CLI as a process.
 */

const tmp = mkdtempSync(join(tmpdir(), 'slipway-e2e-newcomer-'));
// Readable by the unprivileged user of the permission case.
chmodSync(tmp, 0o755);
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Fails unless the CLI exited non-zero with one or two lines of `error: …` matching `pattern`, and no stack. */
function saysWhatToDo(r: CliResult, pattern: RegExp) {
  assert.notEqual(r.code, 0, `exit code: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.ok(!r.stderr.includes('    at '), `no stack trace:\n${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.ok(lines.length <= 2, `one or two lines:\n${r.stderr}`);
  assert.match(lines[0], /^error: /);
}

/** Runs a shell line with `npx slipway` standing for the built CLI, as a user pastes it from the banner. */
function paste(line: string, env: Record<string, string>): Promise<CliResult> {
  const command = line.replace(/^npx slipway /, `"${process.execPath}" "${bin}" `);
  return new Promise((resolve) => {
    const p = spawn('sh', ['-c', command], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a newcomer’s first minutes: the start banner and the errors on the way', () => {
  it('prints the URL, the admin token file, a login line that works and the next command; explains a refused token, a wrong workspace, a taken port, a held data dir, a stopped platform', async () => {
    // A space in the path: the banner's login line must still paste into a shell as is.
    const dataDir = join(tmp, 'my data');
    const cfg = { XDG_CONFIG_HOME: join(tmp, 'cfg'), SLIPWAY_URL: '', SLIPWAY_TOKEN: '' };
    const s = await startServer(['up', '--data-dir', dataDir], {});
    try {
      const banner = s.output();
      assert.match(banner, new RegExp(`running at ${s.url}`));
      assert.ok(banner.includes(`Admin token:     '${join(dataDir, 'admin-token')}' (mode 0600`), banner);
      assert.match(banner, /Then try: +npx slipway demo/);
      const login = /^Log the CLI in: +(npx slipway login .*)$/m.exec(banner);
      assert.ok(login, banner);
      assert.ok(banner.trim().split('\n').length <= 6, `a few lines:\n${banner}`);
      const logged = await paste(login[1], cfg);
      assert.equal(logged.code, 0, logged.stderr);
      assert.match(logged.stdout, /Logged in to .* as admin/);

      saysWhatToDo(await runCli(['login', '--url', s.url, '--token', 'slw_mistyped'], cfg), /login failed: .* refused the token \(unknown token\): pass a valid one, such as --token "\$\(cat \.slipway\/admin-token\)"/);
      saysWhatToDo(await runCli(['model', 'ls', '--workspace', 'nope'], cfg), /workspace 'nope' not found\n {2}list the workspaces with `slipway workspace ls`/);
      saysWhatToDo(await runCli(['up', '--data-dir', join(tmp, 'other'), '--port', String(s.port)], {}), new RegExp(`port ${s.port} is taken .*--port N`));
      saysWhatToDo(await runCli(['up', '--data-dir', dataDir, '--port', String(await freePort())], {}), /data dir .* is in use by process \d+; stop it first or choose another --data-dir/);
    } finally {
      assert.equal(await s.kill('SIGTERM'), 0);
    }
    saysWhatToDo(await runCli(['whoami'], cfg), new RegExp(`no Slipway at ${s.url} \\(connection refused\\): start it with \`npm start\`, or set SLIPWAY_URL`));
  });

  it('says how to log in when the CLI has no login, or a URL without a token', async () => {
    const empty = { XDG_CONFIG_HOME: join(tmp, 'empty'), SLIPWAY_URL: '', SLIPWAY_TOKEN: '' };
    saysWhatToDo(await runCli(['model', 'ls'], empty), /not logged in: run `slipway login --url http:\/\/127\.0\.0\.1:8080 --token "\$\(cat \.slipway\/admin-token\)"`[\s\S]*SLIPWAY_URL and SLIPWAY_TOKEN/);
    saysWhatToDo(await runCli(['whoami'], { ...empty, SLIPWAY_URL: 'http://127.0.0.1:9' }), /no token for http:\/\/127\.0\.0\.1:9: run `slipway login/);
  });

  it('says the data dir cannot be written, and which flag picks another', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, '');
    saysWhatToDo(await runCli(['up', '--port', '0', '--data-dir', join(file, 'data')], {}), /cannot write the data dir .*a-file\/data \(a file is in the way: .*\): choose a writable directory with --data-dir DIR/);

    // A read-only parent: root writes anywhere, so as root the CLI runs as nobody.
    const ro = join(tmp, 'read-only');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    const asRoot = process.getuid?.() === 0;
    const r = await new Promise<CliResult>((resolve) => {
      const p = spawn(process.execPath, [bin, 'up', '--port', '0', '--data-dir', join(ro, 'data')], {
        cwd: repoRoot,
        env: { ...process.env, HOME: tmp },
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.once('exit', (code) => resolve({ code, stdout, stderr }));
    });
    saysWhatToDo(r, /cannot write the data dir .*read-only\/data \(permission denied: .*\): choose a writable directory with --data-dir DIR \(or SLIPWAY_DATA_DIR\)/);
  });
});
