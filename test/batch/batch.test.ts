/**
 * Batch endpoints through the API on both drivers, with real scorers and
 * onnxruntime: validation 4xx naming fields, progress and the parallel
 * claim of mini-batches, the error threshold, output rows and usage,
 * apply/export, and the batch-score pipeline step.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BatchClaims } from '../../src/batch/claims.js';
import type { BatchScorer } from '../../src/batch/scorer.js';
import { principalWithToken, startTestApp, type TestApp } from '../helpers/app.js';
import { expectedOutput, logisticRegressionOnnx } from '../helpers/onnx.js';
import { until } from '../helpers/process.js';
import { drivers } from '../helpers/stores.js';

const ws = '/api/v1/workspaces/default';
const eps = `${ws}/batch-endpoints`;

interface Run {
  id: number;
  state: string;
  output: string | null;
  error: string;
  progress: { rows: { total: number | null; done: number; failed: number }; miniBatches: { total: number | null; done: number; failed: number; running: number } };
  failures: Array<{ row: number; error: string }>;
  usage: { cpuSeconds: number; wallMs: number; busyMs: number; peakRssBytes: number; cost: number };
}

/** id + four features; `blank` rows have no value in `b`. */
function csv(n: number, blank: number[] = []): { text: string; x: number[][] } {
  const x: number[][] = [];
  const lines = ['id,a,b,c,d'];
  for (let i = 0; i < n; i++) {
    const row = [((i * 7) % 13) / 4, (i % 5) - 2, i / n, ((i * 3) % 11) / 8];
    x.push(row);
    lines.push([`r${i}`, row[0], blank.includes(i) ? '' : row[1], row[2], row[3]].join(','));
  }
  return { text: lines.join('\n') + '\n', x };
}

