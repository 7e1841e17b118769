import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobWorker } from '../../../src/jobs/worker.js';
import type { PipelineScheduler } from '../../../src/jobs/pipelines/scheduler.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { until } from '../../helpers/process.js';
import { drivers } from '../../helpers/stores.js';
import { churnCsv, PIPELINE } from './fixtures.js';

const ws = '/api/v1/workspaces/default';
const FAST = { SLIPWAY_WORKER_DRAIN_MS: '300', SLIPWAY_JOB_LEASE_MS: '3000', SLIPWAY_JOB_POLL_MS: '50', SLIPWAY_WORKER_SLOTS: '2' };

for (const driver of drivers) {
  describe(`pipelines: validate → train → evaluate → compare → set-alias (${driver})`, () => {
    let t: TestApp;
    let worker: JobWorker;
    let scheduler: PipelineScheduler;
    const ok = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, status = 200) => {
      const r = await t.call({ method, url, payload: payload as object });
      assert.equal(r.statusCode, status, `${method} ${url}: ${r.body}`);
      return r.json();
    };
    const upload = async (name: string, csv: string) => {
      const r = await t.call({ method: 'POST', url: `${ws}/datasets/${name}/versions?filename=${name}.csv`, payload: csv, headers: { 'content-type': 'text/csv' } });
      assert.equal(r.statusCode, 201, r.body);
      return r.json();
    };
    const runToEnd = async (body: object = {}) => {
      const started = await ok('POST', `${ws}/pipelines/churn-retrain/runs`, body, 201);
      return until(`run ${started.id} final`, async () => {
        const r = await ok('GET', `${ws}/pipelines/churn-retrain/runs/${started.id}`);
        return r.state !== 'running' && r;
      }, 60_000);
    };

    before(async () => {
      t = await startTestApp(driver, FAST);
      worker = t.platform.jobWorker({ log: (m) => process.stderr.write(`${m}\n`) });
      scheduler = t.platform.pipelineScheduler({ log: (m) => process.stderr.write(`${m}\n`) });
      worker.start();
      scheduler.start();
      await upload('churn-ref', churnCsv(120));
      await upload('churn', churnCsv(120));
    });
    after(async () => {
      await scheduler.stop();
      await worker.stop();
      await t.close();
    });

    it('refuses a pipeline with an unknown need or a cycle, naming the step', async () => {
      const bad = (steps: unknown[]) => t.call({ method: 'POST', url: '/api/v1/apply', payload: { documents: [{ kind: 'Pipeline', name: 'bad', steps }] } });
      let r = await bad([{ name: 'a', uses: 'train', needs: ['nope'] }]);
      assert.equal(r.statusCode, 400);
      assert.match(r.json().detail ?? r.body, /steps\.a\.needs.*'nope'/);
      r = await bad([
        { name: 'a', uses: 'train', needs: ['b'] },
        { name: 'b', uses: 'train', with: { x: '${{ steps.a.outputs.model }}' } },
      ]);
      assert.equal(r.statusCode, 400);
      assert.match(r.body, /cycle; [ab] → [ab] → [ab]/);
      // The same definition through PUT, and the routes in the OpenAPI document.
      const put = await t.call({ method: 'PUT', url: `${ws}/pipelines/tiny`, payload: { steps: [{ name: 'a', uses: 'command', with: { command: ['true'] } }] } });
      assert.equal(put.statusCode, 200, put.body);
      assert.deepEqual(put.json().steps, [{ name: 'a', uses: 'command', needs: [], with: { command: ['true'] } }]);
      const unknown = await t.call({ method: 'PUT', url: `${ws}/pipelines/tiny`, payload: { steps: [{ name: 'a', uses: 'nope' }] } });
      assert.equal(unknown.statusCode, 400);
      assert.match(unknown.body, /steps\.a\.uses.*one of validate-data, train/);
      const paths = (await ok('GET', '/api/v1/openapi.json')).paths;
      for (const p of ['/api/v1/workspaces/{ws}/pipelines', '/api/v1/workspaces/{ws}/pipelines/{name}/runs', '/api/v1/workspaces/{ws}/pipelines/{name}/runs/{id}/cancel']) assert.ok(paths[p], p);
    });

    it('runs end to end, records its cause, stores metrics on the version and sets @champion; unchanged, every step is cached', async () => {
      const plan = await ok('POST', '/api/v1/apply', { documents: [PIPELINE] });
      assert.equal(plan.plan[0].action, 'create');
      const again = await ok('POST', '/api/v1/apply', { documents: [PIPELINE] });
      assert.equal(again.plan[0].action, 'unchanged');
      const exported = (await ok('GET', '/api/v1/export?workspace=default')).documents.filter((d: { kind: string }) => d.kind === 'Pipeline');
      assert.deepEqual(exported.map((d: { name: string }) => d.name), ['churn-retrain', 'tiny']);
      const replan = await ok('POST', '/api/v1/apply', { documents: exported, dryRun: true });
      assert.deepEqual(replan.plan.map((p: { action: string }) => p.action), ['unchanged', 'unchanged']);

      const first = await runToEnd();
      assert.equal(first.state, 'succeeded', JSON.stringify(first.steps));
      assert.equal(first.startedBy, 'manual by admin');
      assert.deepEqual(first.steps.map((s: { state: string }) => s.state), ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
      assert.equal(first.steps[1].outputs.model, 'models:/churn/1');
      const v = await ok('GET', `${ws}/models/churn/versions/1`);
      const tags = Object.fromEntries(v.tags.map((x: { key: string; value: string }) => [x.key, x.value]));
      for (const m of ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss']) assert.ok(Number.isFinite(Number(tags[`slipway.metrics.${m}`])), `${m} in ${JSON.stringify(tags)}`);
      assert.ok(Number(tags['slipway.metrics.accuracy']) > 0.8, tags['slipway.metrics.accuracy']);
      assert.deepEqual(v.aliases, ['champion']);
      const lineage = await ok('GET', `${ws}/models/churn/versions/1/lineage`);
      assert.equal(lineage.run.runId, first.steps[1].outputs.runId);
      assert.deepEqual(lineage.datasets.map((d: { name: string; source: string }) => `${d.name} ${d.source}`), ['churn datasets:/churn/1']);

      const second = await runToEnd();
      assert.equal(second.state, 'succeeded');
      assert.deepEqual(second.steps.map((s: { state: string }) => s.state), ['cached', 'cached', 'cached', 'cached', 'cached']);
      assert.equal(second.steps[1].outputs.model, 'models:/churn/1');
    });

    it('a parameter change re-runs the steps it reaches; compare fails the run when the candidate is worse', async () => {
      const r = await runToEnd({ params: { minAccuracy: 0.999 } });
      assert.equal(r.state, 'failed');
      const states = Object.fromEntries(r.steps.map((s: { name: string; state: string }) => [s.name, s.state]));
      assert.deepEqual(states, { validate: 'cached', train: 'cached', evaluate: 'cached', compare: 'failed', promote: 'skipped' });
      assert.match(r.error, /step compare failed: .*accuracy .* is below the minimum 0\.999/);
    });

    it('validate-data fails a corrupted dataset with a report naming the columns and rows at fault', async () => {
      await upload('churn', churnCsv(120, true));
      const r = await runToEnd();
      assert.equal(r.state, 'failed');
      assert.deepEqual(r.steps.map((s: { state: string }) => s.state), ['failed', 'skipped', 'skipped', 'skipped', 'skipped']);
      const err = r.steps[0].error as string;
      assert.match(err, /column 'x1' not a number \(as in the reference\) in rows 3\b/);
      assert.match(err, /column 'x2' null where the reference has none in rows 5\b/);
      assert.match(err, /column 'x2' out of range .* in rows 8\b/);
      // The whole report is kept as an artifact of the step's run.
      const job = await ok('GET', `${ws}/jobs/${r.steps[0].jobId}`);
      const run = await ok('GET', `/api/2.0/mlflow/runs/get?run_id=${job.runId}`);
      const key = (run.run.info.artifact_uri as string).replace(/^mlflow-artifacts:\//, '');
      const report = await ok('GET', `/api/2.0/mlflow-artifacts/artifacts/${key}/validation/report.json`);
      assert.equal(report.valid, false);
      assert.deepEqual(report.faults.map((f: { column: string; rows: number[] }) => `${f.column} ${f.rows.join(',')}`).sort(), ['x1 3', 'x2 5', 'x2 8']);
    });
  });
}
