import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { principalWithToken, startTestApp, type TestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { drivers } from '../helpers/stores.js';

const ws = '/api/v1/workspaces/default';
const ep = `${ws}/endpoints`;

for (const driver of drivers) {
  describe(`endpoints and deployments API (${driver})`, () => {
    let t: TestApp;
    const ok = async (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: unknown, status = method === 'POST' && !url.includes('regenerate') ? 201 : 200) => {
      const r = await t.call({ method, url, payload: payload as object });
      assert.equal(r.statusCode, status, `${method} ${url}: ${r.body}`);
      return r.statusCode === 204 ? null : r.json();
    };

    before(async () => {
      t = await startTestApp(driver);
      for (const q of ['&alias=champion', '']) {
        const r = await t.call({ method: 'POST', url: `${ws}/models/clf/versions?filename=model.onnx${q}`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
        assert.equal(r.statusCode, 201, r.body);
      }
    });
    after(() => t.close());

    it('creates an endpoint with two keys, deployments pinned at creation, and traffic', async () => {
      const v0 = await t.platform.serving.servingConfigVersion();
      const e = await ok('POST', ep, { name: 'cancer', description: 'breast cancer', rateLimit: { rps: 100, burst: 20 }, capture: { sample: 0.1, hash: ['email'] } });
      assert.equal(e.auth, 'key');
      assert.deepEqual(e.traffic, {});
      assert.deepEqual(e.capture, { sample: 0.1, drop: [], hash: ['email'] });
      const blue = await ok('POST', `${ep}/cancer/deployments`, { name: 'blue', model: 'models:/clf@champion', instances: 2, batching: { maxBatchSize: 16, maxWaitMicros: 500 } });
      assert.equal(blue.model.version, 1);
      assert.match(blue.model.digest, /^[0-9a-f]{64}$/);
      assert.equal(blue.state, 'Pending');
      await ok('POST', `${ep}/cancer/deployments`, { name: 'green', model: 'models:/clf/2' });
      const after1 = await ok('PUT', `${ep}/cancer/traffic`, { traffic: { blue: 90, green: 10 }, mirror: { green: 20 }, reason: 'canary' });
      assert.deepEqual(after1.traffic, { blue: 90, green: 10 });
      assert.deepEqual(after1.mirror, { green: 20 });
      assert.ok((await t.platform.serving.servingConfigVersion()) > v0);

      // Moving the alias later does not move the deployment.
      assert.equal((await t.call({ method: 'PUT', url: `${ws}/models/clf/aliases/champion`, payload: { version: 2 } })).statusCode, 204);
      const again = await ok('GET', `${ep}/cancer/deployments/blue`);
      assert.equal(again.model.version, 1);
      assert.equal(again.model.ref, 'models:/clf@champion');

      const snap = await t.platform.serving.routingSnapshot();
      const routed = snap.endpoints.find((x) => x.name === 'cancer')!;
      assert.equal(routed.workspace, 'default');
      assert.match(routed.keys.primary, /^swk_/);
      const b = routed.deployments.find((d) => d.name === 'blue')!;
      assert.equal(b.model.file, 'model.onnx');
      assert.ok(b.model.storagePrefix.length > 0);
      assert.equal(b.instances, 2);
      assert.deepEqual(b.batching, { maxBatchSize: 16, maxWaitMicros: 500 });

      const regStore = t.platform.registry.models.store;
      const modelId = (await regStore.model((await regStore.workspaceId('default'))!, 'clf'))!.id;
      assert.deepEqual(await t.platform.serving.pinnedTo(Number(modelId)), [
        { endpoint: 'cancer', deployment: 'blue', version: 1 },
        { endpoint: 'cancer', deployment: 'green', version: 2 },
      ]);
      assert.deepEqual(await t.platform.serving.pinnedTo(Number(modelId), 2), [{ endpoint: 'cancer', deployment: 'green', version: 2 }]);
    });

    it('answers 400s naming the field for bad traffic, mirror, names and models', async () => {
      const bad = async (method: 'POST' | 'PUT', url: string, payload: object, field: string, text: RegExp) => {
        const r = await t.call({ method, url, payload });
        assert.equal(r.statusCode, 400, r.body);
        const p = r.json();
        assert.ok(p.errors.some((x: { field: string }) => x.field === field), `${field} in ${r.body}`);
        assert.match(p.detail, text);
      };
      await bad('PUT', `${ep}/cancer/traffic`, { traffic: { blue: 50, green: 40 } }, 'traffic', /sum to 100.*sums to 90/);
      await bad('PUT', `${ep}/cancer/traffic`, { traffic: { blue: 50, red: 50 } }, 'traffic.red', /names no deployment/);
      await bad('PUT', `${ep}/cancer/traffic`, { traffic: { blue: 100 }, mirror: { blue: 10 } }, 'mirror.blue', /100% of live traffic/);
      await bad('POST', ep, { name: 'Bad_Name' }, 'name', /lowercase/);
      await bad('POST', `${ep}/cancer/deployments`, { name: 'red', model: 'models:/clf@nope' }, 'model', /alias 'nope'.*does not exist/);
      await bad('POST', `${ep}/cancer/deployments`, { name: 'red', model: 'models:/clf/9' }, 'model', /no version 9/);
      await bad('POST', `${ep}/cancer/deployments`, { name: 'red', model: 'clf' }, 'model', /models:\/NAME/);
      await bad('POST', `${ep}/cancer/deployments`, { name: 'red', model: 'models:/clf/1', runtime: 'process' }, 'command', /required for runtime process/);
      const dup = await t.call({ method: 'POST', url: ep, payload: { name: 'cancer' } });
      assert.equal(dup.statusCode, 409);
      const busy = await t.call({ method: 'DELETE', url: `${ep}/cancer/deployments/green` });
      assert.equal(busy.statusCode, 409);
      assert.match(busy.json().detail, /10% of traffic/);
    });

    it('rotates keys one at a time and keeps them retrievable', async () => {
      const k1 = await ok('GET', `${ep}/cancer/keys`);
      const k2 = await ok('POST', `${ep}/cancer/keys/regenerate`, { key: 'secondary' });
      assert.equal(k2.primary, k1.primary);
      assert.notEqual(k2.secondary, k1.secondary);
      const k3 = await ok('POST', `${ep}/cancer/keys/regenerate`, { key: 'primary' });
      assert.notEqual(k3.primary, k1.primary);
      assert.deepEqual(await ok('GET', `${ep}/cancer/keys`), k3);
      const snap = await t.platform.serving.routingSnapshot();
      assert.deepEqual(snap.endpoints.find((x) => x.name === 'cancer')!.keys, k3);
    });

    it('keeps every traffic and mirror change with who and why', async () => {
      await ok('PATCH', `${ep}/cancer`, { traffic: { blue: 50, green: 50 }, reason: 'half and half' });
      await ok('PATCH', `${ep}/cancer`, { description: 'no routing change' });
      const h = (await ok('GET', `${ep}/cancer/history`)).history;
      assert.equal(h.length, 2);
      assert.equal(h[0].who, 'admin');
      assert.equal(h[0].reason, 'half and half');
      assert.deepEqual(h[0].traffic, { blue: 50, green: 50 });
      assert.equal(h[1].reason, 'canary');
      assert.deepEqual(h[1].mirror, { green: 20 });
    });

    it('lets readers read and refuses them writes and keys, naming endpoint.deploy', async () => {
      const token = await principalWithToken(t, `rita-${driver}`);
      await ok('POST', `${ws}/roles`, { principal: `rita-${driver}`, role: 'reader' }, 204);
      assert.equal((await t.call({ method: 'GET', url: `${ep}/cancer`, token })).statusCode, 200);
      for (const [method, url, payload] of [
        ['PUT', `${ep}/cancer/traffic`, { traffic: { blue: 100 } }],
        ['GET', `${ep}/cancer/keys`, undefined],
        ['POST', ep, { name: 'other' }],
        ['DELETE', `${ep}/cancer/deployments/blue`, undefined],
      ] as const) {
        const r = await t.call({ method, url, payload, token });
        assert.equal(r.statusCode, 403, `${method} ${url}: ${r.body}`);
        assert.match(r.json().detail, /endpoint\.deploy/);
      }
      const audit = await t.call({ method: 'GET', url: `/api/v1/audit?action=endpoint.deploy&principal=rita-${driver}` });
      assert.equal(audit.statusCode, 200, audit.body);
      const outcomes = audit.json().records.map((r: { outcome: string }) => r.outcome);
      assert.equal(outcomes.length, 4, audit.body);
      assert.ok(outcomes.every((o: string) => o === 'denied'), audit.body);
    });

    it('updates a deployment: a new reference pins again, runtime settings are checked', async () => {
      const d = await ok('PATCH', `${ep}/cancer/deployments/green`, { model: 'models:/clf@champion', maxConcurrent: 8, timeoutMs: 500 });
      assert.equal(d.model.version, 2);
      assert.equal(d.model.ref, 'models:/clf@champion');
      assert.equal(d.maxConcurrent, 8);
      const http = await ok('PATCH', `${ep}/cancer/deployments/green`, { runtime: 'http', url: 'http://127.0.0.1:9/' });
      assert.equal(http.url, 'http://127.0.0.1:9/');
      assert.equal(http.model.version, 2);
      const noUrl = await t.call({ method: 'PATCH', url: `${ep}/cancer/deployments/green`, payload: { runtime: 'http', url: 'ftp://x' } });
      assert.equal(noUrl.statusCode, 400, noUrl.body);
      assert.match(noUrl.json().detail, /^url: /);
      const batching = await t.call({ method: 'PATCH', url: `${ep}/cancer/deployments/green`, payload: { batching: { maxBatchSize: 0, maxWaitMicros: 10 } } });
      assert.equal(batching.statusCode, 400, batching.body);
      assert.match(batching.json().detail, /maxBatchSize/);
    });

    it('documents the routes in OpenAPI', async () => {
      const doc = await ok('GET', '/api/v1/openapi.json');
      for (const path of ['/api/v1/workspaces/{ws}/endpoints/{name}/traffic', '/api/v1/workspaces/{ws}/endpoints/{name}/deployments/{deployment}', '/api/v1/apply', '/api/v1/export']) {
        assert.ok(doc.paths[path], `${path} in OpenAPI`);
      }
    });

    it('deletes a deployment without traffic and then the endpoint', async () => {
      await ok('PUT', `${ep}/cancer/traffic`, { traffic: { blue: 100 }, mirror: {}, reason: 'green out' });
      await ok('DELETE', `${ep}/cancer/deployments/green`, undefined, 204);
      assert.deepEqual((await ok('GET', `${ep}/cancer`)).deployments.map((d: { name: string }) => d.name), ['blue']);
      await ok('DELETE', `${ep}/cancer`, undefined, 204);
      assert.equal((await t.call({ method: 'GET', url: `${ep}/cancer` })).statusCode, 404);
      assert.equal((await t.platform.serving.routingSnapshot()).endpoints.length, 0);
    });
  });
}
