/**
 * Batch endpoints through the API on both drivers, with real scorers and
 * onnxruntime: validation 4xx naming fields, progress and the parallel
 * claim of mini-batches, the error threshold, output rows and usage,
 * apply/export, and the batch-score pipeline step.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { BatchClaims } from '../../src/batch/claims.js';
import type { JobWorker } from '../../src/jobs/worker.js';
import type { Ctx } from '../../src/access/principal.js';
import { batchScoreStep } from '../../src/jobs/steps/batch-score.js';
import type { StepDeps } from '../../src/jobs/steps/index.js';
import type { JobRow } from '../../src/jobs/tables.js';
import type { PipelineScheduler } from '../../src/jobs/pipelines/scheduler.js';
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
      await bad('POST', `${eps}/clf/runs`, { input: 'datasets:/rows/1', features: ['a', 'b'] }, 400, /features: 4 columns for models:\/clf\/1 .*2 given/);
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
      // A worker whose 1 ms lease has run out (as if it died): its mini-batch goes to the next claimer.
      const stale = (await claims.claimMiniBatch('w0', Date.now(), 1))!;
      const later = Date.now() + 50;
      const [a, b, c] = await Promise.all(['w1', 'w2', 'w3'].map((w) => claims.claimMiniBatch(w, later, 60_000)));
      const got = [a, b, c].filter((m) => m !== null);
      assert.equal(got.length, 2, 'parallelism 2: a third claim gets nothing');
      assert.notEqual(got[0]!.seq, got[1]!.seq);
      const taken = got.find((m) => m!.seq === stale.seq)!;
      assert.equal(taken.attempt, stale.attempt + 1, 'the expired mini-batch is claimed again');
      assert.equal((await ok<Run>('GET', `${eps}/clf/runs/${run.id}`)).progress.miniBatches.running, 2);
      // The dead worker's late writes change nothing: its output could never be appended beside the new owner's.
      assert.equal(await claims.heartbeat(stale, 'w0', Date.now() + 60_000), false);
      assert.equal(await t.platform.store.db.transaction().execute((tx) => claims.complete(tx, stale, 'w0', { state: 'done', output: 'stale\n', rowsFailed: 0, error: '' })), false);
      for (const m of got) await claims.release(m!, ['w1', 'w2', 'w3'][[a, b, c].indexOf(m)], 'handed back by the test');
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

    it('scores JSONL and Parquet inputs into JSONL with the same numbers', async () => {
      const { x } = csv(30);
      const jsonl = x.map((r, i) => JSON.stringify({ id: `r${i}`, a: r[0], b: r[1], c: r[2], d: r[3] })).join('\n') + '\n';
      const j = await t.call({ method: 'POST', url: `${ws}/datasets/rows-jsonl/versions?filename=rows.jsonl`, payload: jsonl, headers: { 'content-type': 'application/x-ndjson' } });
      assert.equal(j.statusCode, 201, j.body);
      const col = (k: number) => ({ name: 'abcd'[k], data: x.map((r) => r[k]), type: 'DOUBLE' as const });
      const pq = Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'id', data: x.map((_, i) => `r${i}`), type: 'STRING' }, col(0), col(1), col(2), col(3)], rowGroupSize: 7 }));
      const p = await t.call({ method: 'POST', url: `${ws}/datasets/rows-parquet/versions?filename=rows.parquet`, payload: pq, headers: { 'content-type': 'application/vnd.apache.parquet' } });
      assert.equal(p.statusCode, 201, p.body);
      const want = expectedOutput(x, { sigmoid: true });
      for (const input of ['datasets:/rows-jsonl/1', 'datasets:/rows-parquet/1']) {
        const run = await ok<Run>('POST', `${eps}/clf/runs`, { input, output: 'formats' });
        const end = await finished('clf', run.id);
        assert.equal(end.state, 'succeeded', end.error);
        const lines = (await outputRows(end.output!)).map((l) => JSON.parse(l) as Record<string, unknown>);
        assert.equal(lines.length, 30);
        lines.forEach((o, i) => {
          assert.deepEqual(Object.keys(o), ['id', 'a', 'b', 'c', 'd', 'prediction']);
          assert.equal(o.id, `r${i}`);
          assert.ok(Math.abs((o.prediction as number) - want[i]) < 1e-6);
        });
      }
    });

    it('runs as the batch-score step of a pipeline, and a retried attempt finds its run', async () => {
      const worker: JobWorker = t.platform.jobWorker({ log: (m) => console.warn(m) });
      const scheduler: PipelineScheduler = t.platform.pipelineScheduler({ log: (m) => console.warn(m) });
      worker.start();
      scheduler.start();
      try {
        await ok('PUT', `${ws}/pipelines/nightly-score`, { steps: [{ name: 'score', uses: 'batch-score', with: { endpoint: 'clf', input: 'datasets:/rows/latest', output: 'piped', cache: false } }] });
        const started = await ok<{ id: number }>('POST', `${ws}/pipelines/nightly-score/runs`, {});
        const run = await until('pipeline run final', async () => {
          const r = await ok<{ state: string; steps: Array<{ state: string; jobId: number; outputs: Record<string, unknown>; error: string }> }>('GET', `${ws}/pipelines/nightly-score/runs/${started.id}`);
          return r.state !== 'running' && r;
        }, 60_000);
        const step = run.steps[0];
        assert.equal(run.state, 'succeeded', step.error);
        assert.deepEqual([step.outputs.output, step.outputs.rows, step.outputs.failedRows], ['datasets:/piped/1', 100, 0]);
        const batchRun = await t.platform.batch.runOfJob(step.jobId);
        assert.equal(batchRun?.id, step.outputs.run);
        assert.equal(batchRun?.input, 'datasets:/rows/1', 'the input pinned by the pipeline');
        // Another attempt of the same job (its worker died after starting the run) follows that run rather than starting one.
        const lines: string[] = [];
        const again = await batchScoreStep({ deps: { batch: t.platform.batch } as unknown as StepDeps, ctx: {} as Ctx, workspace: 'default', job: { id: step.jobId } as JobRow, with: { endpoint: 'clf', input: 'datasets:/rows/1' }, cwd: '', log: (l) => lines.push(l), signal: new AbortController().signal });
        assert.equal(again.run, batchRun?.id);
        assert.equal(again.output, 'datasets:/piped/1');
        assert.match(lines[0], /resuming batch run/);
      } finally {
        await scheduler.stop();
        await worker.stop();
      }
    });

    it('cancels a run (409 once ended), refuses deleting an endpoint with an active run, and lists the routes in OpenAPI', async () => {
      await ok('PUT', `${eps}/slow`, { model: 'models:/clf/1', features: ['a', 'b', 'c', 'd'] });
      // The scorers are stopped here, so the run stays queued until cancelled.
      for (const s of scorers.splice(0)) await s.stop();
      const run = await ok<Run>('POST', `${eps}/slow/runs`, { input: 'datasets:/rows/1' });
      const busy = await call('DELETE', `${eps}/slow`);
      assert.equal(busy.statusCode, 409, busy.body);
      assert.match(busy.body, new RegExp(`active runs \\(${run.id}\\)`));
      const cancelled = await ok<Run>('POST', `${eps}/slow/runs/${run.id}/cancel`, {});
      assert.equal(cancelled.state, 'cancelled');
      assert.match(cancelled.error, /cancelled by admin/);
      assert.equal((await call('POST', `${eps}/slow/runs/${run.id}/cancel`, {})).statusCode, 409);
      assert.equal((await call('GET', `${eps}/slow/runs/999`)).statusCode, 404);
      assert.equal((await call('DELETE', `${eps}/slow`)).statusCode, 204);
      assert.equal((await call('GET', `${eps}/slow`)).statusCode, 404);
      const paths = (await ok<{ paths: Record<string, unknown> }>('GET', '/api/v1/openapi.json')).paths;
      for (const p of ['/api/v1/workspaces/{ws}/batch-endpoints', '/api/v1/workspaces/{ws}/batch-endpoints/{name}/runs', '/api/v1/workspaces/{ws}/batch-endpoints/{name}/runs/{id}/cancel']) assert.ok(paths[p], p);
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
