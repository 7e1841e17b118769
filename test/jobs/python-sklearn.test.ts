import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobWorker } from '../../src/jobs/worker.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { until } from '../helpers/process.js';
import type { PipelineScheduler } from '../../src/jobs/pipelines/scheduler.js';
import { trainFromFile } from '../../src/jobs/trainer/index.js';
import { FEATURES, syntheticRows, toCsv } from './trainer/synthetic.js';

/**
 * Issue 6's training acceptance, both paths on one data set. Python: a
 * scikit-learn training script (Debian's python3 with python3-sklearn and
 * python3-onnx, which .ci/run installs) runs as a `command` job through a
 * real worker, logs to its run and registers an ONNX model through the
 * MLflow REST API alone; the registered version, deployed on an endpoint,
 * answers what sklearn's predict_proba answered. No Python: the built-in
 * trainer's `train` step does the same as a job, and its served version
 * answers what the trainer itself predicts.
 */

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../fixtures/python/train_sklearn.py', import.meta.url));
const ws = '/api/v1/workspaces/default';
const FAST = { SLIPWAY_WORKER_DRAIN_MS: '300', SLIPWAY_JOB_POLL_MS: '50', SLIPWAY_JOB_BACKOFF_MS: '100' };

/** Skipped only where Debian's python3 lacks the packages; CI installs them (.ci/apt-packages). */
const missing = (() => {
  const r = spawnSync(PYTHON, ['-c', 'import sklearn, onnx, numpy'], { encoding: 'utf8' });
  return r.status === 0 ? false : `${PYTHON} with python3-sklearn and python3-onnx is not installed (${(r.stderr || String(r.error)).trim().split('\n').at(-1)})`;
})();

interface Expected {
  columns: string[];
  data: number[][];
  label: number[];
  probabilities: number[][];
}

