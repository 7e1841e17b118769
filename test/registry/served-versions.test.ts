import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { drivers } from '../helpers/stores.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { mlflow } from './helpers.js';

const ws = '/api/v1/workspaces/default';

for (const driver of drivers) {
  describe(`registry ↔ serving: versions in service [${driver}]`, () => {
    let t: TestApp;
    const ok = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) => {
      const r = await t.call({ method, url, payload: payload as object });
      assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
      return r.statusCode === 204 ? null : r.json();
    };
    const upload = (name: string) =>
      t.call({ method: 'POST', url: `${ws}/models/${name}/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });

    before(async () => {
      t = await startTestApp(driver);
      for (const name of ['clf', 'clf', 'other']) assert.equal((await upload(name)).statusCode, 201);
      await ok('POST', `${ws}/endpoints`, { name: 'cancer' });
      await ok('POST', `${ws}/endpoints/cancer/deployments`, { name: 'blue', model: 'models:/clf/1' });
      await ok('POST', `${ws}/endpoints`, { name: 'triage' });
      await ok('POST', `${ws}/endpoints/triage/deployments`, { name: 'canary', model: 'models:/clf/1' });
    });
    after(() => t.close());

    it('lineage lists the deployments serving the version, and only that version', async () => {
      const served = await ok('GET', `${ws}/models/clf/versions/1/lineage`);
      assert.deepEqual(served.deployments, [
        { endpoint: 'cancer', deployment: 'blue', version: 1 },
        { endpoint: 'triage', deployment: 'canary', version: 1 },
      ]);
      assert.deepEqual((await ok('GET', `${ws}/models/clf/versions/2/lineage`)).deployments, []);
    });

    it('refuses deleting a served version or model with 409 naming them (native API)', async () => {
      const v = await t.call({ method: 'DELETE', url: `${ws}/models/clf/versions/1` });
      assert.equal(v.statusCode, 409, v.body);
      assert.match(v.json().detail, /model 'clf' version 1 is served by endpoint 'cancer' deployment 'blue' \(version 1\), endpoint 'triage' deployment 'canary'/);
      assert.equal(v.json().mlflowCode, undefined);
      const m = await t.call({ method: 'DELETE', url: `${ws}/models/clf` });
      assert.equal(m.statusCode, 409, m.body);
      assert.match(m.json().detail, /registered model 'clf' is served by endpoint 'cancer' deployment 'blue'/);
      // Nothing was deleted, files included.
      assert.equal((await t.call({ method: 'GET', url: `${ws}/models/clf/versions/1/files/model.onnx` })).statusCode, 200);
      // An unserved version of the same model goes.
      assert.equal((await t.call({ method: 'DELETE', url: `${ws}/models/clf/versions/2` })).statusCode, 204);
    });

    it('refuses the same through the MLflow API with RESOURCE_CONFLICT', async () => {
      const m = mlflow(t);
      const v = await m.call('DELETE', 'model-versions/delete', { name: 'clf', version: '1' });
      assert.equal(v.json().error_code, 'RESOURCE_CONFLICT', v.body);
      assert.equal(v.statusCode, 409);
      assert.match(v.json().message, /endpoint 'cancer' deployment 'blue'/);
      const r = await m.call('DELETE', 'registered-models/delete', { name: 'clf' });
      assert.equal(r.json().error_code, 'RESOURCE_CONFLICT', r.body);
      assert.match(r.json().message, /endpoint 'triage' deployment 'canary'/);
      // A model nobody serves is deleted as before.
      await m.ok('DELETE', 'registered-models/delete', { name: 'other' });
    });

    it('allows the delete once no deployment serves the version', async () => {
      await ok('DELETE', `${ws}/endpoints/cancer/deployments/blue`);
      await ok('DELETE', `${ws}/endpoints/triage`);
      assert.deepEqual((await ok('GET', `${ws}/models/clf/versions/1/lineage`)).deployments, []);
      assert.equal((await t.call({ method: 'DELETE', url: `${ws}/models/clf/versions/1` })).statusCode, 204);
      assert.equal((await t.call({ method: 'DELETE', url: `${ws}/models/clf` })).statusCode, 204);
    });
  });
}
