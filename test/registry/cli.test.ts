import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCliTestApp, type CliTestApp } from '../helpers/app.js';
import { logisticRegressionOnnx, mlmodelYaml } from '../helpers/onnx.js';

// The HTTP API underneath runs on both drivers in native.test.ts; each CLI
// process costs about a second, so the CLI runs against a PGlite server only.
describe('slipway model CLI against a real server on loopback', () => {
  let t: CliTestApp;
  let dir: string;
  const run = (...args: string[]) => t.cli(args);
  const lastLine = (s: string) => s.trim().split('\n').at(-1);

  before(async () => {
    t = await startCliTestApp('pglite');
    dir = t.home;
    mkdirSync(join(dir, 'model', 'code'), { recursive: true });
    writeFileSync(join(dir, 'model', 'MLmodel'), mlmodelYaml());
    writeFileSync(join(dir, 'model', 'model.onnx'), logisticRegressionOnnx());
    writeFileSync(join(dir, 'model', 'code', 'notes.txt'), 'how it was trained\n');
    writeFileSync(join(dir, 'clf.onnx'), logisticRegressionOnnx({ weights: [1, 1, 1, 1] }));
    writeFileSync(join(dir, 'not-a-model.txt'), 'x');
  });
  after(() => t.close());

  it('registers a model directory and an .onnx file, printing each new version last', async () => {
    const a = await run('model', 'register', 'cancer', join(dir, 'model'), '--alias', 'champion');
    assert.equal(a.code, 0, a.stderr);
    assert.equal(lastLine(a.stdout), '1');
    assert.match(a.stdout, /input: float32\[N, 4\]/);
    assert.match(a.stderr, /upload model: 100%/);
    const b = await run('model', 'register', 'cancer', join(dir, 'clf.onnx'));
    assert.equal(b.code, 0, b.stderr);
    assert.equal(lastLine(b.stdout), '2');
    const bad = await run('model', 'register', 'cancer', join(dir, 'not-a-model.txt'));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /expected an \.onnx file/);
  });

  it('lists, shows and moves aliases', async () => {
    const ls = await run('model', 'ls', '-o', 'json');
    assert.equal(ls.code, 0, ls.stderr);
    assert.deepEqual(JSON.parse(ls.stdout).models.map((m: { name: string }) => m.name), ['cancer']);
    const show = await run('model', 'show', 'cancer', '1', '-o', 'json');
    assert.deepEqual(JSON.parse(show.stdout).files.map((f: { path: string }) => f.path), ['MLmodel', 'code/notes.txt', 'model.onnx']);
    const set = await run('model', 'alias', 'set', 'cancer', 'champion', '2');
    assert.equal(set.code, 0, set.stderr);
    const table = await run('model', 'show', 'cancer');
    assert.match(table.stdout, /champion→2/);
  });

  it('verify passes, then exits 1 naming a file altered in the storage', async () => {
    const ok = await run('model', 'verify', 'cancer', '1');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^ok: cancer version 1, 3 files/);
    const v = (await t.call({ method: 'GET', url: '/api/v1/workspaces/default/models/cancer/versions/1' })).json();
    const modelId = v.artifactUri.split('/').at(-2);
    writeFileSync(join(t.dataDir, 'artifacts', 'registry', 'default', modelId, '1', 'code', 'notes.txt'), 'tampered\n');
    const bad = await run('model', 'verify', 'cancer', '1');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /altered: code\/notes\.txt/);
    assert.match(bad.stderr, /does not match its digest: altered code\/notes\.txt/);
  });
});
