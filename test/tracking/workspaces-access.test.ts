import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { drivers } from '../helpers/stores.js';
import { principalWithToken, startTestApp, type TestApp } from '../helpers/app.js';
import { ml } from './helpers.js';

for (const driver of drivers) {
  describe(`tracking: workspace isolation and authorization [${driver}]`, () => {
    let t: TestApp;
    let reader: string;
    let contributor: string;
    let outsider: string;
    before(async () => {
      t = await startTestApp(driver);
      assert.equal((await t.call({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 'team', env: 'dev' } })).statusCode, 201);
      reader = await principalWithToken(t, 'rita');
      contributor = await principalWithToken(t, 'cora');
      outsider = await principalWithToken(t, 'olga');
      await t.call({ method: 'POST', url: '/api/v1/workspaces/default/roles', payload: { principal: 'rita', role: 'reader' } });
      await t.call({ method: 'POST', url: '/api/v1/workspaces/team/roles', payload: { principal: 'cora', role: 'contributor' } });
    });
    after(() => t.close());

    it('/w/<ws>/api/2.0/mlflow sees only its own experiments and runs', async () => {
      const team = { prefix: '/w/team' };
      const inTeam = (await ml(t, 'POST', 'experiments/create', { name: 'iso' }, team)).json().experiment_id;
      const inDefault = (await ml(t, 'POST', 'experiments/create', { name: 'iso' })).json().experiment_id;
      assert.notEqual(inTeam, inDefault, 'the same name may exist in two workspaces');

      const e = (await ml(t, 'GET', 'experiments/get', { experiment_id: inTeam }, team)).json().experiment;
      assert.equal(e.artifact_location, `mlflow-artifacts:/w/team/${inTeam}`);
      assert.equal((await ml(t, 'GET', 'experiments/get', { experiment_id: inTeam })).statusCode, 404);
      assert.equal((await ml(t, 'GET', 'experiments/get', { experiment_id: inDefault }, team)).statusCode, 404);
      assert.equal((await ml(t, 'GET', 'experiments/get-by-name', { experiment_name: 'iso' }, team)).json().experiment.experiment_id, inTeam);

      const names = async (opts: { prefix?: string }) =>
        ((await ml(t, 'POST', 'experiments/search', { view_type: 'ALL' }, opts)).json().experiments ?? []).map((x: { experiment_id: string }) => x.experiment_id);
      assert.deepEqual(await names(team), [inTeam]);
      assert.ok(!(await names({})).includes(inTeam));

      const run = (await ml(t, 'POST', 'runs/create', { experiment_id: inTeam }, team)).json().run.info;
      assert.equal(run.artifact_uri, `mlflow-artifacts:/w/team/${inTeam}/${run.run_id}/artifacts`);
      assert.equal((await ml(t, 'GET', 'runs/get', { run_id: run.run_id })).statusCode, 404);
      assert.equal((await ml(t, 'POST', 'runs/log-metric', { run_id: run.run_id, key: 'x', value: 1, timestamp: 1 })).statusCode, 404);
      assert.equal((await ml(t, 'POST', 'runs/create', { experiment_id: inDefault }, team)).statusCode, 404);
      const search = await ml(t, 'POST', 'runs/search', { experiment_ids: [inTeam] });
      assert.deepEqual(search.json(), {});
    });

    it('experiment "0" outside the default workspace is that workspace\'s own Default, created on first use', async () => {
      const team = { prefix: '/w/team' };
      const info = (await ml(t, 'POST', 'runs/create', { experiment_id: '0' }, team)).json().run.info;
      assert.notEqual(info.experiment_id, '0');
      const d = (await ml(t, 'GET', 'experiments/get', { experiment_id: '0' }, team)).json().experiment;
      assert.equal(d.name, 'Default');
      assert.equal(d.experiment_id, info.experiment_id);
      assert.equal((await ml(t, 'POST', 'runs/create', {}, team)).json().run.info.experiment_id, info.experiment_id);
    });

    it('answers RESOURCE_DOES_NOT_EXIST for an unknown workspace', async () => {
      const r = await ml(t, 'GET', 'experiments/get', { experiment_id: '0' }, { prefix: '/w/nowhere' });
      assert.equal(r.statusCode, 404);
      assert.equal(r.json().error_code, 'RESOURCE_DOES_NOT_EXIST');
    });

    it('readers read; a reader writing gets PERMISSION_DENIED 403 naming tracking.write', async () => {
      assert.equal((await ml(t, 'GET', 'experiments/get', { experiment_id: '0' }, { token: reader })).statusCode, 200);
      assert.equal((await ml(t, 'POST', 'runs/search', { experiment_ids: ['0'] }, { token: reader })).statusCode, 200);
      const run = (await ml(t, 'POST', 'runs/create', { experiment_id: '0' })).json().run.info.run_id;
      for (const [path, args] of [
        ['experiments/create', { name: 'by-reader' }],
        ['runs/create', { experiment_id: '0' }],
        ['runs/log-batch', { run_id: run, metrics: [{ key: 'm', value: 1, timestamp: 1 }] }],
        ['runs/log-parameter', { run_id: run, key: 'p', value: '1' }],
        ['runs/set-tag', { run_id: run, key: 't', value: '1' }],
        ['runs/update', { run_id: run, status: 'FINISHED' }],
        ['runs/delete', { run_id: run }],
        ['experiments/set-experiment-tag', { experiment_id: '0', key: 'k', value: 'v' }],
      ] as const) {
        const r = await ml(t, 'POST', path, args, { token: reader });
        assert.equal(r.statusCode, 403, path);
        assert.equal(r.json().error_code, 'PERMISSION_DENIED', path);
        assert.match(r.json().message, /tracking\.write/, path);
      }
      const denied = await t.platform.store.db.selectFrom('audit_log').select('action').where('outcome', '=', 'denied').where('principal', '=', 'rita').execute();
      assert.ok(denied.length >= 8, 'denials are audited');
    });

    it('contributors write in their workspace only; principals without a role cannot read', async () => {
      const team = { prefix: '/w/team', token: contributor };
      const e = await ml(t, 'POST', 'experiments/create', { name: 'cora-exp' }, team);
      assert.equal(e.statusCode, 200);
      const run = (await ml(t, 'POST', 'runs/create', { experiment_id: e.json().experiment_id }, team)).json().run.info.run_id;
      assert.equal((await ml(t, 'POST', 'runs/log-batch', { run_id: run, metrics: [{ key: 'm', value: 1, timestamp: 1 }] }, team)).statusCode, 200);
      assert.equal((await ml(t, 'POST', 'experiments/create', { name: 'cora-default' }, { token: contributor })).statusCode, 403);
      assert.equal((await ml(t, 'GET', 'experiments/get', { experiment_id: '0' }, { token: outsider })).statusCode, 403);
      const native = await t.call({ method: 'GET', url: '/api/v1/workspaces/team/runs', token: reader });
      assert.equal(native.statusCode, 403);
      assert.equal(native.json().code, 'forbidden');
    });
  });
}
