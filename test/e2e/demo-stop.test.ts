/**
 * `slipway demo` leaves nothing behind when it does not run to its end: an
 * embedded platform that fails to start, a demo killed (SIGTERM) while its
 * platform starts or while the stages run — no `slipway up` child keeps
 * running, no temporary data dir stays.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { bin, repoRoot, runCli, until } from '../helpers/process.js';

const tmp = mkdtempSync(join(tmpdir(), 'slipway-e2e-demo-stop-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** An environment with no login and its own TMPDIR, where the demo makes its data dir. */
function bare(name: string): { env: Record<string, string>; dir: string } {
  const dir = mkdtempSync(join(tmp, `${name}-`));
  return { dir, env: { XDG_CONFIG_HOME: join(dir, 'cfg'), HOME: dir, SLIPWAY_URL: '', SLIPWAY_TOKEN: '', TMPDIR: dir } };
}

const demoDirs = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('slipway-demo-'));

/** Pids of live processes whose command line names `text`. */
function processesNaming(text: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text)) pids.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** Starts `slipway demo` and kills it with SIGTERM once `ready(stderr)` holds; answers its exit code and what it wrote. */
async function killDemoWhen(env: Record<string, string>, ready: (stderr: string) => boolean): Promise<{ code: number | null; stderr: string }> {
  const p = spawn(process.execPath, [bin, 'demo'], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  p.stdout.resume();
  const exited = new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)));
  try {
    await until('the moment to kill the demo', async () => ready(stderr), 120_000, 50);
  } finally {
    p.kill('SIGTERM');
  }
  return { code: await exited, stderr };
}

describe('slipway demo cleans up when it stops early', () => {
  it('removes the data dir of an embedded platform that could not start', async () => {
    const { env, dir } = bare('bad-config');
    const r = await runCli(['demo'], { ...env, SLIPWAY_ROLLOUT_TICK_MS: 'nope' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /exited \(1\) before it was ready/);
    assert.match(r.stderr, /SLIPWAY_ROLLOUT_TICK_MS/);
    assert.deepEqual(demoDirs(dir), []);
  });

  it('stops a platform still starting when killed', async () => {
    const { env, dir } = bare('starting');
    let dataDir = '';
    const r = await killDemoWhen(env, () => {
      const d = demoDirs(dir)[0];
      if (!d) return false;
      dataDir = join(dir, d);
      return processesNaming(dataDir).length > 0;
    });
    assert.equal(r.code, 143, r.stderr);
    await until('the platform to be gone', async () => processesNaming(dataDir).length === 0, 10_000, 50);
    assert.deepEqual(demoDirs(dir), []);
  });

  it('stops its running platform when killed between stages', async () => {
    const { env, dir } = bare('running');
    const r = await killDemoWhen(env, (stderr) => /\[2\/9\]/.test(stderr));
    const url = /✓ \[1\/9\][^\n]*?(http:\/\/127\.0\.0\.1:\d+)/.exec(r.stderr)?.[1];
    assert.ok(url, r.stderr);
    assert.equal(r.code, 143, r.stderr);
    await until('the platform to stop answering', async () => !(await fetch(`${url}/healthz`).then(() => true, () => false)), 30_000, 100);
    assert.deepEqual(demoDirs(dir), []);
  });
});
