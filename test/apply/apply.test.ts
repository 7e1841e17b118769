import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { principalWithToken, startTestApp, type TestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { drivers } from '../helpers/stores.js';

const FILE = `
kind: Endpoint
name: cancer
workspace: default
auth: key
traffic: { blue: 90, green: 10 }
mirror: { green: 20 }
capture: { sample: 1.0, drop: [], hash: [email] }
rateLimit: { rps: 50, burst: 10 }
---
kind: Deployment
endpoint: cancer
name: blue
model: models:/cancer-classifier@champion
instances: 2
---
kind: Deployment
endpoint: cancer
name: green
model: models:/cancer-classifier/2
batching: { maxBatchSize: 8, maxWaitMicros: 200 }
`;

const docs = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJSON());
type Row = { kind: string; name: string; action: string; changes: string[] };
const actions = (plan: Row[]) => plan.map((r) => `${r.kind} ${r.name} ${r.action}`);

for (const driver of drivers) {
  describe(`declarative apply and export (${driver})`, () => {
    let t: TestApp;
    const apply = async (documents: unknown[], dryRun = false) => {
      const r = await t.call({ method: 'POST', url: '/api/v1/apply', payload: { documents, dryRun } });
      return { status: r.statusCode, body: r.json() };
    };

    before(async () => {
      t = await startTestApp(driver);
      for (const q of ['&alias=champion', '']) {
        const r = await t.call({ method: 'POST', url: `/api/v1/workspaces/default/models/cancer-classifier/versions?filename=model.onnx${q}`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
        assert.equal(r.statusCode, 201, r.body);
      }
    });
    after(() => t.close());

    it('a dry run plans creates and changes nothing', async () => {
      const v0 = await t.platform.serving.servingConfigVersion();
      const r = await apply(docs(FILE), true);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(actions(r.body.plan), ['Endpoint cancer create', 'Deployment cancer/blue create', 'Deployment cancer/green create']);
      assert.equal(await t.platform.serving.servingConfigVersion(), v0);
      assert.equal((await t.call({ method: 'GET', url: '/api/v1/workspaces/default/endpoints/cancer' })).statusCode, 404);
    });

    it('applies deployments before the traffic that names them, and a second apply changes nothing', async () => {
      const first = await apply(docs(FILE));
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const e = (await t.call({ method: 'GET', url: '/api/v1/workspaces/default/endpoints/cancer' })).json();
      assert.deepEqual(e.traffic, { blue: 90, green: 10 });
      assert.deepEqual(e.mirror, { green: 20 });
      assert.deepEqual(e.rateLimit, { rps: 50, burst: 10 });
      assert.deepEqual(e.deployments.map((d: { name: string; model: { version: number } }) => [d.name, d.model.version]), [['blue', 1], ['green', 2]]);
      const h = (await t.call({ method: 'GET', url: '/api/v1/workspaces/default/endpoints/cancer/history' })).json().history;
      assert.equal(h.length, 1);
      assert.equal(h[0].reason, 'slipway apply');

      const v1 = await t.platform.serving.servingConfigVersion();
      // The alias moves: the deployment stays pinned and the plan stays unchanged.
      assert.equal((await t.call({ method: 'PUT', url: '/api/v1/workspaces/default/models/cancer-classifier/aliases/champion', payload: { version: 2 } })).statusCode, 204);
      const second = await apply(docs(FILE));
      assert.deepEqual(actions(second.body.plan), ['Endpoint cancer unchanged', 'Deployment cancer/blue unchanged', 'Deployment cancer/green unchanged']);
      assert.equal(await t.platform.serving.servingConfigVersion(), v1);
    });

    it('plans and applies updates naming the changed fields', async () => {
      const changed = FILE.replace('{ blue: 90, green: 10 }', '{ blue: 50, green: 50 }').replace('instances: 2', 'instances: 3');
      const dry = await apply(docs(changed), true);
      assert.deepEqual(
        dry.body.plan.map((r: Row) => `${r.name} ${r.action} ${r.changes.join(',')}`),
        ['cancer update traffic', 'cancer/blue update instances', 'cancer/green unchanged '],
      );
      await apply(docs(changed));
      const e = (await t.call({ method: 'GET', url: '/api/v1/workspaces/default/endpoints/cancer' })).json();
      assert.deepEqual(e.traffic, { blue: 50, green: 50 });
      assert.equal(e.deployments[0].instances, 3);
    });

    it('refuses bad documents with 400s naming the document and field, applying nothing', async () => {
      const v = await t.platform.serving.servingConfigVersion();
      const cases: Array<[string, string, RegExp]> = [
        [FILE.replace('{ blue: 90, green: 10 }', '{ blue: 90, green: 20 }'), 'documents[0].traffic', /sums to 110/],
        [FILE.replace('{ blue: 90, green: 10 }', '{ blue: 90, red: 10 }'), 'documents[0].traffic.red', /names no deployment/],
        [FILE.replace('@champion', '@nope'), 'documents[1].model', /alias 'nope'/],
        [FILE.replace('instances: 2', 'instancez: 2'), 'documents[1].instancez', /not a field of Deployment/],
        [FILE + '---\nkind: Gizmo\nname: x\n', 'documents[3].kind', /must be one of Endpoint, Deployment/],
        ['kind: Deployment\nendpoint: nowhere\nname: a\nmodel: models:/cancer-classifier/1\n', 'documents[0].endpoint', /no endpoint 'nowhere'/],
      ];
      for (const [yaml, field, text] of cases) {
        const r = await apply(docs(yaml));
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.ok(r.body.errors.some((x: { field: string }) => x.field === field), `${field} in ${JSON.stringify(r.body)}`);
        assert.match(r.body.detail, text);
      }
      assert.equal(await t.platform.serving.servingConfigVersion(), v);
    });

    it('a reader may plan but not apply: 403 naming endpoint.deploy before any write', async () => {
      const token = await principalWithToken(t, 'rita');
      assert.equal((await t.call({ method: 'POST', url: '/api/v1/workspaces/default/roles', payload: { principal: 'rita', role: 'reader' } })).statusCode, 204);
      const v = await t.platform.serving.servingConfigVersion();
      const changed = docs(FILE.replace('name: cancer\nworkspace', 'name: other\nworkspace').replace(/endpoint: cancer/g, 'endpoint: other'));
      const dry = await t.call({ method: 'POST', url: '/api/v1/apply', payload: { documents: changed, dryRun: true }, token });
      assert.equal(dry.statusCode, 200, dry.body);
      assert.deepEqual(actions(dry.json().plan), ['Endpoint other create', 'Deployment other/blue create', 'Deployment other/green create']);
      const r = await t.call({ method: 'POST', url: '/api/v1/apply', payload: { documents: changed }, token });
      assert.equal(r.statusCode, 403, r.body);
      assert.match(r.json().detail, /endpoint\.deploy/);
      assert.equal(await t.platform.serving.servingConfigVersion(), v);
    });

    it('export writes back documents that apply unchanged, and recreate the state elsewhere', async () => {
      const ex = await t.call({ method: 'GET', url: '/api/v1/export?workspace=default' });
      assert.equal(ex.statusCode, 200, ex.body);
      const exported = ex.json().documents;
      assert.deepEqual(exported.map((d: { kind: string }) => d.kind), ['Endpoint', 'Deployment', 'Deployment']);
      const r = await apply(exported);
      assert.ok(r.body.plan.every((x: Row) => x.action === 'unchanged'), JSON.stringify(r.body.plan));

      // Round trip: delete everything, apply the export, export again: the same documents.
      await t.call({ method: 'PUT', url: '/api/v1/workspaces/default/endpoints/cancer/traffic', payload: { traffic: { blue: 100 }, mirror: {} } });
      assert.equal((await t.call({ method: 'DELETE', url: '/api/v1/workspaces/default/endpoints/cancer' })).statusCode, 204);
      const recreated = await apply(exported);
      assert.deepEqual(actions(recreated.body.plan), ['Endpoint cancer create', 'Deployment cancer/blue create', 'Deployment cancer/green create']);
      const again = (await t.call({ method: 'GET', url: '/api/v1/export?workspace=default' })).json().documents;
      assert.deepEqual(again, exported);
    });
  });
}

const PRUNED = `
kind: Endpoint
name: cancer
traffic: { blue: 100 }
mirror: {}
---
kind: Deployment
endpoint: cancer
name: blue
model: models:/cancer-classifier/1
`;

for (const driver of drivers) {
  describe(`apply --prune (${driver})`, () => {
    let t: TestApp;
    const apply = async (documents: unknown[], opts: { dryRun?: boolean; prune?: boolean } = {}) => {
      const r = await t.call({ method: 'POST', url: '/api/v1/apply', payload: { documents, ...opts } });
      assert.equal(r.statusCode, 200, r.body);
      return r.json() as { plan: Row[] };
    };
    const endpoints = async () => ((await t.call({ method: 'GET', url: '/api/v1/workspaces/default/endpoints' })).json().endpoints as Array<{ name: string; deployments: Array<{ name: string }> }>).map((e) => `${e.name}:${e.deployments.map((d) => d.name).join('+')}`).sort();

    before(async () => {
      t = await startTestApp(driver);
      const r = await t.call({ method: 'POST', url: '/api/v1/workspaces/default/models/cancer-classifier/versions?filename=model.onnx', payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(r.statusCode, 201, r.body);
      await apply(docs(`${PRUNED}---\nkind: Deployment\nendpoint: cancer\nname: green\nmodel: models:/cancer-classifier/1\n---\nkind: Endpoint\nname: other\ntraffic: { x: 100 }\n---\nkind: Deployment\nendpoint: other\nname: x\nmodel: models:/cancer-classifier/1\n`));
    });
    after(() => t.close());

    it('deletes what the file no longer names only when asked, dependents first, and then changes nothing', async () => {
      assert.deepEqual(actions((await apply(docs(PRUNED))).plan), ['Endpoint cancer unchanged', 'Deployment cancer/blue unchanged']);
      assert.deepEqual(await endpoints(), ['cancer:blue+green', 'other:x']);
      const planned = await apply(docs(PRUNED), { prune: true, dryRun: true });
      assert.deepEqual(actions(planned.plan).sort(), ['Deployment cancer/blue unchanged', 'Deployment cancer/green delete', 'Deployment other/x delete', 'Endpoint cancer unchanged', 'Endpoint other delete']);
      assert.deepEqual(await endpoints(), ['cancer:blue+green', 'other:x'], 'a dry run deletes nothing');
      await apply(docs(PRUNED), { prune: true });
      assert.deepEqual(await endpoints(), ['cancer:blue']);
      assert.deepEqual(actions((await apply(docs(PRUNED), { prune: true })).plan), ['Endpoint cancer unchanged', 'Deployment cancer/blue unchanged']);
    });
  });
}

describe('apply while a rollout drives the endpoint (pglite)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp('pglite');
    const r = await t.call({ method: 'POST', url: '/api/v1/workspaces/default/models/cancer-classifier/versions?filename=model.onnx', payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.statusCode, 201, r.body);
  });
  after(() => t.close());

  it('leaves the traffic to the rollout, and applies it again once the rollout has ended', async () => {
    const file = (traffic: string) => docs(`kind: Endpoint\nname: shop\ntraffic: ${traffic}\n---\nkind: Deployment\nendpoint: shop\nname: blue\nmodel: models:/cancer-classifier/1\n---\nkind: Deployment\nendpoint: shop\nname: green\nmodel: models:/cancer-classifier/1\n`);
    const apply = async (documents: unknown[]) => {
      const r = await t.call({ method: 'POST', url: '/api/v1/apply', payload: { documents } });
      assert.equal(r.statusCode, 200, r.body);
      return actions(r.json().plan);
    };
    const traffic = async () => (await t.call({ method: 'GET', url: '/api/v1/workspaces/default/endpoints/shop' })).json().traffic;
    await apply(file('{ blue: 100 }'));
    for (const d of ['blue', 'green']) await t.platform.serving.deployments.setState('shop', d, 'Ready');
    const ro = await t.call({ method: 'POST', url: '/api/v1/workspaces/default/rollouts', payload: { name: 'shop-green', endpoint: 'shop', candidate: 'green', steps: [{ traffic: 20, duration: '1h' }], start: true } });
    assert.equal(ro.statusCode, 201, ro.body);
    // What the controller's first step would have set.
    await t.platform.serving.endpoints.setTraffic(await adminCtx(t), 'default', 'shop', { traffic: { blue: 80, green: 20 }, mirror: {}, reason: 'rollout step' });
    assert.deepEqual(await apply(file('{ blue: 100 }')), ['Endpoint shop unchanged', 'Deployment shop/blue unchanged', 'Deployment shop/green unchanged']);
    assert.deepEqual(await traffic(), { blue: 80, green: 20 });
    assert.equal((await t.call({ method: 'POST', url: '/api/v1/workspaces/default/rollouts/shop-green/abort', payload: {} })).statusCode, 200);
    assert.deepEqual(await apply(file('{ blue: 50, green: 50 }')), ['Endpoint shop update', 'Deployment shop/blue unchanged', 'Deployment shop/green unchanged']);
    assert.deepEqual(await traffic(), { blue: 50, green: 50 });
  });
});

async function adminCtx(t: TestApp) {
  return { principal: { ...(await t.platform.access.authz.authenticate(t.adminToken)) }, requestId: 'test' };
}
