import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobWorker } from '../../../src/jobs/worker.js';
import type { PipelineScheduler } from '../../../src/jobs/pipelines/scheduler.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { runCli } from '../../helpers/process.js';
import { churnCsv, PIPELINE } from './fixtures.js';

/** The CLI from source (tsx), so this test needs no build; stdout is a pipe, so --watch prints plain lines. */
const cli = (args: string[], env: Record<string, string>) => runCli(args, env, { source: true });

describe('slipway pipeline ls|run --watch|show (pglite)', () => {
  let t: TestApp;
  let worker: JobWorker;
  let scheduler: PipelineScheduler;
  let env: Record<string, string>;
  let dir: string;

  before(async () => {
    t = await startTestApp('pglite', { SLIPWAY_JOB_POLL_MS: '50', SLIPWAY_JOB_LEASE_MS: '3000', SLIPWAY_WORKER_DRAIN_MS: '300' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    dir = mkdtempSync(join(tmpdir(), 'slipway-pipeline-cli-'));
    env = { HOME: dir, SLIPWAY_CONFIG: join(dir, 'config.json'), SLIPWAY_URL: `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`, SLIPWAY_TOKEN: t.adminToken };
    worker = t.platform.jobWorker({ log: () => undefined });
    scheduler = t.platform.pipelineScheduler({ log: () => undefined });
    worker.start();
    scheduler.start();
    for (const name of ['churn-ref', 'churn']) {
      const r = await t.call({ method: 'POST', url: `/api/v1/workspaces/default/datasets/${name}/versions?filename=${name}.csv`, payload: churnCsv(120), headers: { 'content-type': 'text/csv' } });
      assert.equal(r.statusCode, 201, r.body);
    }
    const a = await t.call({ method: 'POST', url: '/api/v1/apply', payload: { documents: [PIPELINE] } });
    assert.equal(a.statusCode, 200, a.body);
  });
  after(async () => {
    await scheduler.stop();
    await worker.stop();
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('run --watch prints each step as it changes and exits 0; a failing run exits 1; ls and show summarise', async () => {
    const r = await cli(['pipeline', 'run', 'churn-retrain', '--watch'], env);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    for (const step of ['validate', 'train', 'evaluate', 'compare', 'promote']) assert.match(r.stdout, new RegExp(`^\\S+ ${step} succeeded \\d+\\.\\ds`, 'm'));
    assert.match(r.stdout, /^run 1 succeeded$/m);

    const failed = await cli(['pipeline', 'run', 'churn-retrain', '--watch', '--param', 'minAccuracy=0.999'], env);
    assert.equal(failed.code, 1, failed.stderr + failed.stdout);
    assert.match(failed.stdout, /^\S+ train cached/m);
    assert.match(failed.stdout, /^run 2 failed: step compare failed: .*below the minimum 0\.999/m);

    const bad = await cli(['pipeline', 'run', 'churn-retrain', '--param', 'nope=1'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /params\.nope/);

    const ls = await cli(['pipeline', 'ls'], env);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /churn-retrain .*validate → train → evaluate → compare → promote.*#2 failed \(manual by admin\)/);
    const show = await cli(['pipeline', 'show', 'churn-retrain', '--run', '1'], env);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /run 1 of churn-retrain: succeeded after .* \(manual by admin\)/);
    assert.match(show.stdout, /│ train +│ train +│ succeeded │ .*model=models:\/churn\/1/);
    const model = await cli(['model', 'show', 'churn', '1'], env);
    assert.equal(model.code, 0, model.stderr);
    assert.match(model.stdout, /metrics .*accuracy=0\.\d+ .*roc_auc=\d.* \(on datasets:\/churn\/1\)/);
  });
});
