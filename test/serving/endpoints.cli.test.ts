import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/process.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';

const FILE = `kind: Endpoint
name: cancer
traffic: { blue: 90, green: 10 }
---
kind: Deployment
endpoint: cancer
name: blue
model: models:/clf@champion
---
kind: Deployment
endpoint: cancer
name: green
model: models:/clf/1
`;

// The API underneath runs on both drivers in endpoints.test.ts and apply.test.ts;
// each CLI process costs about a second, so the CLI runs against PGlite only.
describe('slipway apply / export / endpoint / deployment CLI against a loopback server', () => {
  let t: TestApp;
  let url: string;
  let dir: string;
  const run = (...args: string[]) => runCli(args, { HOME: dir, SLIPWAY_CONFIG: join(dir, 'config.json'), SLIPWAY_URL: url, SLIPWAY_TOKEN: t.adminToken });
  const lastLine = (s: string) => s.trim().split('\n').at(-1);

  before(async () => {
    t = await startTestApp('pglite');
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    dir = mkdtempSync(join(tmpdir(), 'slipway-endpoint-cli-'));
    writeFileSync(join(dir, 'serving.yaml'), FILE);
    const r = await t.call({ method: 'POST', url: '/api/v1/workspaces/default/models/clf/versions?filename=model.onnx&alias=champion', payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.statusCode, 201, r.body);
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('plans, applies, re-applies unchanged, exports, and drives traffic and keys', async () => {
    const dry = await run('apply', '-f', join(dir, 'serving.yaml'), '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /create\s*│\s*Endpoint/);
    assert.match(lastLine(dry.stdout)!, /dry run, nothing changed: 3 to create, 0 to update, 0 unchanged/);
    assert.equal((await t.call({ method: 'GET', url: '/api/v1/workspaces/default/endpoints/cancer' })).statusCode, 404);

    const applied = await run('apply', '-f', join(dir, 'serving.yaml'));
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(lastLine(applied.stdout), '3 to create, 0 to update, 0 unchanged');
    const again = await run('apply', '-f', join(dir, 'serving.yaml'), '-o', 'json');
    assert.deepEqual(JSON.parse(again.stdout).plan.map((p: { action: string }) => p.action), ['unchanged', 'unchanged', 'unchanged']);

    const exported = await run('export');
    assert.equal(exported.code, 0, exported.stderr);
    writeFileSync(join(dir, 'export.yaml'), exported.stdout);
    const reapplied = await run('apply', '-f', join(dir, 'export.yaml'));
    assert.equal(lastLine(reapplied.stdout), '0 to create, 0 to update, 3 unchanged', reapplied.stdout);

    const traffic = await run('endpoint', 'traffic', 'cancer', 'blue=50', 'green=50', '--reason', 'even split');
    assert.equal(traffic.code, 0, traffic.stderr);
    assert.match(traffic.stdout, /traffic: blue=50 green=50/);
    const bad = await run('endpoint', 'traffic', 'cancer', 'blue=50', 'green=40');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /traffic: must sum to 100 \(or be empty\), sums to 90/);

    const key = await run('endpoint', 'key', 'cancer');
    assert.equal(key.code, 0, key.stderr);
    const keys = (await t.call({ method: 'GET', url: '/api/v1/workspaces/default/endpoints/cancer/keys' })).json();
    assert.equal(lastLine(key.stdout), keys.primary);
    const rotated = await run('endpoint', 'key', 'cancer', '--regenerate', 'primary');
    assert.notEqual(lastLine(rotated.stdout), keys.primary);
    assert.match(lastLine(rotated.stdout)!, /^swk_/);

    const ls = await run('deployment', 'ls', 'cancer', '-o', 'json');
    assert.deepEqual(JSON.parse(ls.stdout).deployments.map((d: { name: string }) => d.name), ['blue', 'green']);
    const hist = await run('endpoint', 'history', 'cancer');
    assert.match(hist.stdout, /even split/);
    await run('endpoint', 'traffic', 'cancer', 'blue=100');
    const del = await run('deployment', 'delete', 'cancer', 'green');
    assert.equal(del.code, 0, del.stderr);
    const show = await run('endpoint', 'show', 'cancer', '-o', 'json');
    assert.deepEqual(JSON.parse(show.stdout).deployments.map((d: { name: string }) => d.name), ['blue']);
  });
});
