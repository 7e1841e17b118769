import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { drivers } from '../helpers/stores.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { mlflow, proxyPath } from './helpers.js';

/** The MLflow 3.x logged-model flow of shared/reference/mlflow-wire-3.x-logged-models-examples.md. */
for (const driver of drivers) {
  describe(`MLflow 3 logged models [${driver}]`, () => {
    let t: TestApp;
    let m: ReturnType<typeof mlflow>;
    let exp: string;
    let runId: string;
    let modelId: string;
    const weights = randomBytes(1024);

    before(async () => {
      t = await startTestApp(driver);
      m = mlflow(t);
      exp = await m.experiment('lm');
      runId = (await m.run(exp)).runId;
    });
    after(() => t.close());

    it('creates a pending logged model with an artifact location under its experiment', async () => {
      const r = await m.ok('POST', 'logged-models', { experiment_id: exp, name: 'mymodel', model_type: 'probe', source_run_id: runId, params: [{ key: 'alpha', value: '0.5' }], tags: [{ key: 't', value: '1' }] });
      const info = r.model.info;
      modelId = info.model_id;
      assert.match(modelId, /^m-[0-9a-f]{32}$/);
      assert.equal(info.experiment_id, exp);
      assert.equal(info.status, 'LOGGED_MODEL_PENDING');
      assert.equal(info.artifact_uri, `mlflow-artifacts:/${exp}/models/${modelId}/artifacts`);
      assert.equal(info.source_run_id, runId);
      assert.equal(info.model_type, 'probe');
      assert.deepEqual(info.tags, [{ key: 't', value: '1' }]);
      assert.deepEqual(r.model.data, { params: [{ key: 'alpha', value: '0.5' }] });
      assert.equal(typeof info.creation_timestamp_ms, 'number');
      const bad = await m.call('POST', 'logged-models', { experiment_id: '424242' });
      assert.equal(bad.statusCode, 404);
      assert.equal(bad.json().error_code, 'RESOURCE_DOES_NOT_EXIST');
      assert.equal((await m.call('POST', 'logged-models', {})).json().error_code, 'INVALID_PARAMETER_VALUE');
    });

    it('takes artifacts, outputs, tags and finalisation', async () => {
      const art = proxyPath(`mlflow-artifacts:/${exp}/models/${modelId}/artifacts`);
      await m.upload(`${art}/MLmodel`, 'artifact_path: model\nflavors: {}\n', 'text/plain');
      await m.upload(`${art}/weights.bin`, weights);
      assert.deepEqual(await m.ok('POST', 'runs/outputs', { run_id: runId, models: [{ model_id: modelId, step: 0 }] }), {});
      assert.equal((await m.call('POST', 'runs/outputs', { run_id: runId, models: [{ model_id: 'm-nope', step: 0 }] })).statusCode, 404);
      assert.deepEqual(await m.ok('PATCH', `logged-models/${modelId}/tags`, { tags: [{ key: 'stage', value: 'dev' }] }), {});
      const fin = await m.ok('PATCH', `logged-models/${modelId}`, { model_id: modelId, status: 'LOGGED_MODEL_READY' });
      assert.equal(fin.model.info.status, 'LOGGED_MODEL_READY');
      assert.deepEqual(fin.model.info.tags, [{ key: 'stage', value: 'dev' }, { key: 't', value: '1' }]);
      assert.equal((await m.call('PATCH', `logged-models/${modelId}`, { status: 'DONE' })).json().error_code, 'INVALID_PARAMETER_VALUE');
      const got = await m.ok('GET', `logged-models/${modelId}`);
      assert.equal(got.model.info.status, 'LOGGED_MODEL_READY');
      const missing = await m.call('GET', 'logged-models/m-00000000000000000000000000000000');
      assert.equal(missing.statusCode, 404);
    });

    it('searches logged models by experiment and filter', async () => {
      const all = await m.ok('POST', 'logged-models/search', { experiment_ids: [exp] });
      assert.deepEqual(all.models.map((x: { info: { model_id: string } }) => x.info.model_id), [modelId]);
      const byName = await m.ok('POST', 'logged-models/search', { experiment_ids: [exp], filter: "name = 'notes.txt'" });
      assert.deepEqual(byName, {});
      const hit = await m.ok('POST', 'logged-models/search', { experiment_ids: [exp], filter: "name = 'mymodel'" });
      assert.equal(hit.models.length, 1);
    });

    it('registers a version from models:/<id>, carrying its run, byte-identical', async () => {
      await m.ok('POST', 'registered-models/create', { name: 'lm-reg' });
      const v = (await m.ok('POST', 'model-versions/create', { name: 'lm-reg', source: `models:/${modelId}`, model_id: modelId })).model_version;
      assert.equal(v.version, '1');
      assert.equal(v.status, 'READY');
      assert.equal(v.run_id, runId);
      assert.equal(v.source, `models:/${modelId}`);
      const uri = (await m.ok('GET', 'model-versions/get-download-uri', { name: 'lm-reg', version: '1' })).artifact_uri;
      const files = (await t.call({ method: 'GET', url: `${m.art}?path=${encodeURIComponent(proxyPath(uri))}` })).json().files;
      assert.deepEqual(files, [{ path: 'MLmodel', is_dir: false, file_size: 33 }, { path: 'weights.bin', is_dir: false, file_size: 1024 }]);
      const got = await t.call({ method: 'GET', url: `${m.art}/${proxyPath(uri)}/weights.bin` });
      assert.ok(got.rawPayload.equals(weights));
    });

    it('deletes tags and logged models', async () => {
      assert.deepEqual(await m.ok('DELETE', `logged-models/${modelId}/tags/stage`), {});
      assert.deepEqual((await m.ok('GET', `logged-models/${modelId}`)).model.info.tags, [{ key: 't', value: '1' }]);
      assert.deepEqual(await m.ok('DELETE', `logged-models/${modelId}`), {});
      assert.equal((await m.call('GET', `logged-models/${modelId}`)).statusCode, 404);
    });
  });
}
