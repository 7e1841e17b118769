import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { drivers } from '../helpers/stores.js';
import { principalWithToken, startTestApp, type TestApp } from '../helpers/app.js';
import { mlflow, proxyPath } from './helpers.js';

/** Every file under a directory with its size and mtime: "nothing touched" means this does not change. */
function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: string[] = [];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const e of entries.sort()) {
      const p = join(d, e);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue; // gone meanwhile (another test's temp file)
      }
      if (st.isDirectory()) walk(p);
      else out.push(`${p}:${st.size}:${st.mtimeMs}`);
    }
  };
  walk(dir);
  return out.join('\n');
}

/** A request over a real socket with the path sent verbatim (inject and fetch would normalise `..`). */
function raw(port: number, token: string, method: string, path: string, body?: Buffer): Promise<{ status: number; json: () => { error_code?: string }; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/octet-stream', 'content-length': body.length } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, json: () => JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

for (const driver of drivers) {
  describe(`MLflow artifact proxy [${driver}]`, () => {
    let t: TestApp;
    let m: ReturnType<typeof mlflow>;
    let base: string;
    let exp: string;

    before(async () => {
      t = await startTestApp(driver);
      m = mlflow(t);
      exp = await m.experiment('proxy');
      base = proxyPath((await m.run(exp)).artifactUri);
    });
    after(() => t.close());

    it('stores multi-MB binary uploads and returns them byte-identical, under every prefix', async () => {
      const big = randomBytes(6 * 1024 * 1024 + 13);
      assert.deepEqual((await m.upload(`${base}/weights/big.bin`, big)).json(), {});
      const got = await t.call({ method: 'GET', url: `${m.art}/${base}/weights/big.bin` });
      assert.equal(got.statusCode, 200);
      assert.equal(Number(got.headers['content-length']), big.length);
      assert.ok(got.rawPayload.equals(big), 'bytes differ');
      const ajax = await t.call({ method: 'GET', url: `/ajax-api/2.0/mlflow-artifacts/artifacts/${base}/weights/big.bin` });
      assert.ok(ajax.rawPayload.equals(big));
    });

    it('takes JSON, text and bodies without a content type as raw bytes', async () => {
      const json = '{"not": "parsed", "x": [1, 2]}';
      await m.upload(`${base}/cfg/params.json`, json, 'application/json');
      await m.upload(`${base}/notes.txt`, 'hello artifact\n', 'text/plain');
      await m.upload(`${base}/empty.bin`, Buffer.alloc(0));
      const raw = await t.call({ method: 'PUT', url: `${m.art}/${base}/untyped.bin`, payload: Buffer.from([0, 1, 2, 255]) });
      assert.equal(raw.statusCode, 200, raw.body);
      assert.equal((await t.call({ method: 'GET', url: `${m.art}/${base}/cfg/params.json` })).body, json);
      assert.equal((await t.call({ method: 'GET', url: `${m.art}/${base}/empty.bin` })).rawPayload.length, 0);
    });

    it('lists like MLflow: relative names, is_dir, file_size only for files', async () => {
      const r = await t.call({ method: 'GET', url: `${m.art}?path=${encodeURIComponent(base)}` });
      assert.equal(r.statusCode, 200);
      assert.deepEqual(r.json(), {
        files: [
          { path: 'cfg', is_dir: true },
          { path: 'empty.bin', is_dir: false, file_size: 0 },
          { path: 'notes.txt', is_dir: false, file_size: 15 },
          { path: 'untyped.bin', is_dir: false, file_size: 4 },
          { path: 'weights', is_dir: true },
        ],
      });
      assert.deepEqual((await t.call({ method: 'GET', url: `${m.art}?path=${encodeURIComponent(`${base}/nothing`)}` })).json(), {});
      assert.deepEqual((await t.call({ method: 'GET', url: `${m.art}?path=${encodeURIComponent(`${base}/notes.txt`)}` })).json(), {});
      const root = await t.call({ method: 'GET', url: m.art });
      assert.deepEqual(root.json().files, [{ path: exp, is_dir: true }]);
    });

    it('deletes files and trees', async () => {
      assert.deepEqual((await t.call({ method: 'DELETE', url: `${m.art}/${base}/cfg` })).json(), {});
      assert.equal((await t.call({ method: 'GET', url: `${m.art}/${base}/cfg/params.json` })).statusCode, 404);
      const gone = await t.call({ method: 'GET', url: `${m.art}/${base}/nothing-here` });
      assert.equal(gone.statusCode, 404);
      assert.equal(gone.json().error_code, 'RESOURCE_DOES_NOT_EXIST');
    });

    it('answers 400 INVALID_PARAMETER_VALUE to traversal attempts and touches nothing', async () => {
      const root = join(t.dataDir, 'artifacts');
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const port = (t.app.server.address() as { port: number }).port;
      const before = snapshot(root);
      const attempts = [
        `${base}/../../../../etc/passwd`,
        `${base}/..%2f..%2f..%2fescape.txt`,
        `${base}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/escape.txt`,
        `${base}/%2E%2E%2F%2E%2E%2Fescape.txt`,
        `${base}/..%5c..%5cescape.txt`,
        `${base}/a%5cb.txt`,
        `%2fetc%2fpasswd`,
        `/etc/passwd`,
        `${base}/%00nul.txt`,
        `${exp}/..`,
        `C:%5cwindows%5cx`,
      ];
      for (const p of attempts) {
        for (const method of ['PUT', 'GET', 'DELETE'] as const) {
          const r = await raw(port, t.adminToken, method, `${m.art}/${p}`, method === 'PUT' ? Buffer.from('evil') : undefined);
          assert.equal(r.status, 400, `${method} ${p}: ${r.status} ${r.body}`);
          assert.equal(r.json().error_code, 'INVALID_PARAMETER_VALUE', `${method} ${p}`);
        }
        const list = await t.call({ method: 'GET', url: `${m.art}?path=${encodeURIComponent(decodeURIComponent(p))}` });
        assert.equal(list.statusCode, 400, `list ${p}: ${list.body}`);
      }
      assert.equal(snapshot(root), before, 'the artifact root changed');
      // Not walking all of the temp dir: other tests create and remove files there meanwhile.
      assert.equal(snapshot(t.dataDir).includes('escape.txt'), false);
      assert.equal(existsSync(join(t.dataDir, '..', 'escape.txt')), false);
    });

    it('refuses paths of experiments that are not in the addressed workspace', async () => {
      const r = await t.call({ method: 'PUT', url: `${m.art}/999999/x.txt`, payload: Buffer.from('x'), headers: { 'content-type': 'text/plain' } });
      assert.equal(r.statusCode, 404);
      assert.equal(r.json().error_code, 'RESOURCE_DOES_NOT_EXIST');
      assert.equal((await t.call({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 'other', env: 'dev' } })).statusCode, 201);
      const other = mlflow(t, '/w/other');
      // The default workspace's experiment, addressed through another workspace.
      const cross = await t.call({ method: 'GET', url: `${other.art}/${base}/notes.txt` });
      assert.equal(cross.statusCode, 404);
      const otherExp = await other.experiment('theirs');
      const otherBase = proxyPath((await other.run(otherExp)).artifactUri);
      assert.match(otherBase, /^w\/other\//);
      await other.upload(`${otherBase}/a.txt`, 'theirs');
      assert.equal((await t.call({ method: 'GET', url: `${m.art}/${otherBase}/a.txt` })).statusCode, 404);
      assert.equal((await t.call({ method: 'GET', url: `${other.art}/${otherBase}/a.txt` })).body, 'theirs');
    });

    it('needs workspace.read to read and tracking.write to write', async () => {
      const reader = await principalWithToken(t, `proxy-reader-${driver}`);
      const stranger = await principalWithToken(t, `proxy-stranger-${driver}`);
      await t.call({ method: 'POST', url: '/api/v1/workspaces/default/roles', payload: { principal: `proxy-reader-${driver}`, role: 'reader' } });
      assert.equal((await t.call({ method: 'GET', url: `${m.art}/${base}/notes.txt`, token: reader })).statusCode, 200);
      const put = await t.call({ method: 'PUT', url: `${m.art}/${base}/r.txt`, token: reader, payload: Buffer.from('x'), headers: { 'content-type': 'text/plain' } });
      assert.equal(put.statusCode, 403);
      assert.equal(put.json().error_code, 'PERMISSION_DENIED');
      assert.equal((await t.call({ method: 'DELETE', url: `${m.art}/${base}/notes.txt`, token: reader })).statusCode, 403);
      assert.equal((await t.call({ method: 'GET', url: `${m.art}/${base}/notes.txt`, token: stranger })).statusCode, 403);
      assert.equal((await t.call({ method: 'GET', url: `${m.art}/${base}/notes.txt`, token: null })).statusCode, 401);
      assert.equal((await t.call({ method: 'GET', url: `${m.art}/${base}/r.txt` })).statusCode, 404);
    });
  });
}
