import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { spawn } from 'node:child_process';
import { bin, repoRoot, runCli, until } from '../helpers/process.js';
import { sinceParam } from '../../src/cli/deployment-logs.js';

const ws = '/api/v1/workspaces/default';
const fixture = fileURLToPath(new URL('../serving/fixtures/oip-server.mjs', import.meta.url));

// The logs API runs on both drivers in telemetry.test.ts; a model-server child and CLI processes cost seconds, so PGlite only.
describe('deployment logs of a process runtime, through the API and `slipway deployment logs` (pglite)', () => {
  let t: TestApp;
  let url: string;
  let dir: string;
  const run = (...args: string[]) => runCli(args, { HOME: dir, SLIPWAY_CONFIG: join(dir, 'config.json'), SLIPWAY_URL: url, SLIPWAY_TOKEN: t.adminToken });

  before(async () => {
    t = await startTestApp('pglite', { PATH: process.env.PATH ?? '' });
    dir = mkdtempSync(join(tmpdir(), 'slipway-logs-cli-'));
    const r = await t.call({ method: 'POST', url: `${ws}/models/lr/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.statusCode, 201, r.body);
    await t.call({ method: 'POST', url: `${ws}/endpoints`, payload: { name: 'proc' } });
    const d = await t.call({ method: 'POST', url: `${ws}/endpoints/proc/deployments`, payload: { name: 'blue', model: 'models:/lr/1', runtime: 'process', command: ['node', fixture] } });
    assert.equal(d.statusCode, 201, d.body);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows the load events and the child's stdout", async () => {
    const lines = await until('the child output and ready event', async () => {
      const r = await t.call({ method: 'GET', url: `${ws}/endpoints/proc/deployments/blue/logs` });
      const l = r.json().lines as Array<{ stream: string; line: string }>;
      return l.some((x) => x.line.startsWith('ready after')) && l.some((x) => x.stream === 'stdout') ? l : undefined;
    }, 30_000);
    assert.match(lines[0].line, /^loading model lr version 1 \(runtime process/);
    assert.ok(lines.some((x) => x.stream === 'stdout' && /^\[\d+\] listening on \d+$/.test(x.line)), JSON.stringify(lines));

    const cli = await run('deployment', 'logs', 'blue', '--endpoint', 'proc');
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /Z event +loading model lr version 1/);
    assert.match(cli.stdout, /Z stdout +\[\d+\] listening on/);
    assert.match(cli.stdout, /Z event +ready after \d+ ms/);
    const json = await run('deployment', 'logs', 'blue', '-e', 'proc', '-n', '1', '-o', 'json');
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).lines.length, 1);
    const missing = await run('deployment', 'logs', 'blue');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /--endpoint/);
  });

  it('--follow keeps printing new lines until stopped', async () => {
    const env = { ...process.env, HOME: dir, SLIPWAY_CONFIG: join(dir, 'config.json'), SLIPWAY_URL: url, SLIPWAY_TOKEN: t.adminToken };
    const p = spawn(process.execPath, [bin, 'deployment', 'logs', 'blue', '-e', 'proc', '--since', '1h', '-f'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const exited = new Promise((r) => p.once('exit', r));
    try {
      await until('the existing lines', async () => out.includes('ready after') || undefined);
      // A new line: the child's crash and restart are recorded and followed.
      const [pid] = (/\[(\d+)\] listening/.exec(out) ?? []).slice(1).map(Number);
      process.kill(pid, 'SIGKILL');
      await until('the restart event', async () => out.includes('model server exited') || undefined, 30_000);
    } finally {
      p.kill('SIGTERM');
      await exited;
    }
  });

  it('reads --since as a duration ago or a time', () => {
    assert.equal(sinceParam('10m', 1_000_000), String(1_000_000 - 600_000));
    assert.equal(sinceParam('2026-01-31T12:00:00Z'), '2026-01-31T12:00:00Z');
    assert.throws(() => sinceParam('soon'), /--since/);
  });
});
