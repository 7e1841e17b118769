import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobWorker } from '../../src/jobs/worker.js';
import { principalWithToken, startTestApp, type TestApp } from '../helpers/app.js';
import { alive } from './helpers.js';
import { until } from '../helpers/process.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { drivers } from '../helpers/stores.js';

const ws = '/api/v1/workspaces/default';
const team = '/api/v1/workspaces/team';
const FAST = { SLIPWAY_WORKER_DRAIN_MS: '300', SLIPWAY_JOB_LEASE_MS: '1500', SLIPWAY_JOB_POLL_MS: '50', SLIPWAY_JOB_BACKOFF_MS: '100', SLIPWAY_JOB_KILL_GRACE_MS: '500', SLIPWAY_WORKER_SLOTS: '3' };

/** A job script run with node: logs a param and a metric to its own run through the MLflow REST API, as any MLflow client would. */
const MLFLOW_SCRIPT = `
const base = process.env.MLFLOW_TRACKING_URI + '/api/2.0/mlflow';
const h = { authorization: 'Bearer ' + process.env.MLFLOW_TRACKING_TOKEN, 'content-type': 'application/json' };
const run_id = process.env.MLFLOW_RUN_ID;
const post = (p, b) => fetch(base + p, { method: 'POST', headers: h, body: JSON.stringify(b) }).then(async (r) => { if (!r.ok) throw new Error(p + ' ' + r.status + ' ' + await r.text()); });
(async () => {
  await post('/runs/log-parameter', { run_id, key: 'alpha', value: '0.5' });
  await post('/runs/log-metric', { run_id, key: 'rmse', value: 0.25, timestamp: Date.now(), step: 0 });
  console.log('logged to', run_id);
})().catch((e) => { console.error(e.message); process.exit(2); });
`;

/** The same from Python's standard library, as a training script without the mlflow package would. */
const PYTHON_SCRIPT = `
import json, os, time, urllib.request
base = os.environ['MLFLOW_TRACKING_URI'] + '/api/2.0/mlflow'
def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method='POST',
        headers={'authorization': 'Bearer ' + os.environ['MLFLOW_TRACKING_TOKEN'], 'content-type': 'application/json'})
    urllib.request.urlopen(req).read()
run_id = os.environ['MLFLOW_RUN_ID']
post('/runs/log-batch', {'run_id': run_id, 'params': [{'key': 'lang', 'value': 'python'}],
    'metrics': [{'key': 'accuracy', 'value': 0.9, 'timestamp': int(time.time() * 1000), 'step': 1}]})
print('python logged', run_id)
`;
const PYTHON = '/usr/bin/python3';

