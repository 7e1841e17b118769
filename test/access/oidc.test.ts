import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { startTestApp, type TestApp } from '../helpers/app.js';

/** A real issuer on loopback: a JWKS endpoint and keys that sign the test's JWTs. */
describe('OIDC bearer JWTs', () => {
  let t: TestApp;
  let jwks: Server;
  let sign: (claims: Record<string, unknown>, opts?: { issuer?: string; expiresIn?: string }) => Promise<string>;
  const issuer = 'http://127.0.0.1/test-issuer';

  before(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', () => r()));
    const port = (jwks.address() as { port: number }).port;
    sign = (claims, opts = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(opts.issuer ?? issuer)
        .setAudience('slipway')
        .setIssuedAt()
        .setExpirationTime(opts.expiresIn ?? '5m')
        .sign(privateKey);
    t = await startTestApp('pglite', {
      SLIPWAY_OIDC_ISSUER: issuer,
      SLIPWAY_OIDC_JWKS_URL: `http://127.0.0.1:${port}/jwks`,
      SLIPWAY_OIDC_AUDIENCE: 'slipway',
    });
    await t.call({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 'oidc-ws', env: 'dev', project: 'idp' } });
    await t.call({ method: 'POST', url: '/api/v1/groups', payload: { name: 'ml-team' } });
    await t.call({ method: 'POST', url: '/api/v1/workspaces/oidc-ws/roles', payload: { principal: 'ml-team', role: 'contributor' } });
  });
  after(async () => {
    await t.close();
    jwks.close();
  });

  it('signs in a user from a valid JWT and maps the groups claim to Slipway groups', async () => {
    const jwt = await sign({ sub: 'u-1', preferred_username: 'olivia', groups: ['ml-team', 'unknown-group'] });
    const who = await t.call({ method: 'GET', url: '/api/v1/whoami', token: jwt });
    assert.equal(who.statusCode, 200);
    assert.equal(who.json().name, 'olivia');
    const ws = await t.call({ method: 'GET', url: '/api/v1/workspaces/oidc-ws', token: jwt });
    assert.equal(ws.statusCode, 200);
    assert.ok(ws.json().permissions.includes('tracking.write'));
    const noGroup = await sign({ preferred_username: 'olivia', groups: [] });
    assert.equal((await t.call({ method: 'GET', url: '/api/v1/workspaces/oidc-ws', token: noGroup })).statusCode, 403);
  });

  it('refuses a wrong issuer, an expired token, and a local principal name', async () => {
    const wrongIssuer = await sign({ preferred_username: 'olivia' }, { issuer: 'http://evil' });
    assert.equal((await t.call({ method: 'GET', url: '/api/v1/whoami', token: wrongIssuer })).statusCode, 401);
    const expired = await sign({ preferred_username: 'olivia' }, { expiresIn: '-1m' });
    assert.equal((await t.call({ method: 'GET', url: '/api/v1/whoami', token: expired })).statusCode, 401);
    const admin = await sign({ preferred_username: 'admin' });
    const r = await t.call({ method: 'GET', url: '/api/v1/whoami', token: admin });
    assert.equal(r.statusCode, 401);
    assert.match(r.json().detail, /local principal/);
  });
});
