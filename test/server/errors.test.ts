import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { problemCodes } from '../../src/server/problem.js';
import { errorStatus } from '../../src/shared/errors.js';

describe('error codes', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  it('documents every problem code a client can meet, with its status', () => {
    for (const code of problemCodes) {
      const status = code === 'internal' ? 500 : errorStatus[code];
      assert.match(readme, new RegExp('`' + code + '` \\(' + status + '\\b'), `README must document ${code} (${status})`);
    }
  });
});

describe('Unavailable', () => {
  it('answers 503 with Retry-After', async () => {
    const Fastify = (await import('fastify')).default;
    const { registerErrorHandling } = await import('../../src/server/errors.js');
    const { Unavailable } = await import('../../src/shared/errors.js');
    const app = Fastify();
    registerErrorHandling(app);
    app.get('/busy', async () => {
      throw new Unavailable('saturated', 2);
    });
    const r = await app.inject({ method: 'GET', url: '/busy' });
    assert.equal(r.statusCode, 503);
    assert.equal(r.headers['retry-after'], '2');
    assert.equal(r.json().code, 'unavailable');
    await app.close();
  });
});