for (const driver of drivers) {
  describe(`jobs: queue, worker, command runner (${driver})`, () => {
    let t: TestApp;
    let worker: JobWorker;
    let base: string;
    const ok = async (method: 'GET' | 'POST', url: string, payload?: unknown, status = 200, token?: string) => {
      const r = await t.call({ method, url, payload: payload as object, token });
      assert.equal(r.statusCode, status, `${method} ${url}: ${r.body}`);
      return r.statusCode === 204 ? null : r.json();
    };
    const submit = (body: object, at = ws) => ok('POST', `${at}/jobs`, body, 201);
    const settled = (id: number, at = ws) =>
      until(`job ${id} final`, async () => {
        const j = await ok('GET', `${at}/jobs/${id}`);
        return ['succeeded', 'failed', 'cancelled'].includes(j.state) && j;
      }, 30_000);
    const logText = async (id: number, at = ws) => ((await ok('GET', `${at}/jobs/${id}/logs`)).lines as Array<{ line: string }>).map((l) => l.line).join('\n');

    before(async () => {
      t = await startTestApp(driver, FAST);
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const addr = t.app.server.address();
      assert.ok(addr && typeof addr === 'object');
      base = `http://127.0.0.1:${addr.port}`;
      worker = t.platform.jobWorker({ serverUrl: base, log: (m) => process.stderr.write(`${m}\n`) });
      worker.start();
      await ok('POST', '/api/v1/workspaces', { name: 'team', env: 'dev' }, 201);
    });
    after(async () => {
      await worker.stop();
      await t.close();
    });

    it('runs a command, streams its logs, records exit code, usage and price; retries a failure with backoff', async () => {
      const j = await submit({ name: 'flaky', command: ['sh', '-c', 'echo "hello $SLIPWAY_JOB_ATTEMPT"; echo oops >&2; exit 3'], retries: 1 });
      assert.equal(j.state, 'queued');
      assert.match(j.runId, /^[0-9a-f]{32}$/);
      const done = await settled(j.id);
      assert.equal(done.state, 'failed');
      assert.equal(done.exitCode, 3);
      assert.deepEqual(done.attempts.map((a: { outcome: string }) => a.outcome), ['failed', 'failed']);
      assert.ok(done.attempts[1].startedAt - done.attempts[0].finishedAt >= 100, 'backoff before the retry');
      assert.ok(done.usage.wallMs > 0 && done.usage.cost > 0, JSON.stringify(done.usage));
      const logs = await logText(j.id);
      for (const s of ['hello 1', 'hello 2', 'oops', 'retrying in 0.1s (retry 1 of 1)', 'attempt 2 failed: exit code 3']) assert.ok(logs.includes(s), `${s} in ${logs}`);
      const run = await ok('GET', `/api/2.0/mlflow/runs/get?run_id=${j.runId}`);
      assert.equal(run.run.info.status, 'FAILED');
      const arts = await ok('GET', `/api/2.0/mlflow/artifacts/list?run_id=${j.runId}&path=slipway-job/attempt-2`);
      assert.deepEqual(arts.files.map((f: { path: string }) => f.path).sort(), ['slipway-job/attempt-2/stderr.log', 'slipway-job/attempt-2/stdout.log']);
    });

    it('gives the job MLFLOW_TRACKING_URI/TOKEN/RUN_ID of its workspace: it logs to its own run as its submitter', async () => {
      const j = await submit({ command: [process.execPath, '-e', MLFLOW_SCRIPT], experiment: 'training' }, team);
      const done = await settled(j.id, team);
      assert.equal(done.state, 'succeeded', await logText(j.id, team));
      assert.equal(done.exitCode, 0);
      assert.ok(done.usage.cpuSeconds > 0, JSON.stringify(done.usage));
      assert.ok(done.usage.peakRssBytes > 1_000_000, JSON.stringify(done.usage));
      const run = (await ok('GET', `/w/team/api/2.0/mlflow/runs/get?run_id=${j.runId}`)).run;
      assert.equal(run.info.status, 'FINISHED');
      assert.deepEqual(run.data.params, [{ key: 'alpha', value: '0.5' }]);
      assert.equal(run.data.metrics.find((m: { key: string }) => m.key === 'rmse').value, 0.25);
      const exp = await ok('GET', `/w/team/api/2.0/mlflow/experiments/get-by-name?experiment_name=training`);
      assert.equal(run.info.experiment_id, exp.experiment.experiment_id);
      assert.match(await logText(j.id, team), new RegExp(`logged to ${j.runId}`));
    });

    it('runs a Python script that logs to its run with the standard library', { skip: !existsSync(PYTHON) && 'no /usr/bin/python3' }, async () => {
      const j = await submit({ command: [PYTHON, '-c', PYTHON_SCRIPT] });
      const done = await settled(j.id);
      assert.equal(done.state, 'succeeded', await logText(j.id));
      const run = (await ok('GET', `/api/2.0/mlflow/runs/get?run_id=${j.runId}`)).run;
      assert.deepEqual(run.data.params, [{ key: 'lang', value: 'python' }]);
      assert.equal(run.data.metrics.find((m: { key: string }) => m.key === 'accuracy').value, 0.9);
    });

    it('cancels a running job by terminating its whole process group', async () => {
      const dir = t.dataDir;
      const pids = join(dir, `pids-${driver}`);
      const j = await submit({ command: ['sh', '-c', `sleep 60 & echo $! > ${pids}; echo started; wait`] });
      await until('job started', async () => existsSync(pids) && readFileSync(pids, 'utf8').trim().length > 0 && (await logText(j.id)).includes('started'), 15_000);
      const child = Number(readFileSync(pids, 'utf8'));
      assert.ok(alive(child));
      const c = await ok('POST', `${ws}/jobs/${j.id}/cancel`, { reason: 'not needed' });
      assert.equal(c.cancelRequested, true);
      const done = await settled(j.id);
      assert.equal(done.state, 'cancelled');
      assert.match(done.error, /cancelled by admin: not needed/);
      await until('the backgrounded grandchild is gone too', async () => !alive(child), 5_000);
      assert.equal((await ok('GET', `/api/2.0/mlflow/runs/get?run_id=${j.runId}`)).run.info.status, 'KILLED');
      // A cancelled job may be retried, and a queued one is cancelled at once.
      assert.equal((await ok('POST', `${ws}/jobs/${j.id}/cancel`, {}, 409)).code, 'conflict');
    });

    it('kills a job at its timeout and fails it', async () => {
      const j = await submit({ command: ['sleep', '30'], timeout: '1s' });
      const done = await settled(j.id);
      assert.equal(done.state, 'failed');
      assert.match(done.error, /timed out after 1s/);
      assert.equal(done.attempts[0].outcome, 'timeout');
      assert.ok(done.usage.wallMs < 5000, `${done.usage.wallMs}`);
    });

    it('re-runs a job whose worker stopped heartbeating, once its lease expired, and the run records the retry', async () => {
      // A worker that claims and then dies: the claim is taken straight from the store, with no heartbeat after it.
      await worker.stop();
      const j = await submit({ command: ['sh', '-c', 'echo "run $SLIPWAY_JOB_ATTEMPT"'], priority: 100 });
      const claimed = await t.platform.jobs.store.claim({ worker: 'dead-worker', host: 'elsewhere', now: Date.now(), leaseMs: 300, workspaceLimit: 10 });
      assert.equal(claimed?.id, j.id);
      worker.start();
      const done = await settled(j.id);
      assert.equal(done.state, 'succeeded');
      assert.deepEqual(done.attempts.map((a: { outcome: string }) => a.outcome), ['lost', 'succeeded']);
      assert.match(await logText(j.id), /attempt 1 lost: worker dead-worker stopped heartbeating \(lease expired\); queued again[\s\S]*run 2/);
      const run = (await ok('GET', `/api/2.0/mlflow/runs/get?run_id=${j.runId}`)).run;
      assert.equal(run.data.tags.find((x: { key: string }) => x.key === 'slipway.job.attempt').value, '2');
      const hist = await ok('GET', `/api/2.0/mlflow/metrics/get-history?run_id=${j.runId}&metric_key=slipway.job.attempt`);
      assert.deepEqual(hist.metrics.map((m: { step: number }) => m.step), [2]);
    });

    it('retries a failed job on request; refuses bad input naming the field; readers may read but not submit', async () => {
      const j = await submit({ command: ['false'] });
      assert.equal((await settled(j.id)).state, 'failed');
      const again = await ok('POST', `${ws}/jobs/${j.id}/retry`);
      assert.equal(again.state, 'queued');
      const done = await settled(j.id);
      assert.equal(done.attempt, 2);
      const bad = await ok('POST', `${ws}/jobs`, { command: ['true'], timeout: 'soon' }, 400);
      assert.ok(bad.errors.some((e: { field: string }) => e.field === 'timeout'), JSON.stringify(bad));
      assert.ok((await ok('POST', `${ws}/jobs`, { command: ['true'], env: { MLFLOW_RUN_ID: 'x' } }, 400)).errors.some((e: { field: string }) => e.field === 'env.MLFLOW_RUN_ID'));
      assert.ok((await ok('POST', `${ws}/jobs`, { command: ['true'], resources: 'huge' }, 400)).errors.some((e: { field: string }) => e.field === 'resources'));
      assert.equal((await ok('POST', `${ws}/jobs`, { command: ['true'], inputs: { train: 'datasets:/nope/1' } }, 404)).code, 'not_found');
      const reader = await principalWithToken(t, `rita-${driver}`);
      await ok('POST', `${ws}/roles`, { principal: `rita-${driver}`, role: 'reader' }, 204);
      const denied = await ok('POST', `${ws}/jobs`, { command: ['true'] }, 403, reader);
      assert.match(denied.detail, /job\.run/);
      assert.ok((await ok('GET', `${ws}/jobs`, undefined, 200, reader)).jobs.length >= 1);
      const audit = await ok('GET', `/api/v1/audit?workspace=default&principal=rita-${driver}&action=job.run&limit=50`);
      assert.ok(audit.records.some((r: { action: string; outcome: string; principal: string }) => r.action === 'job.run' && r.outcome === 'denied' && r.principal === `rita-${driver}`), 'denial audited');
    });

    it('materialises a dataset input as a file and registers a dataset output', async () => {
      const up = await t.call({ method: 'POST', url: `${ws}/datasets/iris/versions?filename=iris.csv`, payload: 'a,b\n1,2\n3,4\n', headers: { 'content-type': 'text/csv' } });
      assert.equal(up.statusCode, 201, up.body);
      const j = await submit({ command: ['sh', '-c', 'cat "$SLIPWAY_INPUT_TRAIN"; (cat "$SLIPWAY_INPUT_TRAIN"; echo 5,6) > scored.csv'], inputs: { train: 'datasets:/iris/latest' }, outputs: { scored: { path: 'scored.csv', dataset: 'iris-scored' } } });
      const done = await settled(j.id);
      const logs = await logText(j.id);
      assert.equal(done.state, 'succeeded', logs);
      assert.match(logs, /a,b\n1,2\n3,4/);
      assert.match(logs, /output 'scored': uploaded datasets:\/iris-scored\/1/);
      const v = await ok('GET', `${ws}/datasets/iris-scored/versions/1`);
      assert.equal(v.rowCount, 3);
    });
    it('registers a model output from the file the job wrote, and gives a later job that version as an input directory', async () => {
      const src = join(t.dataDir, `lr-${driver}.onnx`);
      writeFileSync(src, logisticRegressionOnnx());
      const j = await submit({
        command: ['sh', '-c', `mkdir -p out/dir/sub && cp ${src} out/model.onnx && cp ${src} out/dir/model.onnx && echo note > out/dir/sub/README`],
        outputs: { model: { path: 'out/model.onnx', model: 'lr-job' }, dir: { path: 'out/dir', model: 'lr-dir' } },
      });
      const done = await settled(j.id);
      assert.equal(done.state, 'succeeded', await logText(j.id));
      const v = await ok('GET', `${ws}/models/lr-job/versions/1`);
      assert.equal(v.runId, j.runId);
      // A directory is registered whole (as an MLflow model directory would be).
      const files = await ok('GET', `${ws}/models/lr-dir/versions/1`);
      assert.deepEqual((files.files as Array<{ path: string }>).map((f) => f.path).sort(), ['model.onnx', 'sub/README']);
      const reader = await submit({ command: ['sh', '-c', 'ls "$SLIPWAY_INPUT_M"'], inputs: { m: 'models:/lr-job/1' } });
      assert.equal((await settled(reader.id)).state, 'succeeded');
      assert.match(await logText(reader.id), /^model\.onnx$/m);
    });

    it('claims by priority within the per-workspace limit', async () => {
      await worker.stop();
      const low = await submit({ command: ['true'], priority: -1 }, team);
      const high = await submit({ command: ['true'], priority: 5 }, team);
      const mid = await submit({ command: ['true'] }, team);
      const claim = () => t.platform.jobs.store.claim({ worker: 'probe', host: 'elsewhere', now: Date.now(), leaseMs: 200, workspaceLimit: 2 });
      assert.equal((await claim())?.id, high.id);
      assert.equal((await claim())?.id, mid.id);
      assert.equal(await claim(), null, 'two of the workspace running: the limit holds the third');
      worker.start();
      // The probe never heartbeats: the worker takes those two over after the lease and runs all three.
      for (const j of [low, high, mid]) assert.equal((await settled(j.id, team)).state, 'succeeded');
    });

    it('on stop, lets running jobs drain, then releases them to the queue without counting a failure', async () => {
      const j = await submit({ command: ['sleep', '30'] });
      await until('running', async () => (await ok('GET', `${ws}/jobs/${j.id}`)).state === 'running' && worker.active > 0, 15_000);
      await worker.stop();
      const after = await ok('GET', `${ws}/jobs/${j.id}`);
      assert.equal(after.state, 'queued');
      assert.equal(after.failures, 0);
      assert.equal(after.attempts[0].outcome, 'released');
      worker.start();
      await until('running again', async () => (await ok('GET', `${ws}/jobs/${j.id}`)).attempt === 2, 15_000);
      await ok('POST', `${ws}/jobs/${j.id}/cancel`, {});
      assert.equal((await settled(j.id)).state, 'cancelled');
    });
  });
}

describe('jobs: an attempt that cannot be prepared', () => {
  it('fails at once, naming why, instead of waiting out its lease', async () => {
    const t = await startTestApp('pglite', { ...FAST, SLIPWAY_JOB_LEASE_MS: '60000' });
    // The worker's work root is a file: no attempt directory can be made under it.
    writeFileSync(join(t.dataDir, 'jobs'), 'not a directory');
    const worker = t.platform.jobWorker({ log: () => undefined });
    worker.start();
    try {
      const r = await t.call({ method: 'POST', url: `${ws}/jobs`, payload: { command: ['true'] } });
      assert.equal(r.statusCode, 201, r.body);
      const done = await until('job failed', async () => {
        const j = (await t.call({ method: 'GET', url: `${ws}/jobs/${r.json().id}` })).json();
        return j.state === 'failed' && j;
      }, 20_000);
      assert.match(done.error, /could not prepare the attempt: .*(ENOTDIR|EEXIST)/);
    } finally {
      await worker.stop();
      await t.close();
    }
  });
});
