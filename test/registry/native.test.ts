import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { writeTar } from '../../src/registry/tar.js';
import { drivers } from '../helpers/stores.js';
import { principalWithToken, startTestApp, type TestApp } from '../helpers/app.js';
import { linearOnnx, logisticRegressionOnnx, mlmodelYaml } from '../helpers/onnx.js';
import { mlflow } from './helpers.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const wholeDigest = (files: Array<[string, Buffer | string]>) =>
  sha(files.map(([p, b]) => [p, sha(b)]).sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([p, h]) => `${p}\u0000${h}\n`).join(''));

export async function tarOf(files: Array<[string, Buffer | string]>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sources = files.map(([path, b]) => ({ path, size: Buffer.byteLength(b), open: () => Readable.from([Buffer.from(b)]) }));
  for await (const c of writeTar(sources)) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

const base = '/api/v1/workspaces/default/models';

for (const driver of drivers) {
  describe(`native registry API [${driver}]`, () => {
    let t: TestApp;
    const upload = (name: string, body: Buffer, type: string, query = '', token?: string) =>
      t.call({ method: 'POST', url: `${base}/${name}/versions${query}`, payload: body, headers: { 'content-type': type }, token });

    before(async () => {
      t = await startTestApp(driver);
    });
    after(() => t.close());

    it('registers an uploaded .onnx file with its signature and a digest anyone can recompute', async () => {
      const onnx = logisticRegressionOnnx();
      const r = await upload('cancer', onnx, 'application/octet-stream', '?filename=clf.onnx');
      assert.equal(r.statusCode, 201, r.body);
      const v = r.json();
      assert.equal(v.version, 1);
      assert.equal(v.status, 'READY');
      assert.equal(v.digest, wholeDigest([['clf.onnx', onnx]]));
      assert.deepEqual(v.signature, {
        format: 'onnx',
        file: 'clf.onnx',
        inputs: [{ name: 'input', type: 'float32', shape: ['N', 4] }],
        outputs: [{ name: 'output', type: 'float32', shape: ['N', 1] }],
      });
      const again = (await t.call({ method: 'GET', url: `${base}/cancer/versions/1` })).json();
      assert.equal(again.digest, v.digest, 'the digest is stable');
      assert.deepEqual(again.files, [{ path: 'clf.onnx', size: onnx.length, sha256: sha(onnx) }]);
      const file = await t.call({ method: 'GET', url: `${base}/cancer/versions/1/files/clf.onnx` });
      assert.ok(file.rawPayload.equals(onnx));
      assert.equal(file.headers['x-slipway-sha256'], sha(onnx));
    });

    it('registers an MLflow model directory sent as a tar, with an alias', async () => {
      const onnx = linearOnnx({ weights: [1, 2, 3], inputName: 'features', outputName: 'score' });
      const files: Array<[string, Buffer | string]> = [
        ['MLmodel', mlmodelYaml()],
        ['model.onnx', onnx],
        ['extra/' + 'deep/'.repeat(30) + 'notes.txt', 'a long path, carried by a PAX header\n'],
      ];
      const r = await upload('cancer', await tarOf(files), 'application/x-tar', '?alias=champion&description=from%20a%20dir');
      assert.equal(r.statusCode, 201, r.body);
      const v = r.json();
      assert.equal(v.version, 2);
      assert.deepEqual(v.aliases, ['champion']);
      assert.equal(v.digest, wholeDigest(files));
      assert.deepEqual(v.signature.inputs, [{ name: 'features', type: 'float32', shape: ['N', 3] }]);
      const m = (await t.call({ method: 'GET', url: `${base}/cancer` })).json();
      assert.deepEqual(m.versions.map((x: { version: number }) => x.version), [1, 2]);
      assert.deepEqual(m.aliases, [{ alias: 'champion', version: 2 }]);
      const list = (await t.call({ method: 'GET', url: base })).json();
      assert.deepEqual(list.models.map((x: { name: string }) => x.name), ['cancer']);
    });

    it('answers 400 naming the field for bytes that are not a model, and keeps no version', async () => {
      const bad = await upload('cancer', Buffer.from('not an onnx graph'), 'application/octet-stream');
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().code, 'invalid');
      assert.match(bad.json().detail, /model.*ONNX/);
      const noModel = await upload('cancer', await tarOf([['readme.txt', 'hi']]), 'application/x-tar');
      assert.equal(noModel.statusCode, 400);
      assert.match(noModel.json().detail, /\.onnx/);
      const garbage = await upload('cancer', Buffer.alloc(1024, 7), 'application/x-tar');
      assert.equal(garbage.statusCode, 400);
      assert.match(garbage.json().detail, /tar/);
      const evil = await upload('cancer', await tarOf([['../escape.onnx', logisticRegressionOnnx()]]), 'application/x-tar');
      assert.equal(evil.statusCode, 400);
      const json = await t.call({ method: 'POST', url: `${base}/cancer/versions`, payload: { model: 'x' } });
      assert.equal(json.statusCode, 415, json.body);
      assert.equal((await upload('cancer', Buffer.from('x'), 'text/plain')).statusCode, 415);
      const name = await upload('cancer', logisticRegressionOnnx(), 'application/octet-stream', '?filename=x.bin');
      assert.equal(name.statusCode, 400);
      assert.equal(name.json().errors[0].field, 'filename');
      const m = (await t.call({ method: 'GET', url: `${base}/cancer` })).json();
      assert.deepEqual(m.versions.map((x: { version: number }) => x.version), [1, 2]);
      // The next good upload still gets the next number (numbers are never reused).
      assert.equal((await upload('cancer', logisticRegressionOnnx(), 'application/octet-stream')).json().version >= 3, true);
    });

    it('numbers concurrent first uploads of a new model 1..N without a 5xx', async () => {
      const rs = await Promise.all([1, 2, 3, 4].map(() => upload('racy', logisticRegressionOnnx(), 'application/octet-stream')));
      assert.deepEqual(rs.map((r) => r.statusCode), [201, 201, 201, 201], rs.map((r) => r.body).join('\n'));
      assert.deepEqual(rs.map((r) => r.json().version).sort(), [1, 2, 3, 4]);
    });

    it('verifies a version and detects a file altered directly in the storage', async () => {
      const ok = await t.call({ method: 'POST', url: `${base}/cancer/versions/2/verify` });
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.json().ok, true);
      assert.equal(ok.json().recomputed, ok.json().digest);
      const modelId = (await t.call({ method: 'GET', url: `${base}/cancer/versions/2` })).json().artifactUri.split('/').at(-2);
      const stored = join(t.dataDir, 'artifacts', 'registry', 'default', modelId, '2', 'model.onnx');
      writeFileSync(stored, Buffer.concat([logisticRegressionOnnx(), Buffer.from([0])]));
      const bad = (await t.call({ method: 'POST', url: `${base}/cancer/versions/2/verify` })).json();
      assert.equal(bad.ok, false);
      assert.notEqual(bad.recomputed, bad.digest);
      assert.deepEqual(bad.files.filter((f: { status: string }) => f.status !== 'ok').map((f: { path: string; status: string }) => [f.path, f.status]), [['model.onnx', 'altered']]);
    });

    it('sets and removes aliases', async () => {
      assert.equal((await t.call({ method: 'PUT', url: `${base}/cancer/aliases/challenger`, payload: { version: 1 } })).statusCode, 204);
      assert.deepEqual((await t.call({ method: 'GET', url: `${base}/cancer` })).json().aliases.map((a: { alias: string }) => a.alias), ['challenger', 'champion']);
      assert.equal((await t.call({ method: 'DELETE', url: `${base}/cancer/aliases/challenger` })).statusCode, 204);
      const missing = await t.call({ method: 'PUT', url: `${base}/cancer/aliases/x`, payload: { version: 99 } });
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().code, 'not_found');
      const bad = await t.call({ method: 'PUT', url: `${base}/cancer/aliases/x`, payload: { version: 'one' } });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().errors[0].field, 'version');
    });

    it('gives the lineage: run, params, metrics, datasets, code version and environment digest', async () => {
      const m = mlflow(t);
      const exp = await m.experiment('lineage');
      const run = await m.run(exp);
      await m.ok('POST', 'runs/log-batch', {
        run_id: run.runId,
        params: [{ key: 'lr', value: '0.01' }],
        metrics: [{ key: 'auc', value: 0.91, timestamp: 1, step: 3 }],
        tags: [
          { key: 'mlflow.source.git.commit', value: 'abc123' },
          { key: 'slipway.environment.digest', value: 'sha256:' + 'e'.repeat(64) },
        ],
      });
      await m.ok('POST', 'runs/log-inputs', { run_id: run.runId, datasets: [{ tags: [], dataset: { name: 'cancer-train', digest: 'd1', source_type: 'local', source: 'datasets:/cancer-train/1' } }] });
      const v = (await upload('lineaged', logisticRegressionOnnx(), 'application/octet-stream', `?runId=${run.runId}`)).json();
      const l = (await t.call({ method: 'GET', url: `${base}/lineaged/versions/${v.version}/lineage` })).json();
      assert.equal(l.run.runId, run.runId);
      assert.deepEqual(l.run.params, [{ key: 'lr', value: '0.01' }]);
      assert.equal(l.run.metrics[0].key, 'auc');
      assert.deepEqual(l.datasets, [{ name: 'cancer-train', digest: 'd1', sourceType: 'local', source: 'datasets:/cancer-train/1' }]);
      assert.equal(l.codeVersion, 'abc123');
      assert.equal(l.environmentDigest, 'sha256:' + 'e'.repeat(64));
      assert.deepEqual(l.deployments, []);
      assert.equal(l.digest, v.digest);
      const none = (await t.call({ method: 'GET', url: `${base}/cancer/versions/1/lineage` })).json();
      assert.equal(none.run, null);
    });

    it('lets contributors register and only owners delete', async () => {
      const contrib = await principalWithToken(t, `n-contrib-${driver}`);
      const reader = await principalWithToken(t, `n-reader-${driver}`);
      await t.call({ method: 'POST', url: '/api/v1/workspaces/default/roles', payload: { principal: `n-contrib-${driver}`, role: 'contributor' } });
      await t.call({ method: 'POST', url: '/api/v1/workspaces/default/roles', payload: { principal: `n-reader-${driver}`, role: 'reader' } });
      assert.equal((await upload('theirs', logisticRegressionOnnx(), 'application/octet-stream', '', contrib)).statusCode, 201);
      const denied = await upload('theirs', logisticRegressionOnnx(), 'application/octet-stream', '', reader);
      assert.equal(denied.statusCode, 403);
      assert.equal(denied.json().action, 'model.register');
      assert.equal((await t.call({ method: 'GET', url: `${base}/theirs`, token: reader })).statusCode, 200);
      const del = await t.call({ method: 'DELETE', url: `${base}/theirs/versions/1`, token: contrib });
      assert.equal(del.statusCode, 403);
      assert.equal(del.json().action, 'model.delete');
      assert.equal((await t.call({ method: 'DELETE', url: `${base}/theirs`, token: contrib })).statusCode, 403);
      assert.equal((await t.call({ method: 'DELETE', url: `${base}/theirs/versions/1` })).statusCode, 204);
      assert.equal((await t.call({ method: 'DELETE', url: `${base}/theirs` })).statusCode, 204);
      assert.equal((await t.call({ method: 'GET', url: `${base}/theirs` })).statusCode, 404);
      const audit = (await t.call({ method: 'GET', url: '/api/v1/audit?action=model.delete' })).json().records;
      assert.ok(audit.some((r: { outcome: string }) => r.outcome === 'denied'));
      assert.ok(audit.some((r: { outcome: string }) => r.outcome === 'ok'));
    });
  });
}
