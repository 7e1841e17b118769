import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { mlmodelYaml, sklearnLogisticRegressionOnnx } from '../helpers/onnx.js';
import { until } from '../helpers/process.js';
import { drivers } from '../helpers/stores.js';
import { mlflow, proxyPath } from '../registry/helpers.js';

/**
 * Acceptance: a scikit-learn-style logistic-regression ONNX model registered
 * through the MLflow API (as mlflow.onnx.log_model + register_model do it) is
 * served; outputs through /score (dataframe_split) and through
 * /v2/models/{endpoint}/infer equal onnxruntime's direct outputs.
 */
const x = [
  [1, 2, 3, 4],
  [-3, 0.25, 1.5, -0.5],
  [-5, 0, 0, 0],
  [0.1, 0.2, -0.3, 0.05],
];

for (const driver of drivers) {
  describe(`a model registered through the MLflow API, served [${driver}]`, () => {
    let t: TestApp;
    let base: string;
    let key: string;
    const model = sklearnLogisticRegressionOnnx();
    const infer = (path: string, body: unknown) =>
      fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

    before(async () => {
      t = await startTestApp(driver);
      const m = mlflow(t);
      // mlflow.onnx.log_model: a run, then MLmodel + model.onnx through the artifact proxy.
      const exp = await m.experiment('breast-cancer');
      const run = await m.run(exp);
      await m.upload(`${proxyPath(run.artifactUri)}/model/MLmodel`, mlmodelYaml(run.runId), 'text/plain');
      await m.upload(`${proxyPath(run.artifactUri)}/model/model.onnx`, model);
      // mlflow.register_model: create the name, create a version from runs:/, poll until READY.
      await m.ok('POST', 'registered-models/create', { name: 'sk-lr' });
      const created = await m.ok('POST', 'model-versions/create', { name: 'sk-lr', source: `runs:/${run.runId}/model`, run_id: run.runId });
      assert.equal(created.model_version.version, '1');
      await until('version READY', async () => (await m.ok('GET', 'model-versions/get', { name: 'sk-lr', version: '1' })).model_version.status === 'READY');

      const ep = '/api/v1/workspaces/default/endpoints';
      for (const [url, payload] of [
        [ep, { name: 'sk' }],
        [`${ep}/sk/deployments`, { name: 'blue', model: 'models:/sk-lr/1' }],
      ] as const) {
        const r = await t.call({ method: 'POST', url, payload });
        assert.equal(r.statusCode, 201, r.body);
      }
      assert.equal((await t.call({ method: 'PUT', url: `${ep}/sk/traffic`, payload: { traffic: { blue: 100 } } })).statusCode, 200);
      key = (await t.call({ method: 'GET', url: `${ep}/sk/keys` })).json().primary;
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
      await until('sk ready', async () => (await fetch(`${base}/v2/models/sk/ready`, { headers: { authorization: `Bearer ${key}` } })).ok);
    });
    after(() => t?.close());

    /** onnxruntime-node on the registered bytes, in this process: the reference. */
    async function direct(): Promise<{ label: number[]; probabilities: number[][] }> {
      const session = await InferenceSession.create(model);
      try {
        const out = await session.run({ float_input: new Tensor('float32', Float32Array.from(x.flat()), [x.length, 4]) });
        const p = Array.from(out.probabilities.data as Float32Array);
        return { label: Array.from(out.label.data as BigInt64Array, Number), probabilities: x.map((_, i) => p.slice(i * 2, i * 2 + 2)) };
      } finally {
        await session.release();
      }
    }

    it('serves through /score (dataframe_split) exactly what onnxruntime computes', async () => {
      const want = await direct();
      assert.deepEqual(new Set(want.label), new Set([0, 1]), 'the inputs cover both classes');
      const r = await infer('/endpoints/sk/score', { dataframe_split: { columns: ['mean radius', 'mean texture', 'mean perimeter', 'mean area'], data: x } });
      assert.equal(r.status, 200, await r.clone().text());
      assert.equal(r.headers.get('x-slipway-deployment'), 'blue');
      assert.deepEqual(await r.json(), { predictions: want });
    });

    it('serves through /v2/models/{endpoint}/infer exactly what onnxruntime computes', async () => {
      const want = await direct();
      const r = await infer('/v2/models/sk/infer', { id: 'acc-1', inputs: [{ name: 'float_input', datatype: 'FP32', shape: [x.length, 4], data: x.flat() }] });
      assert.equal(r.status, 200, await r.clone().text());
      const body = (await r.json()) as { model_name: string; id: string; outputs: Array<{ name: string }> };
      assert.equal(body.model_name, 'sk');
      assert.equal(body.id, 'acc-1');
      const out = Object.fromEntries(body.outputs.map((o: { name: string }) => [o.name, o]));
      assert.deepEqual(out.label, { name: 'label', datatype: 'INT64', shape: [x.length], data: want.label });
      assert.deepEqual(out.probabilities, { name: 'probabilities', datatype: 'FP32', shape: [x.length, 2], data: want.probabilities.flat() });
    });
  });
}
