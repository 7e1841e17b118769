import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { until } from '../../helpers/process.js';
import { train, type TrainResult } from '../../../src/jobs/trainer/index.js';
import { FEATURES, syntheticTable } from './synthetic.js';

/**
 * A trained model's ONNX bytes register in the model registry as they are
 * and serve through the gateway: /score with a dataframe_split whose
 * columns are the feature names answers the fitted model's predictions.
 */

const ws = '/api/v1/workspaces/default';
const ep = `${ws}/endpoints`;

describe('built-in trainer: a trained model registers and serves (pglite)', () => {
  let t: TestApp;
  let base: string;
  const keys: Record<string, string> = {};
  const classifierTable = syntheticTable('multiclass', 200);
  const regressorTable = syntheticTable('regression', 200);
  const models: Record<string, TrainResult> = {
    forest: train({ task: 'classification', algorithm: 'random_forest', features: FEATURES, label: 'y', params: { nEstimators: 9 } }, classifierTable),
    boosted: train({ task: 'regression', algorithm: 'gradient_boosting', features: FEATURES, label: 'y', params: { nEstimators: 15 } }, regressorTable),
  };
  const ok = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
    const r = await t.call({ method, url, payload: payload as object });
    assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json();
  };
  const score = async (name: string, x: number[][]) => {
    const r = await fetch(`${base}/endpoints/${name}/score`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys[name]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ dataframe_split: { columns: FEATURES, data: x } }),
    });
    assert.equal(r.status, 200, await r.clone().text());
    return (await r.json()) as { predictions: unknown };
  };

  before(async () => {
    t = await startTestApp('pglite');
    for (const [name, m] of Object.entries(models)) {
      const r = await t.call({ method: 'POST', url: `${ws}/models/${name}/versions?filename=model.onnx`, payload: m.onnx, headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(r.statusCode, 201, r.body);
      await ok('POST', ep, { name });
      await ok('POST', `${ep}/${name}/deployments`, { name: 'main', model: `models:/${name}/1` });
      await ok('PUT', `${ep}/${name}/traffic`, { traffic: { main: 100 } });
      keys[name] = (await ok('GET', `${ep}/${name}/keys`)).primary;
    }
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = t.app.server.address();
    assert.ok(addr && typeof addr === 'object');
    base = `http://127.0.0.1:${addr.port}`;
    for (const name of Object.keys(models)) {
      await until(`${name} ready`, async () => ((await fetch(`${base}/v2/models/${name}/ready`, { headers: { authorization: `Bearer ${keys[name]}` } })).status === 200 ? true : undefined));
    }
  });
  after(() => t.close());

  it('scores a classifier: labels and probabilities as the forest predicts them', async () => {
    const m = models.forest;
    const x = classifierTable.x.slice(0, 20);
    const { predictions } = (await score('forest', x)) as { predictions: { label: number[]; probabilities: number[][] } };
    const expected = m.predict(x);
    assert.deepEqual(predictions.label, expected.labels!.map((l) => m.classes![l]));
    predictions.probabilities.forEach((row, i) => row.forEach((p, c) => assert.ok(Math.abs(p - expected.probabilities![i][c]) <= 1e-5, `row ${i} class ${c}: ${p}`)));
  });

  it('scores a regressor: one value per row as the boosted trees predict it', async () => {
    const x = regressorTable.x.slice(0, 20);
    const { predictions } = (await score('boosted', x)) as { predictions: number[][] };
    const expected = models.boosted.predict(x).values!;
    assert.equal(predictions.length, 20);
    predictions.forEach(([v], i) => assert.ok(Math.abs(v - expected[i]) <= 1e-5 * Math.max(1, Math.abs(expected[i])), `row ${i}: ${v} vs ${expected[i]}`));
  });
});
