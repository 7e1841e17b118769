import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drivers } from '../helpers/stores.js';
import { runCli } from '../helpers/process.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ml } from './helpers.js';

/** The built CLI as a child process against `url`, with its own config home. */
const cli = (url: string, token: string, home: string, args: string[]) =>
  runCli(args, { HOME: home, SLIPWAY_CONFIG: join(home, 'config.json'), SLIPWAY_URL: url, SLIPWAY_TOKEN: token });

for (const driver of drivers) {
  describe(`tracking: native /api/v1 and slipway run ls|show|compare [${driver}]`, () => {
    let t: TestApp;
    let url: string;
    let home: string;
    const runs: string[] = [];
    before(async () => {
      t = await startTestApp(driver);
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const addr = t.app.server.address();
      url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
      home = mkdtempSync(join(tmpdir(), 'slipway-cli-'));
      const exp = (await ml(t, 'POST', 'experiments/create', { name: 'native' })).json().experiment_id;
      for (const [name, lr, acc] of [['alpha', '0.1', 0.8], ['beta', '0.01', 0.9]] as const) {
        const id = (await ml(t, 'POST', 'runs/create', { experiment_id: exp, run_name: name })).json().run.info.run_id;
        await ml(t, 'POST', 'runs/log-batch', { run_id: id, params: [{ key: 'lr', value: lr }], metrics: [{ key: 'acc', value: acc, timestamp: 1, step: 3 }] });
        runs.push(id);
      }
      await ml(t, 'POST', 'runs/log-parameter', { run_id: runs[1], key: 'only_beta', value: 'yes' });
    });
    after(async () => {
      await t.close();
      rmSync(home, { recursive: true, force: true });
    });

    it('lists, shows and compares runs and experiments over /api/v1, described in OpenAPI', async () => {
      const list = await t.call({ method: 'GET', url: '/api/v1/workspaces/default/runs?experiment=native&orderBy=metrics.acc%20DESC' });
      assert.equal(list.statusCode, 200, list.body);
      assert.deepEqual(list.json().runs.map((r: { name: string }) => r.name), ['beta', 'alpha']);
      const show = await t.call({ method: 'GET', url: `/api/v1/workspaces/default/runs/${runs[0]}` });
      assert.equal(show.statusCode, 200);
      assert.deepEqual(show.json().params, { lr: '0.1' });
      assert.deepEqual(show.json().metrics.acc, { value: 0.8, step: 3, timestamp: 1 });
      const cmp = await t.call({ method: 'GET', url: `/api/v1/workspaces/default/runs/compare?run=${runs[0]}&run=${runs[1]}` });
      assert.equal(cmp.statusCode, 200);
      assert.deepEqual(cmp.json().params, [{ key: 'lr', values: ['0.1', '0.01'] }, { key: 'only_beta', values: [null, 'yes'] }]);
      assert.deepEqual(cmp.json().metrics, [{ key: 'acc', values: [0.8, 0.9] }]);
      const exps = await t.call({ method: 'GET', url: '/api/v1/workspaces/default/experiments' });
      assert.ok(exps.json().experiments.some((e: { name: string }) => e.name === 'native'));
      assert.equal((await t.call({ method: 'GET', url: '/api/v1/workspaces/default/experiments/native' })).json().name, 'native');
      assert.equal((await t.call({ method: 'GET', url: `/api/v1/workspaces/default/runs/${'9'.repeat(32)}` })).statusCode, 404);
      const bad = await t.call({ method: 'GET', url: "/api/v1/workspaces/default/runs?filter=metrics.acc%20%3E%20'x'" });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().code, 'invalid');
      const spec = (await t.call({ method: 'GET', url: '/api/v1/openapi.json' })).json();
      for (const p of ['/api/v1/workspaces/{ws}/runs', '/api/v1/workspaces/{ws}/runs/{runId}', '/api/v1/workspaces/{ws}/runs/compare', '/api/v1/workspaces/{ws}/experiments']) {
        assert.ok(spec.paths[p], `OpenAPI describes ${p}`);
      }
    });

    // The CLI only talks HTTP, so one driver covers it; its processes run in parallel to keep this quick.
    if (driver === 'pglite') {
      it('slipway run ls | show | compare print tables and JSON', async () => {
        const [ls, json, show, cmp, missing] = await Promise.all([
          cli(url, t.adminToken, home, ['run', 'ls', '--experiment', 'native', '--order-by', 'metrics.acc DESC']),
          cli(url, t.adminToken, home, ['--output', 'json', 'run', 'ls', '--filter', "params.lr = '0.1'"]),
          cli(url, t.adminToken, home, ['run', 'show', runs[1]]),
          cli(url, t.adminToken, home, ['run', 'compare', runs[0], runs[1]]),
          cli(url, t.adminToken, home, ['run', 'show', 'f'.repeat(32), '--workspace', 'default']),
        ]);
        assert.equal(ls.code, 0, ls.stderr);
        assert.match(ls.stdout, /beta[\s\S]*alpha/);
        assert.match(ls.stdout, /acc=0\.9/);
        assert.equal(json.code, 0, json.stderr);
        assert.deepEqual(JSON.parse(json.stdout).runs.map((r: { id: string }) => r.id), [runs[0]]);
        assert.equal(show.code, 0, show.stderr);
        assert.match(show.stdout, /only_beta/);
        assert.match(show.stdout, /0\.9 \(step 3\)/);
        assert.equal(cmp.code, 0, cmp.stderr);
        assert.match(cmp.stdout, /params\.lr\s*│\s*0\.1\s*│\s*0\.01/);
        assert.match(cmp.stdout, /metrics\.acc\s*│\s*0\.8\s*│\s*0\.9/);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /404 not_found/);
      });
    }
  });
}
