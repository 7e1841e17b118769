import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';

describe('deleting a workspace', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp('pglite');
  });
  after(() => t.close());

  it('removes its files, so a workspace recreated with the name cannot read them', async () => {
    const mk = () => t.call({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 'gone', env: 'dev' } });
    assert.equal((await mk()).statusCode, 201);
    const ds = await t.call({ method: 'POST', url: '/api/v1/workspaces/gone/datasets/d/versions?filename=d.csv', payload: 'a,b\n1,2\n', headers: { 'content-type': 'text/csv' } });
    assert.equal(ds.statusCode, 201, ds.body);
    const model = await t.call({ method: 'POST', url: '/api/v1/workspaces/gone/models/m/versions', payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(model.statusCode, 201, model.body);
    const { artifacts } = t.platform;
    assert.ok((await artifacts.list('registry/gone', { recursive: true })).length > 0);
    assert.ok((await artifacts.list('datasets/gone', { recursive: true })).length > 0);

    assert.equal((await t.call({ method: 'DELETE', url: '/api/v1/workspaces/gone' })).statusCode, 204);
    assert.deepEqual(await artifacts.list('registry/gone', { recursive: true }), []);
    assert.deepEqual(await artifacts.list('datasets/gone', { recursive: true }), []);

    assert.equal((await mk()).statusCode, 201);
    const old = await t.call({ method: 'GET', url: '/w/gone/api/2.0/mlflow-artifacts/artifacts?path=registry' });
    assert.ok(!old.body.includes('model.onnx'), old.body);
  });
});