for (const driver of drivers) {
  describe(`batch endpoints (${driver})`, () => {
    let t: TestApp;
    const scorers: BatchScorer[] = [];
    const call = async (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown, token?: string) => t.call({ method, url, payload: payload as object, token });
    const ok = async <T>(method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown): Promise<T> => {
      const r = await call(method, url, payload);
      assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
      return r.json() as T;
    };
    const upload = async (name: string, text: string) => {
      const r = await t.call({ method: 'POST', url: `${ws}/datasets/${name}/versions?filename=${name}.csv`, payload: text, headers: { 'content-type': 'text/csv' } });
      assert.equal(r.statusCode, 201, r.body);
    };
    const finished = (name: string, id: number) =>
      until(`run ${id} ended`, async () => {
        const r = await ok<Run>('GET', `${eps}/${name}/runs/${id}`);
        return ['succeeded', 'failed', 'cancelled'].includes(r.state) && r;
      }, 30_000, 20);
    const outputRows = async (uri: string) => {
      const [, name, version] = /^datasets:\/([^/]+)\/(\d+)$/.exec(uri)!;
      const r = await call('GET', `${ws}/datasets/${name}/versions/${version}/content`);
      assert.equal(r.statusCode, 200, r.body);
      return r.body.trim().split('\n');
    };

    before(async () => {
      t = await startTestApp(driver, { SLIPWAY_JOB_LEASE_MS: '1000', SLIPWAY_JOB_POLL_MS: '20', SLIPWAY_WORKER_SLOTS: '2' });
      const m = await t.call({ method: 'POST', url: `${ws}/models/clf/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(m.statusCode, 201, m.body);
      await upload('rows', csv(100).text);
      await upload('gaps', csv(100, [4, 50, 99]).text);
      await ok('PUT', `${eps}/clf`, { model: 'models:/clf/1', features: ['a', 'b', 'c', 'd'], miniBatchRows: 10, parallelism: 2 });
    });
    after(async () => {
      for (const s of scorers) await s.stop();
      await t?.close();
    });

    it('refuses bad definitions and runs with 4xx naming the field', async () => {
      const bad = async (method: 'PUT' | 'POST', url: string, body: unknown, status: number, field: RegExp) => {
        const r = await call(method, url, body);
        assert.equal(r.statusCode, status, `${url} ${JSON.stringify(body)}: ${r.body}`);
        assert.match(r.body, field);
      };
      await bad('PUT', `${eps}/Bad_Name`, { model: 'models:/clf/1' }, 400, /name/);
      await bad('PUT', `${eps}/x`, { model: 'clf' }, 400, /model/);
      await bad('PUT', `${eps}/x`, { model: 'models:/nope/1' }, 400, /model.*nope/);
      await bad('PUT', `${eps}/x`, { model: 'models:/clf/9' }, 400, /no version 9/);
      await bad('PUT', `${eps}/x`, { model: 'models:/clf/1', parallelism: 0 }, 400, /parallelism/);
      await bad('PUT', `${eps}/x`, { model: 'models:/clf/1', errorThreshold: { fraction: 2 } }, 400, /fraction/);
      await bad('PUT', `${eps}/x`, { model: 'models:/clf/1', errorThreshold: {} }, 400, /errorThreshold/);
      await bad('PUT', `${eps}/x`, { model: 'models:/clf/1', resources: 'huge' }, 400, /resources/);
      await bad('PUT', `${eps}/x`, { model: 'models:/clf/1', colour: 'red' }, 400, /colour/);
      await bad('POST', `${eps}/clf/runs`, { input: 'rows.csv' }, 400, /input/);
      await bad('POST', `${eps}/clf/runs`, {}, 400, /input/);
      await bad('POST', `${eps}/clf/runs`, { input: 'datasets:/rows/1', features: ['a', 'zz'] }, 400, /features.*zz/);
      await bad('POST', `${eps}/clf/runs`, { input: 'datasets:/rows/1', output: 'Not A Name' }, 400, /output/);
      await bad('POST', `${eps}/clf/runs`, { input: 'datasets:/rows/7' }, 404, /version 7/);
      await bad('POST', `${eps}/nope/runs`, { input: 'datasets:/rows/1' }, 404, /batch endpoint 'nope'/);
      await bad('POST', `${eps}/clf/runs/abc/cancel`, {}, 400, /id/);
      const reader = await principalWithToken(t, `reader-${driver}`);
      assert.equal((await call('POST', `${ws}/roles`, { principal: `reader-${driver}`, role: 'reader' })).statusCode, 204);
      const r = await call('POST', `${eps}/clf/runs`, { input: 'datasets:/rows/1' }, reader);
      assert.equal(r.statusCode, 403, r.body);
      assert.match(r.body, /job\.run/);
      assert.equal((await call('GET', `${eps}/clf`, undefined, reader)).statusCode, 200);
      assert.equal((await call('PUT', `${eps}/clf`, { model: 'models:/clf/1' }, reader)).statusCode, 403);
    });

    it('hands mini-batches out one worker each, at most `parallelism` at once, and reports progress', async () => {
      const run = await ok<Run>('POST', `${eps}/clf/runs`, { input: 'datasets:/rows/1' });
      assert.equal(run.state, 'queued');
      // Plan it with one scorer tick, without starting the loop: the claims below are then ours alone.
      const planner = t.platform.batchScorer({ log: (m) => console.warn(m) });
      await planner.tick();
      const planned = await until('planned', async () => {
        const r = await ok<Run>('GET', `${eps}/clf/runs/${run.id}`);
        return r.state === 'running' && r;
      });
      assert.deepEqual(planned.progress, { rows: { total: 100, done: 0, failed: 0 }, miniBatches: { total: 10, done: 0, failed: 0, running: 0 } });
      const claims = new BatchClaims(t.platform.store.db);
      const [a, b, c] = await Promise.all(['w1', 'w2', 'w3'].map((w) => claims.claimMiniBatch(w, Date.now(), 60_000)));
      const got = [a, b, c].filter((m) => m !== null);
      assert.equal(got.length, 2, 'parallelism 2: a third claim gets nothing');
      assert.notEqual(got[0]!.seq, got[1]!.seq);
      assert.equal((await ok<Run>('GET', `${eps}/clf/runs/${run.id}`)).progress.miniBatches.running, 2);
      assert.equal(await claims.heartbeat({ ...got[0]!, attempt: got[0]!.attempt + 1 }, 'w1', Date.now()), false, 'a stale attempt writes nothing');
      for (const [i, m] of got.entries()) await claims.release(m!, ['w1', 'w2', 'w3'][[a, b, c].indexOf(m)], `test ${i}`);
      // Two scorers share the run.
      for (let i = 0; i < 2; i++) scorers.push(t.platform.batchScorer({ log: (m) => console.warn(m) }));
      for (const s of scorers) s.start();
      const end = await finished('clf', run.id);
      assert.equal(end.state, 'succeeded', end.error);
      assert.deepEqual(end.progress, { rows: { total: 100, done: 100, failed: 0 }, miniBatches: { total: 10, done: 10, failed: 0, running: 0 } });
      assert.equal(end.output, 'datasets:/clf-scores/1');
      assert.ok(end.usage.busyMs > 0 && end.usage.cost > 0 && end.usage.peakRssBytes > 0 && end.usage.cpuSeconds >= 0 && end.usage.wallMs > 0, JSON.stringify(end.usage));
      const lines = await outputRows(end.output!);
      assert.equal(lines[0], 'id,a,b,c,d,prediction');
      assert.equal(lines.length, 101);
      const want = expectedOutput(csv(100).x, { sigmoid: true });
      lines.slice(1).forEach((l, i) => {
        const cells = l.split(',');
        assert.equal(cells[0], `r${i}`, 'input order');
        assert.ok(Math.abs(Number(cells[5]) - want[i]) < 1e-6, `row ${i}: ${cells[5]} vs ${want[i]}`);
      });
      const meta = await ok<{ rowCount: number; schema: { columns: Array<{ name: string; type: string }> }; sha256: string }>('GET', `${ws}/datasets/clf-scores/versions/1`);
      assert.equal(meta.rowCount, 100);
      assert.equal(meta.schema.columns.find((c) => c.name === 'prediction')?.type, 'number');
      assert.match(meta.sha256, /^[0-9a-f]{64}$/);
    });

    it('fails a run past its error threshold with the reason, and keeps good rows under it', async () => {
      const strict = await ok<Run>('POST', `${eps}/clf/runs`, { input: 'datasets:/gaps/1', errorThreshold: { rows: 2 } });
      const failed = await finished('clf', strict.id);
      assert.equal(failed.state, 'failed');
      assert.match(failed.error, /error threshold exceeded: 3 rows failed, more than the 2 rows allowed/);
      assert.equal(failed.output, null);
      assert.equal(failed.failures[0].row, 5);
      assert.match(failed.failures[0].error, /b|number|null/i);
      const lenient = await ok<Run>('POST', `${eps}/clf/runs`, { input: 'datasets:/gaps/1', errorThreshold: { fraction: 0.05 }, output: 'gaps-scored' });
      const done = await finished('clf', lenient.id);
      assert.equal(done.state, 'succeeded', done.error);
      assert.deepEqual(done.progress.rows, { total: 100, done: 97, failed: 3 });
      assert.deepEqual(done.failures.map((f) => f.row), [5, 51, 100]);
      const lines = await outputRows(done.output!);
      assert.equal(lines.length, 98);
      assert.ok(!lines.some((l) => l.startsWith('r4,') || l.startsWith('r50,') || l.startsWith('r99,')));
      const listed = await ok<{ runs: Run[] }>('GET', `${eps}/clf/runs`);
      assert.deepEqual(listed.runs.slice(0, 2).map((r) => r.id), [lenient.id, strict.id]);
    });

    it('applies and exports kind: BatchEndpoint, unchanged the second time', async () => {
      const doc = { kind: 'BatchEndpoint', name: 'nightly', model: 'models:/clf@champion', errorThreshold: { fraction: 0.01, rows: 10 }, output: 'nightly-scores' };
      const noAlias = await call('POST', '/api/v1/apply', { documents: [doc] });
      assert.equal(noAlias.statusCode, 400, noAlias.body);
      assert.match(noAlias.body, /documents\[0\]\.model/);
      assert.equal((await call('PUT', `${ws}/models/clf/aliases/champion`, { version: 1 })).statusCode, 204);
      const first = await ok<{ plan: Array<{ action: string }> }>('POST', '/api/v1/apply', { documents: [doc] });
      assert.equal(first.plan[0].action, 'create');
      const again = await ok<{ plan: Array<{ action: string }> }>('POST', '/api/v1/apply', { documents: [{ ...doc, errorThreshold: { rows: 10, fraction: 0.01 } }] });
      assert.equal(again.plan[0].action, 'unchanged');
      const exported = await ok<{ documents: Array<Record<string, unknown>> }>('GET', '/api/v1/export?workspace=default');
      const mine = exported.documents.find((d) => d.kind === 'BatchEndpoint' && d.name === 'nightly');
      assert.deepEqual(mine, { ...doc, workspace: 'default' });
    });
  });
}
