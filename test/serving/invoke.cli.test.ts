import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, until } from '../helpers/process.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { expectedOutput, linearOnnx, logisticRegressionOnnx } from '../helpers/onnx.js';

const ws = '/api/v1/workspaces/default';
const x = [
  [1, 2, 3, 4],
  [0.5, -1, 0, 2],
];
const logistic = expectedOutput(x, { sigmoid: true });
const linear = expectedOutput(x);

function close(actual: number[], expected: number[]) {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5, `${v} vs ${expected[i]} at ${i}`));
}

// The gateway itself is covered in test/gateway; this runs the built CLI against it (PGlite only).
describe('slipway endpoint invoke against a loopback server', () => {
  let t: TestApp;
  let url: string;
  let dir: string;
  let key: string;
  const env = () => ({ HOME: dir, SLIPWAY_CONFIG: join(dir, 'config.json'), SLIPWAY_URL: url, SLIPWAY_TOKEN: t.adminToken, SLIPWAY_ENDPOINT_KEY: '' });
  const run = (args: string[], extra: Record<string, string> = {}, input?: string) => runCli(args, { ...env(), ...extra }, { input });
  const ok = async (method: 'GET' | 'POST' | 'PUT', path: string, payload?: unknown) => {
    const r = await t.call({ method, url: path, payload: payload as object });
    assert.ok(r.statusCode < 300, `${method} ${path}: ${r.statusCode} ${r.body}`);
    return r.json();
  };

  before(async () => {
    t = await startTestApp('pglite');
    for (const model of [logisticRegressionOnnx(), linearOnnx()]) {
      const r = await t.call({ method: 'POST', url: `${ws}/models/lr/versions?filename=model.onnx`, payload: model, headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(r.statusCode, 201, r.body);
    }
    await ok('POST', `${ws}/endpoints`, { name: 'lr' });
    await ok('POST', `${ws}/endpoints/lr/deployments`, { name: 'blue', model: 'models:/lr/1' });
    await ok('POST', `${ws}/endpoints/lr/deployments`, { name: 'green', model: 'models:/lr/2' });
    await ok('PUT', `${ws}/endpoints/lr/traffic`, { traffic: { blue: 100 } });
    await ok('POST', `${ws}/endpoints`, { name: 'tok', auth: 'token' });
    await ok('POST', `${ws}/endpoints/tok/deployments`, { name: 'only', model: 'models:/lr/1' });
    await ok('PUT', `${ws}/endpoints/tok/traffic`, { traffic: { only: 100 } });
    key = (await ok('GET', `${ws}/endpoints/lr/keys`)).primary;
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    dir = mkdtempSync(join(tmpdir(), 'slipway-invoke-cli-'));
    const ready = (ep: string, d: string) => async () =>
      (await fetch(`${url}/v2/models/${ep}/ready`, { headers: { authorization: `Bearer ${ep === 'lr' ? key : t.adminToken}`, 'x-slipway-deployment': d } })).ok;
    for (const [ep, d] of [['lr', 'blue'], ['lr', 'green'], ['tok', 'only']]) await until(`${ep}/${d} ready`, ready(ep, d));
  });
  after(async () => {
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('converts a CSV file to dataframe_split and prints a table naming the deployment', async () => {
    const csv = join(dir, 'rows.csv');
    writeFileSync(csv, `a,b,c,d\n${x.map((r) => r.join(',')).join('\n')}\n`);
    const r = await run(['endpoint', 'invoke', 'lr', '-f', csv, '--key', key]);
    assert.equal(r.code, 0, r.stderr);
    const cells = [...r.stdout.matchAll(/│\s*(\d+)\s*│\s*([-\d.e]+)\s*│/g)].map((m) => [Number(m[1]), Number(m[2])]);
    assert.deepEqual(cells.map((c) => c[0]), [0, 1], r.stdout);
    close(cells.map((c) => c[1]), logistic);
    assert.match(r.stdout, /served by deployment blue\n$/);
  });

  it('sends JSON from stdin as is with the key from the environment; -o json prints the raw response', async () => {
    const body = JSON.stringify({ dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: x } });
    const r = await run(['endpoint', 'invoke', 'lr', '-o', 'json'], { SLIPWAY_ENDPOINT_KEY: key, SLIPWAY_TOKEN: 'swt_wrong' }, body);
    assert.equal(r.code, 0, r.stderr);
    close(JSON.parse(r.stdout).predictions.map((p: number[]) => p[0]), logistic);
    assert.match(r.stderr, /served by deployment blue/);
  });

  it('--deployment targets one deployment; an OIP body works too', async () => {
    const oip = join(dir, 'oip.json');
    writeFileSync(oip, JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: x.flat() }] }));
    const r = await run(['endpoint', 'invoke', 'lr', '-f', oip, '--key', key, '--deployment', 'green', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout).outputs[0];
    assert.deepEqual(out.shape, [2, 1]);
    close(out.data, linear);
    assert.match(r.stderr, /served by deployment green/);
    const table = await run(['endpoint', 'invoke', 'lr', '-f', oip, '--key', key, '--deployment', 'green']);
    assert.match(table.stdout, /│ row │ output\s+│/);
    assert.match(table.stdout, /│ 1\s+│ 4\.59999/);
  });

  it("uses the CLI's token for auth: token endpoints", async () => {
    const r = await run(['endpoint', 'invoke', 'tok', '-o', 'json'], {}, JSON.stringify({ instances: x }));
    assert.equal(r.code, 0, r.stderr);
    close(JSON.parse(r.stdout).predictions.map((p: number[]) => p[0]), logistic);
    assert.match(r.stderr, /served by deployment only/);
  });

  it('reports bad keys, bad JSON and ragged CSV clearly', async () => {
    const wrong = await run(['endpoint', 'invoke', 'lr', '--key', 'swk_nope'], {}, '{"instances": [[1,2,3,4]]}');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /401 unauthenticated: wrong key for endpoint 'lr'/);
    const noKey = await run(['endpoint', 'invoke', 'lr'], {}, '{"instances": [[1,2,3,4]]}');
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /401 unauthenticated: wrong key for endpoint 'lr'; an auth: key endpoint needs its key: --key KEY/);
    const notJson = await run(['endpoint', 'invoke', 'lr', '--key', key], {}, 'a,b\n1,2\n');
    assert.equal(notJson.code, 1);
    assert.match(notJson.stderr, /not JSON[^]*--format csv/);
    const ragged = await run(['endpoint', 'invoke', 'lr', '--key', key, '--format', 'csv'], {}, 'a,b,c,d\n1,2,3\n');
    assert.equal(ragged.code, 1);
    assert.match(ragged.stderr, /CSV row 2: expected 4 fields/);
  });
});
