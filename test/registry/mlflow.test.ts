import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { drivers } from '../helpers/stores.js';
import { principalWithToken, startTestApp, type TestApp } from '../helpers/app.js';
import { logisticRegressionOnnx, mlmodelYaml } from '../helpers/onnx.js';
import { mlflow, proxyPath } from './helpers.js';

/**
 * Conformance of the registry endpoints with mlflow/protos/model_registry.proto
 * and the recorded wire examples (shared/reference/mlflow-wire*.md): paths,
 * field names, string version numbers, omitted empty fields, error codes.
 */
for (const driver of drivers) {
  describe(`MLflow model registry API [${driver}]`, () => {
    let t: TestApp;
    let m: ReturnType<typeof mlflow>;
    let run: { runId: string; artifactUri: string };
    const source = () => `${run.artifactUri}/model`;

    before(async () => {
      t = await startTestApp(driver);
      m = mlflow(t);
      const exp = await m.experiment('registry-conformance');
      run = await m.run(exp);
      await m.upload(`${proxyPath(run.artifactUri)}/model/MLmodel`, mlmodelYaml(run.runId), 'text/plain');
      await m.upload(`${proxyPath(run.artifactUri)}/model/model.onnx`, logisticRegressionOnnx());
    });
    after(() => t.close());

    const err = async (r: Awaited<ReturnType<typeof m.call>>, status: number, code: string) => {
      assert.equal(r.statusCode, status, r.body);
      assert.equal(r.json().error_code, code, r.body);
      assert.equal(typeof r.json().message, 'string');
    };

    it('creates a registered model with MLflow\'s shape and refuses a duplicate name', async () => {
      const r = await m.ok('POST', 'registered-models/create', { name: 'cancer', tags: [{ key: 'team', value: 'onc' }], description: 'd' });
      assert.deepEqual(Object.keys(r.registered_model).sort(), ['creation_timestamp', 'description', 'last_updated_timestamp', 'name', 'tags']);
      assert.equal(r.registered_model.name, 'cancer');
      assert.equal(typeof r.registered_model.creation_timestamp, 'number');
      assert.deepEqual(r.registered_model.tags, [{ key: 'team', value: 'onc' }]);
      await err(await m.call('POST', 'registered-models/create', { name: 'cancer' }), 400, 'RESOURCE_ALREADY_EXISTS');
      await err(await m.call('POST', 'registered-models/create', {}), 400, 'INVALID_PARAMETER_VALUE');
      const plain = await m.ok('POST', 'registered-models/create', { name: 'plain' });
      assert.deepEqual(Object.keys(plain.registered_model).sort(), ['creation_timestamp', 'last_updated_timestamp', 'name']);
    });

    it('answers concurrent creates of one name with one model and RESOURCE_ALREADY_EXISTS', async () => {
      const rs = await Promise.all([1, 2, 3].map(() => m.call('POST', 'registered-models/create', { name: 'racy' })));
      assert.deepEqual(rs.map((r) => r.statusCode).sort(), [200, 400, 400]);
      for (const r of rs.filter((x) => x.statusCode === 400)) assert.equal(r.json().error_code, 'RESOURCE_ALREADY_EXISTS');
    });

    it('creates READY versions numbered "1", "2" from a run\'s artifacts', async () => {
      const r = await m.ok('POST', 'model-versions/create', { name: 'cancer', source: source(), run_id: run.runId });
      const v = r.model_version;
      assert.equal(v.version, '1');
      assert.equal(v.status, 'READY');
      assert.equal(v.current_stage, 'None');
      assert.equal(v.description, '');
      assert.equal(v.run_link, '');
      assert.equal(v.source, source());
      assert.equal(v.run_id, run.runId);
      assert.equal(v.aliases, undefined);
      const two = await m.ok('POST', 'model-versions/create', { name: 'cancer', source: `runs:/${run.runId}/model`, tags: [{ key: 'k', value: 'v' }] });
      assert.equal(two.model_version.version, '2');
      assert.equal(two.model_version.run_id, run.runId, 'runs:/ sources carry their run id');
      assert.deepEqual(two.model_version.tags, [{ key: 'k', value: 'v' }]);
    });

    it('answers the model-versions/create errors MLflow answers', async () => {
      await err(await m.call('POST', 'model-versions/create', { name: 'nope', source: source() }), 404, 'RESOURCE_DOES_NOT_EXIST');
      await err(await m.call('POST', 'model-versions/create', { name: 'cancer' }), 400, 'INVALID_PARAMETER_VALUE');
      await err(await m.call('POST', 'model-versions/create', { name: 'cancer', source: 's3://bucket/x' }), 400, 'INVALID_PARAMETER_VALUE');
      await err(await m.call('POST', 'model-versions/create', { name: 'cancer', source: `${run.artifactUri}/missing` }), 400, 'INVALID_PARAMETER_VALUE');
      await err(await m.call('POST', 'model-versions/create', { name: 'cancer', source: 'mlflow-artifacts:/999/x' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      await err(await m.call('POST', 'model-versions/create', { name: 'cancer', source: `${run.artifactUri}/../../x` }), 400, 'INVALID_PARAMETER_VALUE');
      // A rejected create leaves no version behind.
      const all = await m.ok('GET', 'model-versions/search', { filter: "name='cancer'" });
      assert.deepEqual(all.model_versions.map((v: { version: string }) => v.version).sort(), ['1', '2']);
    });

    it('gets a registered model with latest_versions and aliases', async () => {
      await m.ok('POST', 'registered-models/alias', { name: 'cancer', alias: 'champion', version: '1' });
      const r = (await m.ok('GET', 'registered-models/get', { name: 'cancer' })).registered_model;
      assert.deepEqual(r.aliases, [{ alias: 'champion', version: '1' }]);
      assert.deepEqual(r.latest_versions.map((v: { version: string; current_stage: string }) => [v.version, v.current_stage]), [['2', 'None']]);
      await err(await m.call('GET', 'registered-models/get', { name: 'nope' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });

    it('sets, gets and deletes aliases', async () => {
      const v = (await m.ok('GET', 'registered-models/alias', { name: 'cancer', alias: 'champion' })).model_version;
      assert.equal(v.version, '1');
      assert.deepEqual(v.aliases, ['champion']);
      await err(await m.call('GET', 'registered-models/alias', { name: 'cancer', alias: 'nope' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      await err(await m.call('POST', 'registered-models/alias', { name: 'cancer', alias: 'x', version: '9' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      await err(await m.call('POST', 'registered-models/alias', { name: 'cancer', alias: 'latest', version: '1' }), 400, 'INVALID_PARAMETER_VALUE');
      await err(await m.call('POST', 'registered-models/alias', { name: 'cancer', alias: 'x', version: 'one' }), 400, 'INVALID_PARAMETER_VALUE');
      await m.ok('POST', 'registered-models/alias', { name: 'cancer', alias: 'temp', version: '2' });
      assert.deepEqual(await m.ok('DELETE', 'registered-models/alias', { name: 'cancer', alias: 'temp' }), {});
      await err(await m.call('GET', 'registered-models/alias', { name: 'cancer', alias: 'temp' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });

    it('gets, updates and tags model versions', async () => {
      const g = (await m.ok('GET', 'model-versions/get', { name: 'cancer', version: '1' })).model_version;
      assert.deepEqual(g.aliases, ['champion']);
      await err(await m.call('GET', 'model-versions/get', { name: 'cancer', version: '7' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      await err(await m.call('GET', 'model-versions/get', { name: 'cancer', version: 'x' }), 400, 'INVALID_PARAMETER_VALUE');
      assert.deepEqual(await m.ok('POST', 'model-versions/set-tag', { name: 'cancer', version: '1', key: 'validated', value: 'true' }), {});
      const u = (await m.ok('PATCH', 'model-versions/update', { name: 'cancer', version: '1', description: 'probe version' })).model_version;
      assert.equal(u.description, 'probe version');
      assert.deepEqual(u.tags, [{ key: 'validated', value: 'true' }]);
      assert.ok(u.last_updated_timestamp >= u.creation_timestamp);
      assert.deepEqual(await m.ok('DELETE', 'model-versions/delete-tag', { name: 'cancer', version: '1', key: 'validated' }), {});
      await err(await m.call('DELETE', 'model-versions/delete-tag', { name: 'cancer', version: '1', key: 'validated' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      await err(await m.call('POST', 'model-versions/set-tag', { name: 'cancer', version: '1', key: '' , value: 'x' }), 400, 'INVALID_PARAMETER_VALUE');
    });

    it('transitions stages, archiving the previous holder when asked', async () => {
      const a = (await m.ok('POST', 'model-versions/transition-stage', { name: 'cancer', version: '1', stage: 'production', archive_existing_versions: false })).model_version;
      assert.equal(a.current_stage, 'Production');
      await m.ok('POST', 'model-versions/transition-stage', { name: 'cancer', version: '2', stage: 'Production', archive_existing_versions: true });
      assert.equal((await m.ok('GET', 'model-versions/get', { name: 'cancer', version: '1' })).model_version.current_stage, 'Archived');
      await err(await m.call('POST', 'model-versions/transition-stage', { name: 'cancer', version: '1', stage: 'Prod', archive_existing_versions: false }), 400, 'INVALID_PARAMETER_VALUE');
      const latest = await m.ok('POST', 'registered-models/get-latest-versions', { name: 'cancer', stages: ['Production'] });
      assert.deepEqual(latest.model_versions.map((v: { version: string }) => v.version), ['2']);
      const viaGet = await m.ok('GET', 'registered-models/get-latest-versions', { name: 'cancer' });
      assert.deepEqual(viaGet.model_versions.map((v: { current_stage: string }) => v.current_stage).sort(), ['Archived', 'Production']);
      assert.deepEqual(await m.ok('POST', 'registered-models/get-latest-versions', { name: 'cancer', stages: ['Staging'] }), {});
    });

    it('searches models and versions with filters, order_by and page tokens', async () => {
      for (const n of ['search-a', 'search-b', 'search-c']) await m.ok('POST', 'registered-models/create', { name: n, tags: [{ key: 'kind', value: n === 'search-b' ? 'special' : 'plain' }] });
      const like = await m.ok('GET', 'registered-models/search', { filter: "name LIKE 'search-%'" });
      assert.deepEqual(like.registered_models.map((x: { name: string }) => x.name), ['search-a', 'search-b', 'search-c']);
      const ilike = await m.ok('GET', 'registered-models/search', { filter: "name ILIKE 'SEARCH-B'" });
      assert.deepEqual(ilike.registered_models.map((x: { name: string }) => x.name), ['search-b']);
      const eq = await m.ok('GET', 'registered-models/search', { filter: "name = 'cancer'" });
      assert.equal(eq.registered_models[0].latest_versions.length, 2);
      const tag = await m.ok('GET', 'registered-models/search', { filter: "tags.kind = 'special'" });
      assert.deepEqual(tag.registered_models.map((x: { name: string }) => x.name), ['search-b']);
      const desc = await m.ok('GET', 'registered-models/search', { filter: "name LIKE 'search-%'", order_by: 'name DESC' });
      assert.deepEqual(desc.registered_models.map((x: { name: string }) => x.name), ['search-c', 'search-b', 'search-a']);
      const p1 = await m.ok('GET', 'registered-models/search', { filter: "name LIKE 'search-%'", max_results: 2 });
      assert.equal(p1.registered_models.length, 2);
      assert.equal(typeof p1.next_page_token, 'string');
      const p2 = await m.ok('GET', 'registered-models/search', { filter: "name LIKE 'search-%'", max_results: 2, page_token: p1.next_page_token });
      assert.deepEqual(p2.registered_models.map((x: { name: string }) => x.name), ['search-c']);
      assert.equal(p2.next_page_token, undefined);
      assert.deepEqual(await m.ok('GET', 'registered-models/search', { filter: "name = 'zzz'" }), {});
      await err(await m.call('GET', 'registered-models/search', { filter: "bogus = 'x'" }), 400, 'INVALID_PARAMETER_VALUE');
      await err(await m.call('GET', 'registered-models/search', { filter: "name = 'x' OR name = 'y'" }), 400, 'INVALID_PARAMETER_VALUE');
      await err(await m.call('GET', 'registered-models/search', { max_results: 1001 }), 400, 'INVALID_PARAMETER_VALUE');
      await err(await m.call('GET', 'registered-models/search', { page_token: 'garbage' }), 400, 'INVALID_PARAMETER_VALUE');
      await err(await m.call('GET', 'registered-models/search', { order_by: 'color' }), 400, 'INVALID_PARAMETER_VALUE');

      const byRun = await m.ok('GET', 'model-versions/search', { filter: `run_id = '${run.runId}'` });
      assert.deepEqual(byRun.model_versions.map((v: { version: string }) => v.version), ['2', '1']);
      const byIn = await m.ok('GET', 'model-versions/search', { filter: `run_id IN ('${run.runId}', 'other') AND name = 'cancer'` });
      assert.equal(byIn.model_versions.length, 2);
      const vp = await m.ok('GET', 'model-versions/search', { filter: "name='cancer'", max_results: 1 });
      assert.equal(vp.model_versions.length, 1);
      const vp2 = await m.ok('GET', 'model-versions/search', { filter: "name='cancer'", max_results: 1, page_token: vp.next_page_token });
      assert.notEqual(vp2.model_versions[0].version, vp.model_versions[0].version);
      const vtag = await m.ok('GET', 'model-versions/search', { filter: "tags.k = 'v'" });
      assert.deepEqual(vtag.model_versions.map((v: { version: string }) => v.version), ['2']);
      await err(await m.call('GET', 'model-versions/search', { filter: "name = " }), 400, 'INVALID_PARAMETER_VALUE');
    });

    it('updates, renames, tags and deletes registered models', async () => {
      const u = await m.ok('PATCH', 'registered-models/update', { name: 'plain', description: 'now described' });
      assert.equal(u.registered_model.description, 'now described');
      assert.deepEqual(await m.ok('POST', 'registered-models/set-tag', { name: 'plain', key: 'a', value: 'b' }), {});
      assert.deepEqual((await m.ok('GET', 'registered-models/get', { name: 'plain' })).registered_model.tags, [{ key: 'a', value: 'b' }]);
      assert.deepEqual(await m.ok('DELETE', 'registered-models/delete-tag', { name: 'plain', key: 'a' }), {});
      await err(await m.call('DELETE', 'registered-models/delete-tag', { name: 'plain', key: 'a' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      const r = await m.ok('POST', 'registered-models/rename', { name: 'plain', new_name: 'renamed' });
      assert.equal(r.registered_model.name, 'renamed');
      await err(await m.call('POST', 'registered-models/rename', { name: 'renamed', new_name: 'cancer' }), 400, 'RESOURCE_ALREADY_EXISTS');
      await err(await m.call('GET', 'registered-models/get', { name: 'plain' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      assert.deepEqual(await m.ok('DELETE', 'registered-models/delete', { name: 'renamed' }), {});
      await err(await m.call('DELETE', 'registered-models/delete', { name: 'renamed' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      await err(await m.call('PATCH', 'registered-models/update', { name: 'renamed', description: 'x' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });

    it('returns a download URI whose files come back through the proxy, byte-identical', async () => {
      const uri = (await m.ok('GET', 'model-versions/get-download-uri', { name: 'cancer', version: '1' })).artifact_uri as string;
      assert.match(uri, /^mlflow-artifacts:\/registry\/\d+\/1$/);
      const list = await t.call({ method: 'GET', url: `${m.art}?path=${encodeURIComponent(proxyPath(uri))}` });
      assert.deepEqual(list.json().files.map((f: { path: string }) => f.path), ['MLmodel', 'model.onnx']);
      const got = await t.call({ method: 'GET', url: `${m.art}/${proxyPath(uri)}/model.onnx` });
      assert.equal(got.statusCode, 200);
      assert.ok(got.rawPayload.equals(logisticRegressionOnnx()));
      // The registry's copy is read-only through the proxy.
      const put = await t.call({ method: 'PUT', url: `${m.art}/${proxyPath(uri)}/model.onnx`, payload: Buffer.from('x'), headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(put.statusCode, 400);
      assert.equal(put.json().error_code, 'INVALID_PARAMETER_VALUE');
      await err(await m.call('GET', 'model-versions/get-download-uri', { name: 'cancer', version: '9' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });

    it('keeps a version immutable when its source changes afterwards', async () => {
      await m.upload(`${proxyPath(run.artifactUri)}/model/model.onnx`, Buffer.from('overwritten'));
      const uri = (await m.ok('GET', 'model-versions/get-download-uri', { name: 'cancer', version: '1' })).artifact_uri as string;
      const got = await t.call({ method: 'GET', url: `${m.art}/${proxyPath(uri)}/model.onnx` });
      assert.ok(got.rawPayload.equals(logisticRegressionOnnx()));
      await m.upload(`${proxyPath(run.artifactUri)}/model/model.onnx`, logisticRegressionOnnx());
    });

    it('registers from another version (models:/name/version and models:/name@alias)', async () => {
      await m.ok('POST', 'registered-models/create', { name: 'copy' });
      const a = await m.ok('POST', 'model-versions/create', { name: 'copy', source: 'models:/cancer/2' });
      assert.equal(a.model_version.status, 'READY');
      const b = await m.ok('POST', 'model-versions/create', { name: 'copy', source: 'models:/cancer@champion' });
      assert.equal(b.model_version.version, '2');
    });

    it('stops serving a deleted version\'s files through the proxy even if they are still stored', async () => {
      await m.ok('POST', 'registered-models/create', { name: 'ghost' });
      await m.ok('POST', 'model-versions/create', { name: 'ghost', source: source(), run_id: run.runId });
      const uri = (await m.ok('GET', 'model-versions/get-download-uri', { name: 'ghost', version: '1' })).artifact_uri as string;
      const url = `${m.art}/${proxyPath(uri)}/model.onnx`;
      assert.equal((await t.call({ method: 'GET', url })).statusCode, 200);
      assert.deepEqual(await m.ok('DELETE', 'model-versions/delete', { name: 'ghost', version: '1' }), {});
      // As if removing the files had failed: they are back in storage, the version row is gone.
      const key = `${proxyPath(uri)}/model.onnx`.replace(/^registry\//, `registry/default/`);
      await t.platform.artifacts.put(key, Readable.from([logisticRegressionOnnx()]));
      await err(await t.call({ method: 'GET', url }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });

    it('needs model.register to write and model.delete (owner) to delete', async () => {
      const reader = await principalWithToken(t, `reader-${driver}`);
      const contrib = await principalWithToken(t, `contrib-${driver}`);
      await t.call({ method: 'POST', url: '/api/v1/workspaces/default/roles', payload: { principal: `reader-${driver}`, role: 'reader' } });
      await t.call({ method: 'POST', url: '/api/v1/workspaces/default/roles', payload: { principal: `contrib-${driver}`, role: 'contributor' } });
      assert.equal((await m.call('GET', 'registered-models/get', { name: 'cancer' }, reader)).statusCode, 200);
      await err(await m.call('POST', 'registered-models/create', { name: 'r' }, reader), 403, 'PERMISSION_DENIED');
      assert.equal((await m.call('POST', 'registered-models/create', { name: 'by-contrib' }, contrib)).statusCode, 200);
      assert.equal((await m.call('POST', 'model-versions/create', { name: 'by-contrib', source: source() }, contrib)).statusCode, 200);
      const denied = await m.call('DELETE', 'model-versions/delete', { name: 'by-contrib', version: '1' }, contrib);
      await err(denied, 403, 'PERMISSION_DENIED');
      assert.match(denied.json().message, /model\.delete/);
      await err(await m.call('DELETE', 'registered-models/delete', { name: 'by-contrib' }, contrib), 403, 'PERMISSION_DENIED');
      assert.deepEqual(await m.ok('DELETE', 'model-versions/delete', { name: 'by-contrib', version: '1' }), {});
      await err(await m.call('GET', 'model-versions/get', { name: 'by-contrib', version: '1' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });

    it('keeps workspaces apart under /w/{workspace}', async () => {
      assert.equal((await t.call({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 'team', env: 'dev' } })).statusCode, 201);
      const w = mlflow(t, '/w/team');
      await err(await w.call('GET', 'registered-models/get', { name: 'cancer' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      await w.ok('POST', 'registered-models/create', { name: 'cancer' });
      // A source in another workspace is not this workspace's to copy.
      await err(await w.call('POST', 'model-versions/create', { name: 'cancer', source: source() }), 400, 'INVALID_PARAMETER_VALUE');
      const exp = await w.experiment('team-exp');
      const r = await w.run(exp);
      await w.upload(`${proxyPath(r.artifactUri)}/m.onnx`, logisticRegressionOnnx());
      const v = await w.ok('POST', 'model-versions/create', { name: 'cancer', source: `${r.artifactUri}/m.onnx`, run_id: r.runId });
      assert.equal(v.model_version.version, '1');
      const uri = (await w.ok('GET', 'model-versions/get-download-uri', { name: 'cancer', version: '1' })).artifact_uri as string;
      assert.match(uri, /^mlflow-artifacts:\/w\/team\/registry\/\d+\/1$/);
      const got = await t.call({ method: 'GET', url: `${w.art}/${proxyPath(uri)}/m.onnx` });
      assert.equal(got.statusCode, 200);
      assert.ok(got.rawPayload.equals(logisticRegressionOnnx()));
    });
  });
}
