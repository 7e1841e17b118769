import { sql } from 'kysely';
/**
 * Monitors end to end: a reference dataset, traffic through a real gateway
 * (capture sample 1.0, real onnxruntime), ground truth through the feedback
 * route, and reports checked against SciPy's and scikit-learn's values
 * (test/fixtures/drift.json, from scripts/drift-fixtures.py).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { principalWithToken, startTestApp, type TestApp } from '../helpers/app.js';
import { linearOnnx } from '../helpers/onnx.js';
import { until } from '../helpers/process.js';
import { drivers } from '../helpers/stores.js';
import { close, fixtures } from './fixtures.js';

const ws = '/api/v1/workspaces/default';
const A = fixtures.acceptance as {
  features: string[];
  shifted: string[];
  reference: Record<string, number[]>;
  current: Record<string, number[]>;
  shiftedCurrent: Record<string, number[]>;
  ks: Record<string, { statistic: number; pValue: number }>;
  ksShifted: Record<string, { statistic: number; pValue: number }>;
  labels: number[];
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number;
};
const ROWS = A.labels.length;

interface FeatureReport {
  name: string;
  type: string;
  method: string;
  statistic: number;
  pValue?: number;
  threshold: number;
  drifted: boolean;
  histogram: { edges?: number[]; reference: number[]; current: number[] };
}

function referenceCsv(): string {
  const lines = [A.features.join(',')];
  for (let r = 0; r < A.reference[A.features[0]].length; r++) lines.push(A.features.map((f) => String(A.reference[f][r])).join(','));
  return lines.join('\n') + '\n';
}

for (const driver of drivers) {
  describe(`monitors (${driver})`, () => {
    let t: TestApp;
    let base: string;
    const keys: Record<string, string> = {};
    const ok = async (method: 'POST' | 'PUT' | 'GET', url: string, payload?: object | string, headers?: Record<string, string>) => {
      const r = await t.call({ method, url, payload, headers });
      assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
      return r.json();
    };
    const send = (endpoint: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${base}/endpoints/${endpoint}/${path}`, { method: 'POST', headers: { authorization: `Bearer ${keys[endpoint]}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

    /** One request per row, each with its own request id, then waits until every capture is stored. */
    async function drive(endpoint: string, data: Record<string, number[]>): Promise<void> {
      // Eight clients at a time; each row keeps its own request id, so order does not matter.
      let next = 0;
      const client = async () => {
        for (let r = next++; r < ROWS; r = next++) {
          const res = await send(endpoint, 'score', { dataframe_split: { columns: A.features, data: [A.features.map((f) => data[f][r])] } }, { 'x-request-id': `${endpoint}-${r}` });
          if (res.status !== 200) assert.fail(`${endpoint} row ${r}: ${res.status} ${await res.text()}`);
          await res.arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: 8 }, client));
      await until(`${endpoint} captures`, async () => (await t.platform.telemetry.captureWindow(endpoint, 0, Date.now() + 60_000)).length === ROWS || undefined);
    }

    before(async () => {
      t = await startTestApp(driver);
      const m = await t.call({ method: 'POST', url: `${ws}/models/scorer/versions?filename=model.onnx`, payload: linearOnnx({ weights: [0.25, 0, 0, 0, 0], bias: 0.5 }), headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(m.statusCode, 201, m.body);
      await ok('POST', `${ws}/datasets/train/versions?filename=train.csv`, referenceCsv(), { 'content-type': 'text/csv' });
      for (const name of ['plain', 'shifted']) {
        await ok('POST', `${ws}/endpoints`, { name, capture: { sample: 1 } });
        await ok('POST', `${ws}/endpoints/${name}/deployments`, { name: 'blue', model: 'models:/scorer/1' });
        await ok('PUT', `${ws}/endpoints/${name}/traffic`, { traffic: { blue: 100 } });
        keys[name] = (await ok('GET', `${ws}/endpoints/${name}/keys`)).primary;
      }
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
      for (const name of ['plain', 'shifted']) {
        await until(`${name} ready`, async () => (await fetch(`${base}/v2/models/${name}/ready`, { headers: { authorization: `Bearer ${keys[name]}` } })).status === 200 || undefined);
      }
      await drive('plain', A.current);
      await drive('shifted', A.shiftedCurrent);
    });
    after(() => t.close());

    const monitor = (name: string, endpoint: string, extra: object = {}) =>
      ok('POST', `${ws}/monitors`, { name, endpoint, reference: 'datasets:/train/1', signals: ['data_drift', 'data_quality'], window: '1h', schedule: '0 * * * *', ...extra });
    const run_ = async (name: string) => {
      const r = await t.call({ method: 'POST', url: `${ws}/monitors/${name}/runs`, payload: {} });
      assert.equal(r.statusCode, 201, r.body);
      return r.json();
    };

    function checkKs(features: FeatureReport[], expected: Record<string, { statistic: number; pValue: number }>) {
      assert.deepEqual(features.map((f) => f.name), A.features);
      for (const f of features) {
        assert.equal(f.type, 'numerical');
        assert.equal(f.method, 'ks', 'a 600-row reference gets the KS test by default');
        assert.equal(f.threshold, 0.05);
        assert.ok(close(f.statistic, expected[f.name].statistic), `${f.name} statistic ${f.statistic} != SciPy ${expected[f.name].statistic}`);
        assert.ok(close(f.pValue!, expected[f.name].pValue), `${f.name} p-value ${f.pValue} != SciPy ${expected[f.name].pValue}`);
        assert.equal(f.histogram.reference.length, f.histogram.edges!.length + 1);
        assert.equal(f.histogram.current.reduce((a, b) => a + b, 0), ROWS);
      }
    }

    it('flags exactly the three shifted features, with SciPy\u2019s statistics', async () => {
      await monitor('shift-watch', 'shifted');
      const report = await run_('shift-watch');
      const d = report.signals.data_drift;
      checkKs(d.features, A.ksShifted);
      assert.deepEqual(d.features.filter((f: FeatureReport) => f.drifted).map((f: FeatureReport) => f.name), A.shifted);
      assert.equal(d.share, 3 / 5);
      assert.equal(d.drifted, true);
      assert.equal(report.alerting, true);
      assert.deepEqual(report.current, { rows: ROWS, requests: ROWS });
      assert.equal(report.reference.source, 'datasets:/train/1');
      // Shifted values leave the reference's range: data quality says so too.
      const q = report.signals.data_quality;
      const f3 = q.features.find((f: { name: string }) => f.name === 'f3');
      assert.ok(f3.outOfRangeRate > 0.05 && f3.violations.includes('outOfRangeRate'), JSON.stringify(f3));
      assert.equal(q.features.find((f: { name: string }) => f.name === 'f0').violations.length, 0);
    });

    it('flags nothing on the same traffic unshifted', async () => {
      await monitor('plain-watch', 'plain');
      const report = await run_('plain-watch');
      const d = report.signals.data_drift;
      checkKs(d.features, A.ks);
      assert.deepEqual(d.features.filter((f: FeatureReport) => f.drifted), []);
      assert.equal(d.drifted, false);
      assert.equal(report.signals.data_quality.violated, false);
      assert.equal(report.alerting, false);
    });

    it('ground truth for half the requests gives scikit-learn\u2019s accuracy and ROC AUC; CBPE estimates the rest', async () => {
      const feedback = A.labels.flatMap((label, r) => (r % 2 === 0 ? [{ requestId: `plain-${r}`, label }] : []));
      const res = await send('plain', 'feedback', { feedback });
      const body = await res.text();
      assert.equal(res.status, 200, body);
      assert.deepEqual(JSON.parse(body), { accepted: ROWS / 2 });
      await monitor('plain-perf', 'plain', { signals: ['model_performance', 'prediction_drift'], performance: { task: 'classification', output: 'output', minimum: { accuracy: 0.9 } } });
      const p = (await run_('plain-perf')).signals.model_performance;
      assert.equal(p.labelled, ROWS / 2);
      assert.ok(close(p.metrics.accuracy, A.accuracy), `accuracy ${p.metrics.accuracy} != sklearn ${A.accuracy}`);
      assert.ok(close(p.metrics.rocAuc, A.rocAuc), `roc auc ${p.metrics.rocAuc} != sklearn ${A.rocAuc}`);
      for (const k of ['precision', 'recall', 'f1'] as const) assert.ok(close(p.metrics[k], A[k]), `${k} ${p.metrics[k]} != sklearn ${A[k]}`);
      assert.equal(p.estimated.estimate, true);
      assert.ok(p.estimated.accuracy > 0.5 && p.estimated.accuracy < 1);
      assert.deepEqual(p.breaches, ['accuracy < 0.9']);
    });

    it('feedback needs the endpoint key and a label or value, and is not counted as inference', async () => {
      const wrong = await fetch(`${base}/endpoints/plain/feedback`, { method: 'POST', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, body: JSON.stringify({ requestId: 'plain-1', label: 1 }) });
      assert.equal(wrong.status, 401);
      const empty = await send('plain', 'feedback', { requestId: 'plain-1' });
      assert.equal(empty.status, 400);
      assert.match(((await empty.json()) as { detail: string }).detail, /label/);
      const extra = await send('plain', 'feedback', { requestId: 'plain-1', label: 1, colour: 'red' });
      assert.equal(extra.status, 400);
      // The same request twice in one batch: the last label wins, no 500.
      const twice = await send('plain', 'feedback', { feedback: [{ requestId: 'plain-dup', label: 1 }, { requestId: 'plain-dup', label: 0 }] });
      assert.equal(twice.status < 300, true, await twice.clone().text());
      const { rows } = await sql<{ id: string }>`select id from endpoints where name = 'plain'`.execute(t.platform.store.db);
      assert.equal((await t.platform.monitoring.store.feedback(Number(rows[0].id), ['plain-dup'])).get('plain-dup'), 0);
      // Not inference: no rollup row for them. One scored request after them is the marker that their batch was written.
      const marker = await send('plain', 'score', { dataframe_split: { columns: A.features, data: [A.features.map((f) => A.current[f][0])] } });
      assert.equal(marker.status, 200);
      const minutes = await until('marker in the rollups', async () => {
        const m = (await ok('GET', `${ws}/endpoints/plain/metrics?from=0`)).minutes as Array<{ deployment: string; requests: number }>;
        return m.filter((x) => x.deployment === 'blue').reduce((sum, x) => sum + x.requests, 0) === ROWS + 1 ? m : undefined;
      });
      assert.deepEqual([...new Set(minutes.map((m) => m.deployment))], ['blue']);
    });

    it('reads the served version\u2019s training data through lineage, and its age for freshness', async () => {
      const mlflow = '/api/2.0/mlflow';
      const run = (await ok('POST', `${mlflow}/runs/create`, { experiment_id: '0', start_time: Date.now() - 3 * 86_400_000 })).run.info.run_id;
      const dataset = await ok('GET', `${ws}/datasets/train/versions/1`);
      await ok('POST', `${mlflow}/runs/log-inputs`, { run_id: run, datasets: [{ dataset: { name: 'train', digest: dataset.sha256, source_type: 'slipway', source: dataset.uri } }] });
      await ok('POST', `${mlflow}/runs/update`, { run_id: run, status: 'FINISHED', end_time: Date.now() - 2 * 86_400_000 });
      const m = await t.call({ method: 'POST', url: `${ws}/models/scorer/versions?filename=model.onnx&runId=${run}`, payload: linearOnnx({ weights: [0.25, 0, 0, 0, 0], bias: 0.5 }), headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(m.statusCode, 201, m.body);
      await ok('POST', `${ws}/endpoints`, { name: 'trained', capture: { sample: 1 } });
      await ok('POST', `${ws}/endpoints/trained/deployments`, { name: 'blue', model: 'models:/scorer/2' });
      await ok('PUT', `${ws}/endpoints/trained/traffic`, { traffic: { blue: 100 } });
      await monitor('trained-1d', 'trained', { reference: 'training', signals: ['data_drift', 'freshness'], freshness: { maxAge: '1d' } });
      const stale = await run_('trained-1d');
      assert.equal(stale.reference.source, 'datasets:/train/1');
      assert.equal(stale.reference.rows, A.reference.f0.length);
      const f = stale.signals.freshness;
      assert.deepEqual([f.model, f.run, f.stale], ['models:/scorer/2', run, true]);
      assert.ok(Math.abs(f.ageSeconds - 2 * 86_400) < 60, String(f.ageSeconds));
      await monitor('trained-7d', 'trained', { reference: 'training', signals: ['freshness'], freshness: { maxAge: '7d' } });
      assert.equal((await run_('trained-7d')).signals.freshness.stale, false);
      // Version 1 has no training run: 'training' cannot resolve, and says why.
      await monitor('untrained', 'plain', { reference: 'training' });
      const r = await t.call({ method: 'POST', url: `${ws}/monitors/untrained/runs`, payload: {} });
      assert.equal(r.statusCode, 400, r.body);
      assert.match(r.body, /reference.*no training run/);
    });

    it('needs monitor.write to change, workspace.read to see, metrics.read to run', async () => {
      const reader = await principalWithToken(t, 'rita');
      const watcher = await principalWithToken(t, 'mona', 'service');
      for (const [principal, role] of [['rita', 'reader'], ['mona', 'reader'], ['mona', 'metrics-reader']]) {
        const r = await t.call({ method: 'POST', url: `${ws}/roles`, payload: { principal, role } });
        assert.ok(r.statusCode < 300, r.body);
      }
      const spec = { name: 'by-rita', endpoint: 'plain', reference: 'datasets:/train/1', signals: ['data_drift'] };
      assert.equal((await t.call({ method: 'POST', url: `${ws}/monitors`, payload: spec, token: reader })).statusCode, 403);
      assert.equal((await t.call({ method: 'GET', url: `${ws}/monitors/plain-watch`, token: reader })).statusCode, 200);
      assert.equal((await t.call({ method: 'POST', url: `${ws}/monitors/plain-watch/runs`, payload: {}, token: reader })).statusCode, 403);
      assert.equal((await t.call({ method: 'POST', url: `${ws}/monitors/plain-watch/runs`, payload: {}, token: watcher })).statusCode, 201);
      assert.equal((await t.call({ method: 'DELETE', url: `${ws}/monitors/plain-watch`, token: watcher })).statusCode, 403);
    });

    it('lists, shows with the last report, keeps reports, refuses bad specs by field', async () => {
      const list = await ok('GET', `${ws}/monitors`);
      assert.deepEqual(list.monitors.map((m: { name: string }) => m.name), ['plain-perf', 'plain-watch', 'shift-watch', 'trained-1d', 'trained-7d', 'untrained']);
      const shown = await ok('GET', `${ws}/monitors/shift-watch`);
      assert.equal(shown.schedule, '0 * * * *');
      assert.equal(shown.lastRun.alerting, true);
      const runs = await ok('GET', `${ws}/monitors/shift-watch/runs`);
      assert.equal(runs.runs.length, 1);
      const one = await ok('GET', `${ws}/monitors/shift-watch/runs/${runs.runs[0].id}`);
      assert.equal(one.signals.data_drift.features.length, 5);
      for (const [payload, field] of [
        [{ name: 'x', endpoint: 'plain', reference: 'datasets:/train', signals: ['data_drift'] }, 'reference'],
        [{ name: 'x', endpoint: 'plain', reference: 'datasets:/train/1', signals: ['data_drift'], window: 'soon' }, 'window'],
        [{ name: 'x', endpoint: 'plain', reference: 'datasets:/train/1', signals: ['data_drift'], window: '99999999999999999d' }, 'window'],
        [{ name: 'x', endpoint: 'nowhere', reference: 'datasets:/train/1', signals: ['data_drift'] }, 'endpoint'],
        [{ name: 'x', endpoint: 'plain', reference: 'datasets:/train/1', signals: ['freshness'] }, 'freshness'],
      ] as const) {
        const r = await t.call({ method: 'POST', url: `${ws}/monitors`, payload: payload });
        assert.ok(r.statusCode === 400 || r.statusCode === 404, `${field}: ${r.statusCode} ${r.body}`);
        assert.match(r.body, new RegExp(field));
      }
      const dup = await t.call({ method: 'POST', url: `${ws}/monitors`, payload: { name: 'plain-watch', endpoint: 'plain', reference: 'datasets:/train/1', signals: ['data_drift'] } });
      assert.equal(dup.statusCode, 409);
    });
  });
}
