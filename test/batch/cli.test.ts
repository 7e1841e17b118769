/**
 * `slipway batch ls|run --wait|status|cancel` against a loopback server with
 * a real scorer. The CLI runs from source (tsx), so no build is needed;
 * stderr is a pipe, so progress comes as plain lines.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BatchScorer } from '../../src/batch/scorer.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { runCli } from '../helpers/process.js';

const cli = (args: string[], env: Record<string, string>) => runCli(args, env, { source: true });

describe('slipway batch (pglite)', () => {
  let t: TestApp;
  let scorer: BatchScorer;
  let env: Record<string, string>;
  let dir: string;
  const ws = '/api/v1/workspaces/default';

  before(async () => {
    t = await startTestApp('pglite', { SLIPWAY_JOB_POLL_MS: '20', SLIPWAY_JOB_LEASE_MS: '2000' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    dir = mkdtempSync(join(tmpdir(), 'slipway-batch-cli-'));
    env = { HOME: dir, SLIPWAY_CONFIG: join(dir, 'config.json'), SLIPWAY_URL: `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`, SLIPWAY_TOKEN: t.adminToken };
    const m = await t.call({ method: 'POST', url: `${ws}/models/clf/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(m.statusCode, 201, m.body);
    const rows = ['a,b,c,d', ...Array.from({ length: 2000 }, (_, i) => `${i % 7},${i % 3},${(i % 11) / 10},${i % 2}`)];
    const d = await t.call({ method: 'POST', url: `${ws}/datasets/rows/versions?filename=rows.csv`, payload: rows.join('\n') + '\n', headers: { 'content-type': 'text/csv' } });
    assert.equal(d.statusCode, 201, d.body);
    const bad = await t.call({ method: 'POST', url: `${ws}/datasets/bad/versions?filename=bad.csv`, payload: 'a,b,c,d\n1,2,3,4\n1,,3,4\n', headers: { 'content-type': 'text/csv' } });
    assert.equal(bad.statusCode, 201, bad.body);
    const a = await t.call({ method: 'POST', url: '/api/v1/apply', payload: { documents: [{ kind: 'BatchEndpoint', name: 'scores', model: 'models:/clf/1', miniBatchRows: 100 }] } });
    assert.equal(a.statusCode, 200, a.body);
    scorer = t.platform.batchScorer({ log: () => undefined });
    scorer.start();
  });
  after(async () => {
    await scorer.stop();
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs with --wait showing progress, then lists and shows the run', async () => {
    const r = await cli(['batch', 'run', 'scores', '--input', 'datasets:/rows/1', '--wait'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /run 1 +\w+ +\[[#-]{30}\] +\d+% +\d+\/2000 rows/);
    assert.match(r.stderr, /run 1 succeeded +\[#{30}\] 100% +2000\/2000 rows, mini-batches 20\/20/);
    assert.match(r.stdout, /output +│ datasets:\/scores-scores\/1|output.*datasets:\/scores-scores\/1/);
    const ls = await cli(['batch', 'ls'], env);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /scores.*models:\/clf\/1.*scores-scores.*#1 succeeded 2000\/2000 rows/);
    const status = await cli(['batch', 'status', 'scores'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /run.*state.*input.*rows/);
    assert.match(status.stdout, /1.*succeeded.*datasets:\/rows\/1.*2000\/2000/);
    const one = await cli(['-o', 'json', 'batch', 'status', 'scores', '1'], env);
    assert.equal(JSON.parse(one.stdout).output, 'datasets:/scores-scores/1');
  });

  it('exits 1 with the reason when the run fails, and reports client errors', async () => {
    const r = await cli(['batch', 'run', 'scores', '--input', 'datasets:/bad/1', '--wait'], env);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /error threshold exceeded: 1 rows failed, more than the 0 rows allowed/);
    assert.match(r.stdout, /row 2:/);
    const bad = await cli(['batch', 'run', 'scores', '--input', 'rows.csv'], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /input/);
    const flag = await cli(['batch', 'run', 'scores', '--input', 'datasets:/rows/1', '--parallelism', '0'], env);
    assert.notEqual(flag.code, 0);
    assert.match(flag.stderr, /--parallelism: expected a whole number above 0/);
  });
});
