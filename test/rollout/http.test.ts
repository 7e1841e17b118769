import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkRollout, parseDuration, parsePlan } from '../../src/rollout/plan.js';
import { principalWithToken, startTestApp, type TestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { drivers } from '../helpers/stores.js';

const ws = '/api/v1/workspaces/default';
const ro = `${ws}/rollouts`;

describe('rollout plans', () => {
  it('reads the compact form of the issue, arrows or commas, with an optional final 100%', () => {
    const steps = [{ shadow: 20, duration: '10m' }, { traffic: 10, duration: '5m' }, { traffic: 50, duration: '5m' }];
    assert.deepEqual(parsePlan('shadow 20% for 10m → canary 10% for 5m → 50% for 5m → 100%'), steps);
    assert.deepEqual(parsePlan('shadow 20% 10m, canary 10% 5m, 50% 5m'), steps);
    assert.deepEqual(parsePlan('canary 10 % 30s and 200 requests -> 50% 500 req'), [{ traffic: 10, duration: '30s', minRequests: 200 }, { traffic: 50, minRequests: 500 }]);
    assert.equal(parseDuration('1h30m', 'd'), 5_400_000);
  });

  it('refuses bad plans naming the field', () => {
    const base = { name: 'r', endpoint: 'e', candidate: 'green' };
    const field = (input: object, f: string, text: RegExp) =>
      assert.throws(() => checkRollout({ ...base, ...input } as never), (e: { issues: Array<{ field: string }>; message: string }) => e.issues[0].field === f && text.test(e.message));
    field({ plan: 'canary 10% soon' }, 'plan', /step 1 'canary 10% soon': unknown word 'soon'/);
    field({ plan: 'shadow 5m' }, 'plan', /names no percent/);
    field({ steps: [{ traffic: 10 }] }, 'steps[0]', /needs a duration, a minRequests, or both/);
    field({ steps: [{ traffic: 10, shadow: 10, duration: '1m' }] }, 'steps[0]', /exactly one of shadow/);
    field({ steps: [{ traffic: 100, duration: '1m' }] }, 'steps[0].traffic', /final promotion to 100% is implicit/);
    field({ steps: [{ traffic: 10, duration: 'ten minutes' }] }, 'steps[0].duration', /duration such as 30s/);
    field({ steps: [{ traffic: 10, duration: '1m', gates: { minAgreement: 0.9 } }] }, 'steps[0].gates.minAgreement', /shadow steps only/);
    field({ steps: [{ shadow: 10, duration: '1m', gates: { maxErrorRate: 2 } }] }, 'steps[0].gates.maxErrorRate', /fraction/);
    field({ plan: 'canary 10% 1m', steps: [{ traffic: 10, duration: '1m' }] }, 'steps', /either steps or plan/);
    field({ plan: 'canary 10% 1m', stable: 'green' }, 'stable', /differ from candidate/);
    field({ plan: 'canary 10% 1m', drain: 'later' }, 'drain', /duration/);
  });
});

for (const driver of drivers) {
  describe(`rollouts API, apply and export (${driver})`, () => {
    let t: TestApp;
    const ok = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, status = method === 'POST' && url === ro ? 201 : 200) => {
      const r = await t.call({ method, url, payload: payload as object });
      assert.equal(r.statusCode, status, `${method} ${url}: ${r.body}`);
      return r.statusCode === 204 ? null : r.json();
    };
    const bad = async (payload: object, status: number, field: string | null, text: RegExp) => {
      const r = await t.call({ method: 'POST', url: ro, payload });
      assert.equal(r.statusCode, status, r.body);
      if (field) assert.ok(r.json().errors.some((x: { field: string }) => x.field === field), `${field} in ${r.body}`);
      assert.match(r.json().detail, text);
    };

    before(async () => {
      t = await startTestApp(driver);
      for (let i = 0; i < 2; i++) {
        const r = await t.call({ method: 'POST', url: `${ws}/models/clf/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
        assert.equal(r.statusCode, 201, r.body);
      }
      await ok('POST', `${ws}/endpoints`, { name: 'cancer' }, 201);
      await ok('POST', `${ws}/endpoints/cancer/deployments`, { name: 'blue', model: 'models:/clf/1' }, 201);
      await ok('POST', `${ws}/endpoints/cancer/deployments`, { name: 'green', model: 'models:/clf/2' }, 201);
      // As a gateway reports once the models are loaded: a rollout's first step waits for it.
      for (const d of ['blue', 'green']) await t.platform.serving.deployments.setState('cancer', d, 'Ready');
    });
    after(() => t.close());

    it('answers 400 naming the field, 409 when the endpoint cannot be rolled', async () => {
      await bad({ name: 'r1', endpoint: 'cancer', candidate: 'green', plan: 'canary 10% whenever' }, 400, 'plan', /unknown word 'whenever'/);
      await bad({ name: 'r1', endpoint: 'cancer', candidate: 'red', plan: 'canary 10% 1m' }, 400, 'candidate', /names no deployment.*blue, green/);
      await bad({ name: 'r1', endpoint: 'cancer', candidate: 'green', steps: [{ traffic: 10, duration: '1m', gates: { minAgreement: 1 } }] }, 400, 'steps[0].gates.minAgreement', /shadow steps only/);
      await bad({ name: 'r1', endpoint: 'cancer', candidate: 'green', steps: [{ traffic: 10, duration: '1m', gates: { maxErrorRate: 'low' } }] }, 400, null, /maxErrorRate/);
      await bad({ name: 'r1', endpoint: 'nope', candidate: 'green', plan: 'canary 10% 1m' }, 404, null, /endpoint 'nope' not found/);
      // No deployment takes 100% of traffic yet: the stable cannot be guessed.
      await bad({ name: 'r1', endpoint: 'cancer', candidate: 'green', plan: 'canary 10% 1m' }, 400, 'stable', /no deployment taking 100%/);
      assert.deepEqual((await ok('GET', ro)).rollouts, [], 'a refused start leaves nothing behind');
    });

    it('creates pending, starts, shows steps and events, refuses a second rollout on the endpoint, aborts', async () => {
      await ok('PUT', `${ws}/endpoints/cancer/traffic`, { traffic: { blue: 100 } });
      const p = await ok('POST', ro, { name: 'r1', endpoint: 'cancer', candidate: 'green', plan: 'shadow 20% 1m, canary 10% 1m', start: false });
      assert.equal(p.state, 'pending');
      assert.equal(p.stable, null);
      const s = await ok('POST', `${ro}/r1/start`, {});
      assert.equal(s.state, 'running');
      assert.equal(s.stable, 'blue');
      assert.deepEqual(s.steps.map((x: { status: string; description: string }) => `${x.status} ${x.description}`), ['current shadow 20% for 1m', 'pending traffic 10% for 1m']);
      assert.deepEqual((await ok('GET', `${ws}/endpoints/cancer`)).mirror, { green: 20 });
      await bad({ name: 'r2', endpoint: 'cancer', candidate: 'green', plan: 'canary 10% 1m', stable: 'blue' }, 409, null, /rollout 'r1' is running on endpoint 'cancer'/);
      assert.equal((await t.call({ method: 'DELETE', url: `${ro}/r1` })).statusCode, 409);
      const a = await ok('POST', `${ro}/r1/abort`, { reason: 'changed my mind' });
      assert.equal(a.state, 'aborted');
      assert.equal(a.reason, 'abort by admin: changed my mind');
      assert.deepEqual(a.events.map((e: { kind: string }) => e.kind), ['created', 'started', 'step', 'aborted']);
      const e = await ok('GET', `${ws}/endpoints/cancer`);
      assert.deepEqual([e.traffic, e.mirror], [{ blue: 100 }, {}]);
      assert.equal((await t.call({ method: 'POST', url: `${ro}/r1/resume`, payload: {} })).statusCode, 409);
      assert.equal((await t.call({ method: 'POST', url: `${ro}/r1/explode`, payload: {} })).statusCode, 400);
      await ok('DELETE', `${ro}/r1`, undefined, 204);
    });

    it('lets readers read and refuses them changes, naming endpoint.deploy, audited', async () => {
      await ok('POST', ro, { name: 'r3', endpoint: 'cancer', candidate: 'green', plan: 'canary 10% 1m', start: false });
      const token = await principalWithToken(t, `rita-${driver}`);
      await ok('POST', `${ws}/roles`, { principal: `rita-${driver}`, role: 'reader' }, 204);
      assert.equal((await t.call({ method: 'GET', url: `${ro}/r3`, token })).statusCode, 200);
      for (const [method, url] of [['POST', `${ro}/r3/start`], ['POST', ro], ['DELETE', `${ro}/r3`]] as const) {
        const r = await t.call({ method, url, token, payload: url === ro ? { name: 'r4', endpoint: 'cancer', candidate: 'green', plan: 'canary 10% 1m' } : {} });
        assert.equal(r.statusCode, 403, `${method} ${url}: ${r.body}`);
        assert.match(r.json().detail, /endpoint\.deploy/);
      }
      const audit = await ok('GET', `/api/v1/audit?action=endpoint.deploy&principal=rita-${driver}`);
      assert.equal(audit.records.length, 3);
      await ok('DELETE', `${ro}/r3`, undefined, 204);
    });

    it('applies kind Rollout after the Deployments of the same file; the same file again is unchanged; exports live ones', async () => {
      const doc = { kind: 'Rollout', name: 'r5', endpoint: 'cancer', candidate: 'green', plan: 'canary 10% 5m, 50% 5m', gates: { maxErrorRate: 0.05 }, retireStable: true, drain: '1m' };
      const apply = (documents: object[]) => t.call({ method: 'POST', url: '/api/v1/apply', payload: { documents } });
      const r1 = await apply([doc]);
      assert.equal(r1.statusCode, 200, r1.body);
      assert.deepEqual(r1.json().plan.map((x: { action: string }) => x.action), ['create']);
      const got = await ok('GET', `${ro}/r5`);
      assert.equal(got.state, 'running');
      assert.deepEqual((await ok('GET', `${ws}/endpoints/cancer`)).traffic, { blue: 90, green: 10 });
      assert.deepEqual((await apply([doc])).json().plan.map((x: { action: string }) => x.action), ['unchanged']);
      const changed = await apply([{ ...doc, plan: 'canary 20% 5m' }]);
      assert.equal(changed.statusCode, 409, changed.body);
      assert.match(changed.json().detail, /other steps/);
      const invalid = await apply([{ ...doc, name: 'r6', plan: 'canary 10% x' }]);
      assert.equal(invalid.statusCode, 400);
      assert.ok(invalid.json().errors.some((x: { field: string }) => x.field === 'documents[0].plan'), invalid.body);
      const exported = (await ok('GET', '/api/v1/export?workspace=default')).documents.filter((d: { kind: string }) => d.kind === 'Rollout');
      assert.deepEqual(exported, [
        { kind: 'Rollout', name: 'r5', workspace: 'default', endpoint: 'cancer', candidate: 'green', stable: 'blue', steps: [{ traffic: 10, duration: '5m', gates: { maxErrorRate: 0.05 } }, { traffic: 50, duration: '5m', gates: { maxErrorRate: 0.05 } }], retireStable: true, drain: '1m' },
      ]);
      assert.deepEqual((await apply(exported)).json().plan.map((x: { action: string }) => x.action), ['unchanged']);
      await ok('POST', `${ro}/r5/abort`, {});
    });

    it('applies a file that creates an endpoint, its deployments and their rollout, in that order; a dry run checks the targets', async () => {
      const apply = (documents: object[], dryRun = false) => t.call({ method: 'POST', url: '/api/v1/apply', payload: { documents, dryRun } });
      const file = [
        { kind: 'Rollout', name: 'fresh-b', endpoint: 'fresh', candidate: 'b', plan: 'canary 25% 10m' },
        { kind: 'Endpoint', name: 'fresh', traffic: { a: 100 } },
        { kind: 'Deployment', endpoint: 'fresh', name: 'a', model: 'models:/clf/1' },
        { kind: 'Deployment', endpoint: 'fresh', name: 'b', model: 'models:/clf/2' },
      ];
      const typo = await apply([{ ...file[0], candidate: 'c' }, ...file.slice(1)], true);
      assert.equal(typo.statusCode, 400, typo.body);
      assert.match(typo.json().detail, /documents\[0\] \(Rollout fresh-b\): candidate: names no deployment of endpoint 'fresh' on the server or in this file \(known: a, b\)/);
      const r = await apply(file);
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(r.json().plan.map((x: { kind: string; action: string }) => `${x.kind} ${x.action}`), ['Rollout create', 'Endpoint create', 'Deployment create', 'Deployment create']);
      const got = await ok('GET', `${ro}/fresh-b`);
      assert.deepEqual([got.state, got.stable, got.stepStartedAt], ['running', 'a', null], 'b is not Ready yet');
      assert.deepEqual((await ok('GET', `${ws}/endpoints/fresh`)).traffic, { a: 100 });
      await t.platform.serving.deployments.setState('fresh', 'b', 'Ready');
      await t.platform.rollouts.controller({ deploymentWindow: async () => ({ requests: 0, errors5xx: 0, p95Ms: null, p99Ms: null, mirror: { compared: 0, exactMatches: 0, absDiffSum: 0 } }) }).tick();
      assert.deepEqual((await ok('GET', `${ws}/endpoints/fresh`)).traffic, { a: 75, b: 25 });
      await ok('POST', `${ro}/fresh-b/abort`, {});
    });

    it('documents the routes in OpenAPI', async () => {
      const doc = await ok('GET', '/api/v1/openapi.json');
      for (const path of ['/api/v1/workspaces/{ws}/rollouts', '/api/v1/workspaces/{ws}/rollouts/{name}', '/api/v1/workspaces/{ws}/rollouts/{name}/{action}']) assert.ok(doc.paths[path], `${path} in OpenAPI`);
    });
  });
}
