import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { drivers } from '../helpers/stores.js';
import { principalWithToken, startTestApp, type TestApp } from '../helpers/app.js';

for (const driver of drivers) {
  describe(`access over HTTP [${driver}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(driver);
    });
    after(() => t.close());

    it('answers 401 problem+json without a token on every /api/v1 route', async () => {
      for (const [method, url] of [
        ['GET', '/api/v1/workspaces'],
        ['POST', '/api/v1/workspaces'],
        ['GET', '/api/v1/audit'],
        ['GET', '/api/v1/nope'],
      ] as const) {
        const r = await t.call({ method, url, token: null });
        assert.equal(r.statusCode, 401, `${method} ${url}`);
        assert.match(r.headers['content-type'] as string, /application\/problem\+json/);
        assert.equal(r.json().code, 'unauthenticated');
        assert.ok(r.headers['x-request-id']);
      }
    });

    it('keeps health checks public', async () => {
      assert.equal((await t.call({ method: 'GET', url: '/healthz', token: null })).statusCode, 200);
      assert.equal((await t.call({ method: 'GET', url: '/readyz', token: null })).statusCode, 200);
    });

    it("answers 403 naming the action for a reader's mutation", async () => {
      const token = await principalWithToken(t, 'rita');
      await t.call({ method: 'POST', url: '/api/v1/workspaces/default/roles', payload: { principal: 'rita', role: 'reader' } });
      const ok = await t.call({ method: 'GET', url: '/api/v1/workspaces/default', token });
      assert.equal(ok.statusCode, 200);
      assert.deepEqual(ok.json().permissions, ['workspace.read']);
      const r = await t.call({ method: 'POST', url: '/api/v1/workspaces/default/roles', payload: { principal: 'rita', role: 'owner' }, token });
      assert.equal(r.statusCode, 403);
      assert.equal(r.json().code, 'forbidden');
      assert.equal(r.json().action, 'access.manage');
      assert.match(r.json().detail, /access\.manage/);
    });

    it('answers 401 for a revoked and for an expired token', async () => {
      await principalWithToken(t, 'tom');
      const made = await t.call({ method: 'POST', url: '/api/v1/users/tom/tokens', payload: { expires: '1h' } });
      const { token, id } = made.json();
      assert.equal((await t.call({ method: 'GET', url: '/api/v1/whoami', token })).statusCode, 200);
      assert.equal((await t.call({ method: 'DELETE', url: `/api/v1/tokens/${id}` })).statusCode, 204);
      const revoked = await t.call({ method: 'GET', url: '/api/v1/whoami', token });
      assert.equal(revoked.statusCode, 401);
      assert.match(revoked.json().detail, /revoked/);

      const short = (await t.call({ method: 'POST', url: '/api/v1/users/tom/tokens', payload: { expires: '1s' } })).json();
      await t.platform.store.db.updateTable('tokens').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', short.id).execute();
      const expired = await t.call({ method: 'GET', url: '/api/v1/whoami', token: short.token });
      assert.equal(expired.statusCode, 401);
      assert.match(expired.json().detail, /expired/);
    });

    it('lists tokens without their secrets', async () => {
      const r = await t.call({ method: 'GET', url: '/api/v1/users/tom/tokens' });
      assert.equal(r.statusCode, 200);
      assert.ok(r.json().tokens.length >= 2);
      assert.ok(!r.body.includes('slw_'));
    });

    it('answers 400 naming the field for malformed JSON, wrong types and missing fields', async () => {
      const bad = await t.call({ method: 'POST', url: '/api/v1/workspaces', payload: '{"name": ', headers: { 'content-type': 'application/json' } });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().code, 'invalid');
      assert.match(bad.json().detail, /malformed JSON/);

      const wrongType = await t.call({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 12, env: 'dev' } });
      assert.equal(wrongType.statusCode, 400);
      assert.equal(wrongType.json().errors[0].field, 'name');

      const missing = await t.call({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 'x1' } });
      assert.equal(missing.statusCode, 400);
      assert.equal(missing.json().errors[0].field, 'env');
      assert.match(missing.json().detail, /env is required/);

      const badEnv = await t.call({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 'x1', env: 'qa' } });
      assert.equal(badEnv.statusCode, 400);
      assert.match(badEnv.json().detail, /env/);

      const badName = await t.call({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 'Bad Name', env: 'dev' } });
      assert.equal(badName.statusCode, 400);
      assert.equal(badName.json().errors[0].field, 'name');

      const badQuery = await t.call({ method: 'GET', url: '/api/v1/audit?limit=abc' });
      assert.equal(badQuery.statusCode, 400);
      assert.match(badQuery.json().detail, /limit/);

      const badDuration = await t.call({ method: 'POST', url: '/api/v1/users/tom/tokens', payload: { expires: 'soon' } });
      assert.equal(badDuration.statusCode, 400);
      assert.equal(badDuration.json().errors[0].field, 'expires');
    });

    it('answers 404 problem+json for an unknown route and 409 for a duplicate', async () => {
      const r = await t.call({ method: 'GET', url: '/api/v1/nothing-here' });
      assert.equal(r.statusCode, 404);
      assert.equal(r.json().code, 'not_found');
      const dup = await t.call({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 'default', env: 'dev' } });
      assert.equal(dup.statusCode, 409);
      assert.equal(dup.json().code, 'conflict');
    });

    it('echoes a given x-request-id and records it in the audit trail', async () => {
      const r = await t.call({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 'traced', env: 'staging', project: 'p1' }, headers: { 'x-request-id': 'req-42' } });
      assert.equal(r.statusCode, 201);
      assert.equal(r.headers['x-request-id'], 'req-42');
      const a = await t.call({ method: 'GET', url: '/api/v1/audit?action=admin.workspace.create' });
      const rec = a.json().records.find((x: { target: string }) => x.target === 'workspace/traced');
      assert.equal(rec.requestId, 'req-42');
      assert.equal(rec.principal, 'admin');
      assert.equal(rec.outcome, 'ok');
    });

    it('serves OpenAPI and the docs page to an authenticated caller', async () => {
      const r = await t.call({ method: 'GET', url: '/api/v1/openapi.json' });
      assert.equal(r.statusCode, 200);
      const spec = r.json();
      assert.equal(spec.openapi, '3.0.3');
      assert.ok(spec.paths['/api/v1/workspaces']);
      const docs = await t.call({ method: 'GET', url: '/docs/' });
      assert.equal(docs.statusCode, 200);
      assert.equal((await t.call({ method: 'GET', url: '/api/v1/openapi.json', token: null })).statusCode, 401);
    });

    it('signs in through the login page with a cookie honoured on GET only', async () => {
      const login = await t.app.inject({ method: 'POST', url: '/login', payload: `token=${encodeURIComponent(t.adminToken)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(login.statusCode, 303);
      const cookie = (login.headers['set-cookie'] as string).split(';')[0];
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { cookie } })).statusCode, 200);
      const post = await t.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 'csrf', env: 'dev' }, headers: { cookie } });
      assert.equal(post.statusCode, 401);
      const page = await t.app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } });
      assert.equal(page.statusCode, 302);
      assert.match(page.headers.location as string, /^\/login/);
      const back = await t.app.inject({ method: 'POST', url: '/login', payload: `token=${encodeURIComponent(t.adminToken)}&next=%2Fdocs%2F`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(back.headers.location, '/docs/');
      const evil = await t.app.inject({ method: 'POST', url: '/login', payload: `token=${encodeURIComponent(t.adminToken)}&next=%2F%2Fevil.example`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(evil.headers.location, '/', 'no open redirect');
    });

    it('lets a platform-support persona elevate to owner for a while, audited', async () => {
      const token = await principalWithToken(t, 'sam');
      await t.call({ method: 'POST', url: '/api/v1/personas/bindings', payload: { principal: 'sam', persona: 'platform-support', project: 'p1' } });
      assert.equal((await t.call({ method: 'GET', url: '/api/v1/workspaces/traced', token })).statusCode, 403);
      const tooLong = await t.call({ method: 'POST', url: '/api/v1/workspaces/traced/elevations', payload: { role: 'owner', duration: '9h', reason: 'x' }, token });
      assert.equal(tooLong.statusCode, 400);
      const e = await t.call({ method: 'POST', url: '/api/v1/workspaces/traced/elevations', payload: { role: 'owner', duration: '30m', reason: 'incident 7' }, token });
      assert.equal(e.statusCode, 201);
      const ws = await t.call({ method: 'GET', url: '/api/v1/workspaces/traced', token });
      assert.equal(ws.statusCode, 200);
      assert.ok(ws.json().permissions.includes('access.manage'));
      const other = await t.call({ method: 'POST', url: '/api/v1/workspaces/default/elevations', payload: { role: 'owner', duration: '30m', reason: 'x' }, token });
      assert.equal(other.statusCode, 403);
      const a = await t.call({ method: 'GET', url: '/api/v1/audit?action=access.elevate' });
      assert.equal(a.json().records[0].detail.reason, 'incident 7');
    });

    it('applies group roles to members', async () => {
      const token = await principalWithToken(t, 'gina');
      await t.call({ method: 'POST', url: '/api/v1/groups', payload: { name: 'team-a' } });
      assert.equal((await t.call({ method: 'PUT', url: '/api/v1/groups/team-a/members/gina' })).statusCode, 204);
      assert.equal((await t.call({ method: 'GET', url: '/api/v1/workspaces/traced', token })).statusCode, 403);
      await t.call({ method: 'POST', url: '/api/v1/workspaces/traced/roles', payload: { principal: 'team-a', role: 'contributor' } });
      const ws = await t.call({ method: 'GET', url: '/api/v1/workspaces/traced', token });
      assert.equal(ws.statusCode, 200);
      assert.ok(ws.json().permissions.includes('tracking.write'));
    });
  });
}
