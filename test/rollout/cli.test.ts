import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCliTestApp, type CliTestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';

const ws = '/api/v1/workspaces/default';

// The API underneath runs on both drivers in http.test.ts; CLI processes cost a second each, so PGlite only.
describe('slipway rollout CLI against a loopback server', () => {
  let t: CliTestApp;
  const run = (...args: string[]) => t.cli(args);

  before(async () => {
    t = await startCliTestApp('pglite');
    for (let i = 0; i < 2; i++) {
      const r = await t.call({ method: 'POST', url: `${ws}/models/clf/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(r.statusCode, 201, r.body);
    }
    for (const [u, payload] of [[`${ws}/endpoints`, { name: 'cancer' }], [`${ws}/endpoints/cancer/deployments`, { name: 'blue', model: 'models:/clf/1' }], [`${ws}/endpoints/cancer/deployments`, { name: 'green', model: 'models:/clf/2' }]] as const) {
      assert.equal((await t.call({ method: 'POST', url: u, payload })).statusCode, 201);
    }
    assert.equal((await t.call({ method: 'PUT', url: `${ws}/endpoints/cancer/traffic`, payload: { traffic: { blue: 100 } } })).statusCode, 200);
    for (const d of ['blue', 'green']) await t.platform.serving.deployments.setState('cancer', d, 'Ready');
  });
  after(() => t.close());

  it('starts with a compact plan and gates, shows the current step, pauses, aborts', async () => {
    const bad = await run('rollout', 'start', 'r1', '--endpoint', 'cancer', '--candidate', 'green', '--plan', 'shadow 20% soon');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /400 invalid: plan: step 1 'shadow 20% soon': unknown word 'soon'/);
    const s = await run('rollout', 'start', 'r1', '--endpoint', 'cancer', '--candidate', 'green', '--plan', 'shadow 20% 10m, canary 10% 5m, 50% 5m', '--max-error-rate', '0.05', '--min-agreement', '0.95');
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /blue → green/);
    assert.match(s.stdout, /▶ .*│ 1 .*shadow 20% for 10m.*maxErrorRate=0.05 minAgreement=0.95/);
    assert.match(s.stdout, /traffic 10% for 5m .*maxErrorRate=0.05 /);
    assert.match(s.stdout, /promote green to 100%/);
    const e = await run('endpoint', 'history', 'cancer');
    assert.match(e.stdout, /rollout r1 step 1\/3: shadow 20% for 10m/);
    const p = await run('rollout', 'pause', 'r1', '--reason', 'lunch');
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /paused/);
    const ls = await run('rollout', 'status');
    assert.match(ls.stdout, /r1 .*cancer .*blue → green .*paused .*1\/4/);
    const st = await run('rollout', 'status', 'r1', '--events', '-o', 'json');
    assert.deepEqual(JSON.parse(st.stdout).events.map((x: { kind: string }) => x.kind), ['created', 'started', 'step', 'paused']);
    const a = await run('rollout', 'abort', 'r1');
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /aborted/);
    const again = await run('rollout', 'resume', 'r1');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /409 conflict: rollout 'r1' is aborted/);
  });
});
