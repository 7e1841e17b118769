import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { mlflow, proxyPath } from './helpers.js';

describe('MLflow artifact proxy size limit', () => {
  let t: TestApp;
  let url: string;
  let base: string;
  before(async () => {
    t = await startTestApp('pglite', { SLIPWAY_MAX_ARTIFACT_BYTES: '1000' });
    const m = mlflow(t);
    base = proxyPath((await m.run(await m.experiment('limit'))).artifactUri);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}/api/2.0/mlflow-artifacts/artifacts/${base}`;
  });
  after(() => t.close());

  const put = (name: string, body: Uint8Array | ReadableStream<Uint8Array>, extra: RequestInit = {}) =>
    fetch(`${url}/${name}`, { method: 'PUT', body, headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/octet-stream' }, ...extra });

  it('refuses a declared length over the limit with 413 and stores nothing', async () => {
    const r = await put('big.bin', new Uint8Array(1001));
    assert.equal(r.status, 413);
    assert.equal(((await r.json()) as { error_code: string }).error_code, 'INVALID_PARAMETER_VALUE');
    assert.equal((await fetch(`${url}/big.bin`, { headers: { authorization: `Bearer ${t.adminToken}` } })).status, 404);
  });

  it('stops a chunked body once it passes the limit, storing nothing', async () => {
    const chunks = [new Uint8Array(600), new Uint8Array(600)];
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        const next = chunks.shift();
        if (next) c.enqueue(next);
        else c.close();
      },
    });
    const r = await put('chunked.bin', stream, { duplex: 'half' } as RequestInit);
    assert.equal(r.status, 413);
    assert.equal((await fetch(`${url}/chunked.bin`, { headers: { authorization: `Bearer ${t.adminToken}` } })).status, 404);
    assert.equal((await put('ok.bin', new Uint8Array(1000))).status, 200);
  });
});