describe('training as a job, registered and served: a Python sklearn script, and the built-in trainer (pglite)', () => {
  let t: TestApp;
  let worker: JobWorker;
  let scheduler: PipelineScheduler;
  let base: string;
  const csv = toCsv(syntheticRows('multiclass', 240, 11));
  const ok = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
    const r = await t.call({ method, url, payload: payload as object });
    assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json();
  };

  before(async () => {
    t = await startTestApp('pglite', FAST);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = t.app.server.address();
    assert.ok(addr && typeof addr === 'object');
    base = `http://127.0.0.1:${addr.port}`;
    worker = t.platform.jobWorker({ serverUrl: base, log: (m) => process.stderr.write(`${m}\n`) });
    worker.start();
    scheduler = t.platform.pipelineScheduler({ log: (m) => process.stderr.write(`${m}\n`) });
    scheduler.start();
    const up = await t.call({ method: 'POST', url: `${ws}/datasets/py-train/versions?filename=train.csv`, payload: csv, headers: { 'content-type': 'text/csv' } });
    assert.equal(up.statusCode, 201, up.body);
  });
  after(async () => {
    await scheduler.stop();
    await worker.stop();
    await t.close();
  });

  /** Deploys version 1 of `model` on an endpoint of the same name and answers its /score for `data`. */
  const serve = async (model: string, columns: string[], data: number[][]) => {
    await ok('POST', `${ws}/endpoints`, { name: model });
    await ok('POST', `${ws}/endpoints/${model}/deployments`, { name: 'blue', model: `models:/${model}/1` });
    await ok('PUT', `${ws}/endpoints/${model}/traffic`, { traffic: { blue: 100 } });
    const key = (await ok('GET', `${ws}/endpoints/${model}/keys`)).primary as string;
    const auth = { authorization: `Bearer ${key}` };
    await until(`${model} ready`, async () => (await fetch(`${base}/v2/models/${model}/ready`, { headers: auth })).status === 200, 60_000);
    const r = await fetch(`${base}/endpoints/${model}/score`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ dataframe_split: { columns, data } }),
    });
    assert.equal(r.status, 200, await r.clone().text());
    return ((await r.json()) as { predictions: { label: number[]; probabilities: number[][] } }).predictions;
  };

  it('Python: trains, logs through the MLflow REST API, registers an ONNX model that serves sklearn’s own predictions', { skip: missing }, async () => {

    const job = await ok('POST', `${ws}/jobs`, { name: 'sklearn', command: [PYTHON, SCRIPT, 'py-sklearn', 'y'], inputs: { train: 'datasets:/py-train/1' }, experiment: 'sklearn' });
    const done = await until('the training job to finish', async () => {
      const j = await ok('GET', `${ws}/jobs/${job.id}`);
      return ['succeeded', 'failed', 'cancelled'].includes(j.state) && j;
    }, 120_000, 100);
    const logs = ((await ok('GET', `${ws}/jobs/${job.id}/logs`)).lines as Array<{ line: string }>).map((l) => l.line).join('\n');
    assert.equal(done.state, 'succeeded', logs);
    assert.match(logs, new RegExp(`registered py-sklearn version 1 from run ${job.runId}`));

    // The run holds what the script logged through the MLflow API.
    const run = (await ok('GET', `/api/2.0/mlflow/runs/get?run_id=${job.runId}`)).run;
    assert.equal(run.info.status, 'FINISHED');
    const params = Object.fromEntries((run.data.params as Array<{ key: string; value: string }>).map((p) => [p.key, p.value]));
    assert.deepEqual({ C: params.C, solver: params.solver, features: params.features }, { C: '1.0', solver: 'lbfgs', features: 'a,b,c,d' });
    const metrics = Object.fromEntries((run.data.metrics as Array<{ key: string; value: number }>).map((m) => [m.key, m.value]));
    assert.ok(metrics.train_accuracy > 0.7 && metrics.train_accuracy <= 1, JSON.stringify(metrics));
    assert.ok(metrics.train_log_loss > 0 && metrics.n_iter >= 1, JSON.stringify(metrics));

    // The version came from the run's model artifact, with the ONNX signature read from the graph.
    const version = await ok('GET', `${ws}/models/py-sklearn/versions/1`);
    assert.equal(version.runId, job.runId);
    assert.deepEqual((version.files as Array<{ path: string }>).map((f) => f.path).sort(), ['MLmodel', 'model.onnx']);
    const mv = (await ok('GET', '/api/2.0/mlflow/model-versions/get?name=py-sklearn&version=1')).model_version;
    assert.equal(mv.status, 'READY');
    assert.equal(mv.source, `${run.info.artifact_uri}/model`);

    // Deployed on an endpoint, it answers what sklearn's predict_proba answered.
    const artifactPath = `${run.info.artifact_uri.slice('mlflow-artifacts:/'.length)}/expected/predictions.json`;
    const expected = (await ok('GET', `/api/2.0/mlflow-artifacts/artifacts/${artifactPath}`)) as Expected;
    assert.equal(expected.data.length, 20);
    const predictions = await serve('py-sklearn', expected.columns, expected.data);
    assert.deepEqual(predictions.label, expected.label);
    predictions.probabilities.forEach((row, i) =>
      row.forEach((p, c) => assert.ok(Math.abs(p - expected.probabilities[i][c]) <= 1e-6, `row ${i} class ${c}: served ${p}, sklearn ${expected.probabilities[i][c]}`)),
    );
    assert.ok(new Set(expected.label).size > 1, 'the rows checked cover more than one class');
  });

  it('no Python: the built-in trainer’s train step does the same as a job, and serves the trainer’s own predictions', async () => {
    const spec = { task: 'classification' as const, algorithm: 'logistic_regression' as const, features: FEATURES, label: 'y' };
    await ok('POST', '/api/v1/apply', { documents: [{ kind: 'Pipeline', name: 'builtin-train', steps: [{ name: 'train', uses: 'train', with: { dataset: 'datasets:/py-train/1', model: 'builtin-lr', spec } }] }] });
    const started = await ok('POST', `${ws}/pipelines/builtin-train/runs`, {});
    const done = await until('the pipeline run to finish', async () => {
      const r = await ok('GET', `${ws}/pipelines/builtin-train/runs/${started.id}`);
      return r.state !== 'running' && r;
    }, 60_000, 100);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.steps));
    const step = done.steps[0];
    assert.equal(step.outputs.model, 'models:/builtin-lr/1');
    const run = (await ok('GET', `/api/2.0/mlflow/runs/get?run_id=${step.outputs.runId}`)).run;
    assert.ok((run.data.metrics as Array<{ key: string }>).some((m) => m.key === 'accuracy'), JSON.stringify(run.data));
    assert.equal((await ok('GET', `${ws}/models/builtin-lr/versions/1`)).runId, step.outputs.runId);

    // The same spec and file in-process: the trainer is deterministic (seeded split and fit).
    const file = join(t.dataDir, 'builtin-train.csv');
    writeFileSync(file, csv);
    const fitted = await trainFromFile(file, spec);
    const x = syntheticRows('multiclass', 240, 11).slice(0, 20).map((r) => FEATURES.map((f) => Math.fround(r[f])));
    const expected = fitted.predict(x);
    const predictions = await serve('builtin-lr', FEATURES, x);
    assert.deepEqual(predictions.label, expected.labels!.map((l) => fitted.classes![l]));
    predictions.probabilities.forEach((row, i) => row.forEach((p, c) => assert.ok(Math.abs(p - expected.probabilities![i][c]) <= 1e-5, `row ${i} class ${c}: served ${p}, trainer ${expected.probabilities![i][c]}`)));
  });
});
