import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemCtx } from '../../src/access/principal.js';
import { bootstrapAdmin } from '../../src/access/service.js';
import { drivers } from '../helpers/stores.js';
import { principalWithToken, startTestApp, type TestApp } from '../helpers/app.js';

for (const driver of drivers) {
  describe(`access hardening [${driver}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(driver);
    });
    after(() => t.close());

    it("does not let an owner borrow a service principal's rights elsewhere through its tokens", async () => {
      const ctx = systemCtx();
      const { workspaces, principals, grants } = t.platform.access;
      await workspaces.create(ctx, { name: 'sandbox', env: 'dev', project: 'play' });
      await workspaces.create(ctx, { name: 'fraud-prod', env: 'prod', project: 'fraud' });
      const olga = await principalWithToken(t, 'olga');
      await grants.assign(ctx, 'sandbox', 'olga', 'owner');
      await principals.create(ctx, { name: 'ci-bot', kind: 'service' });
      await grants.applyPersona(ctx, 'ci-bot', 'cicd-process', 'fraud');
      // Olga may give ci-bot a role in her workspace…
      assert.equal((await t.call({ method: 'POST', url: '/api/v1/workspaces/sandbox/roles', payload: { principal: 'ci-bot', role: 'reader' }, token: olga })).statusCode, 204);
      // …but not mint a token carrying its prod ownership.
      const mint = await t.call({ method: 'POST', url: '/api/v1/users/ci-bot/tokens', payload: {}, token: olga });
      assert.equal(mint.statusCode, 403);
      assert.equal((await t.call({ method: 'GET', url: '/api/v1/users/ci-bot/tokens', token: olga })).statusCode, 403);
      const denied = await t.call({ method: 'GET', url: '/api/v1/audit?principal=olga&action=token.create' });
      assert.equal(denied.json().records.at(-1).outcome, 'denied');

      // A service principal whose only access is in her workspace is hers to manage.
      await principals.create(ctx, { name: 'sandbox-bot', kind: 'service' });
      await grants.assign(ctx, 'sandbox', 'sandbox-bot', 'contributor');
      const ok = await t.call({ method: 'POST', url: '/api/v1/users/sandbox-bot/tokens', payload: { expires: '1d' }, token: olga });
      assert.equal(ok.statusCode, 201);
      const rec = (await t.call({ method: 'GET', url: '/api/v1/audit?principal=olga&action=token.create' })).json().records.at(-1);
      assert.equal(rec.outcome, 'ok');
      assert.equal(rec.workspace, 'sandbox', 'the workspace owner can see the record');
      // Users are never theirs to manage.
      assert.equal((await t.call({ method: 'POST', url: '/api/v1/users/admin/tokens', payload: {}, token: olga })).statusCode, 403);
      assert.equal((await t.call({ method: 'POST', url: '/api/v1/users', payload: { name: 'eve', admin: true }, token: olga })).statusCode, 403);
    });

    it('answers an unknown principal\'s token routes as a forbidden one, so names cannot be probed', async () => {
      const mallory = await principalWithToken(t, 'mallory');
      for (const name of ['admin', 'no-such-principal']) {
        for (const [method, payload] of [['GET', undefined], ['POST', {}]] as const) {
          const r = await t.call({ method, url: `/api/v1/users/${name}/tokens`, payload, token: mallory });
          assert.equal(r.statusCode, 403, `${method} ${name}`);
          assert.equal(r.json().detail, `you may not manage the tokens of '${name}'`);
        }
      }
      // Admins, who may list principals anyway, get the plain 404.
      assert.equal((await t.call({ method: 'GET', url: '/api/v1/users/no-such-principal/tokens' })).statusCode, 404);
    });

    it('answers 4xx, never 500, to out-of-range input and racing creates', async () => {
      const far = await t.call({ method: 'POST', url: '/api/v1/users/admin/tokens', payload: { expires: '999999999d' } });
      assert.equal(far.statusCode, 400);
      assert.equal(far.json().errors[0].field, 'expires');
      assert.equal((await t.call({ method: 'GET', url: '/api/v1/audit?after=100000000000000000000' })).statusCode, 400);
      assert.equal((await t.call({ method: 'GET', url: '/api/v1/workspaces/default/jobs/100000000000000000000' })).statusCode, 400);
      assert.equal((await t.call({ method: 'POST', url: '/api/v1/workspaces/default/endpoints', payload: { name: 'far' } })).statusCode, 201);
      for (const q of ['from=1000000000000000000000', 'to=99999999999999999999']) {
        const r = await t.call({ method: 'GET', url: `/api/v1/workspaces/default/endpoints/far/metrics?${q}` });
        assert.equal(r.statusCode, 400, `${q}: ${r.body}`);
        assert.match(r.body, new RegExp(q.split('=')[0]));
      }
      assert.equal((await t.call({ method: 'GET', url: '/api/v1/workspaces/default/endpoints/far/captures?after=100000000000000000000' })).statusCode, 400);
      const racing = await Promise.all(Array.from({ length: 8 }, () => t.call({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 'race', env: 'dev' } })));
      assert.deepEqual(racing.map((r) => r.statusCode).sort(), [201, 409, 409, 409, 409, 409, 409, 409]);
      const users = await Promise.all(Array.from({ length: 8 }, () => t.call({ method: 'POST', url: '/api/v1/users', payload: { name: 'racer' } })));
      assert.deepEqual(users.map((r) => r.statusCode).sort(), [201, 409, 409, 409, 409, 409, 409, 409]);
      const badUrl = await t.call({ method: 'GET', url: '/api/v1/workspaces/%E0%A4%A' });
      assert.equal(badUrl.statusCode, 400);
      assert.match(badUrl.headers['content-type'] as string, /problem\+json/);
    });

    it('revokes the previous preset admin token when SLIPWAY_ADMIN_TOKEN changes', async () => {
      const { access, store } = t.platform;
      const first = 'slw_first-preset-0123456789abcdefghijklmnopqrstuvw';
      const second = 'slw_second-preset-0123456789abcdefghijklmnopqrstuv';
      await bootstrapAdmin(access, store.db, { tokenFile: '/nonexistent/x', presetToken: first });
      assert.equal((await t.call({ method: 'GET', url: '/api/v1/whoami', token: first })).statusCode, 200);
      await bootstrapAdmin(access, store.db, { tokenFile: '/nonexistent/x', presetToken: second });
      assert.equal((await t.call({ method: 'GET', url: '/api/v1/whoami', token: second })).statusCode, 200);
      assert.equal((await t.call({ method: 'GET', url: '/api/v1/whoami', token: first })).statusCode, 401);
    });
  });
}
