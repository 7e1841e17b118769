import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import type { JobWorker } from '../../src/jobs/worker.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { bin, repoRoot, runCli, until } from '../helpers/process.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = { spec: any };
const schema = JSON.parse(readFileSync(new URL('../fixtures/kubernetes/job-batch-v1.json', import.meta.url), 'utf8'));

// The API runs on both drivers in jobs.test.ts; CLI processes cost seconds, so PGlite only.
describe('slipway job run|ls|show|logs|cancel|retry|render (pglite)', () => {
  let t: TestApp;
  let worker: JobWorker;
  let url: string;
  let dir: string;
  const env = () => ({ HOME: dir, SLIPWAY_CONFIG: join(dir, 'config.json'), SLIPWAY_URL: url, SLIPWAY_TOKEN: t.adminToken });
  const run = (...args: string[]) => runCli(args, env());

  before(async () => {
    t = await startTestApp('pglite', { SLIPWAY_JOB_POLL_MS: '50', SLIPWAY_JOB_LEASE_MS: '3000', SLIPWAY_JOB_KILL_GRACE_MS: '500', SLIPWAY_SERVER_URL: 'https://slipway.example.com' });
    dir = mkdtempSync(join(tmpdir(), 'slipway-jobs-cli-'));
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    worker = t.platform.jobWorker({ serverUrl: url, log: () => undefined });
    worker.start();
  });
  after(async () => {
    await worker.stop();
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('job run --wait streams the logs and exits with the job exit code; run alone prints the id', async () => {
    const r = await run('job', 'run', '--wait', '--name', 'greet', '--', 'sh', '-c', 'echo "hello from $SLIPWAY_JOB_ID"; echo warning >&2; exit 4');
    assert.equal(r.code, 4, r.stderr);
    const id = r.stdout.split('\n')[0];
    assert.match(id, /^\d+$/);
    assert.match(r.stdout, new RegExp(`hello from ${id}`));
    assert.match(r.stderr, /^warning$/m);
    assert.match(r.stderr, new RegExp(`\\[slipway\\] job ${id} failed \\(.*CPU-s`));

    const ok = await run('job', 'run', '--wait', '--', 'true');
    assert.equal(ok.code, 0, ok.stderr);
    const plain = await run('job', 'run', '--retries', '2', '--timeout', '1m', '--', 'sh', '-c', 'echo later');
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^\d+\n$/);
    const pid = plain.stdout.trim();
    await until('plain job done', async () => (await run('job', 'show', pid, '-o', 'json')).stdout.includes('"succeeded"'), 20_000);
    const show = JSON.parse((await run('job', 'show', pid, '-o', 'json')).stdout);
    assert.equal(show.retries, 2);
    assert.equal(show.timeoutMs, 60_000);
    const logs = await run('job', 'logs', pid);
    assert.match(logs.stdout, /^later$/m);
    const ls = await run('job', 'ls');
    assert.match(ls.stdout, /greet/);
    assert.match(ls.stdout, /failed/);
  });

  it('job logs -f follows a running job until it ends; cancel and retry', async () => {
    const sub = await run('job', 'run', '--', 'sh', '-c', 'echo one; sleep 1; echo two');
    const id = sub.stdout.trim();
    const f = await run('job', 'logs', id, '-f');
    assert.equal(f.code, 0, f.stderr);
    assert.match(f.stdout, /one\ntwo/);

    const long = (await run('job', 'run', '--', 'sleep', '60')).stdout.trim();
    // A follower sees the cancellation end the job.
    const follower = spawn(process.execPath, [bin, 'job', 'logs', long, '-f'], { cwd: repoRoot, env: { ...process.env, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    follower.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => follower.once('exit', resolve));
    await until('running', async () => (await run('job', 'show', long, '-o', 'json')).stdout.includes('"running"'), 20_000);
    const c = await run('job', 'cancel', long);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /cancel requested/);
    assert.equal(await exited, 0);
    assert.match(out, /attempt 1 cancelled/);
    const again = await run('job', 'cancel', long);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /409 conflict: job \d+ is already cancelled/);
    const retry = await run('job', 'retry', long);
    assert.match(retry.stdout, /queued/);
    await run('job', 'cancel', long);
  });

  it('job render --target kubernetes prints a batch/v1 Job valid against the Kubernetes schema, from flags or -f', async () => {
    const validate = new Ajv({ formats: { int32: true, int64: true } }).compile(schema);
    const r = await run('job', 'render', '--target', 'kubernetes', '--timeout', '10m', '--retries', '2', '--resources', 'large', '-e', 'EPOCHS=3', '--', 'python', 'train.py');
    assert.equal(r.code, 0, r.stderr);
    const m = parse(r.stdout) as Manifest;
    assert.ok(validate(structuredClone(m)), JSON.stringify(validate.errors));
    assert.equal(m.spec.activeDeadlineSeconds, 600);
    assert.equal(m.spec.backoffLimit, 2);
    assert.equal(m.spec.template.spec.containers[0].env[0].value, 'https://slipway.example.com');
    const file = join(dir, 'job.yaml');
    writeFileSync(file, 'kind: Job\nname: nightly\nworkspace: default\ncommand: [python, train.py]\nimage: ghcr.io/acme/train:1\nsecretEnv:\n  DB_URL: { secret: warehouse, key: url }\n');
    const f = await run('job', 'render', '-f', file, '-o', 'json');
    assert.equal(f.code, 0, f.stderr);
    const doc = JSON.parse(f.stdout) as Manifest;
    assert.ok(validate(structuredClone(doc)), JSON.stringify(validate.errors));
    assert.equal(doc.spec.template.spec.containers[0].image, 'ghcr.io/acme/train:1');
    assert.ok(doc.spec.template.spec.containers[0].env.some((e: { name: string; valueFrom?: unknown }) => e.name === 'DB_URL' && JSON.stringify(e.valueFrom) === '{"secretKeyRef":{"name":"warehouse","key":"url"}}'));
    const bad = await run('job', 'render', '--', 'x', '--timeout', 'soon');
    assert.equal(bad.code, 0, 'flags after -- belong to the command');
  });
});
