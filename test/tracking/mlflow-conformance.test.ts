import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { drivers } from '../helpers/stores.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ml } from './helpers.js';

/**
 * Written from MLflow's REST API reference and service.proto: every tracking
 * endpoint, its status codes, body shapes and error codes.
 */
const RUN_ID = /^[0-9a-f]{32}$/;

function assertError(r: { statusCode: number; json(): { error_code: string; message: string } }, status: number, code: string) {
  assert.equal(r.statusCode, status, JSON.stringify(r.json()));
  assert.equal(r.json().error_code, code);
  assert.equal(typeof r.json().message, 'string');
}

for (const driver of drivers) {
  describe(`MLflow tracking conformance [${driver}]`, () => {
    let t: TestApp;
    let exp: string;
    let run: string;
    before(async () => {
      t = await startTestApp(driver);
    });
    after(() => t.close());

    it('has the Default experiment "0" in the default workspace', async () => {
      const r = await ml(t, 'GET', 'experiments/get', { experiment_id: '0' });
      assert.equal(r.statusCode, 200);
      const e = r.json().experiment;
      assert.equal(e.experiment_id, '0');
      assert.equal(e.name, 'Default');
      assert.equal(e.artifact_location, 'mlflow-artifacts:/0');
      assert.equal(e.lifecycle_stage, 'active');
      assert.equal(typeof e.creation_time, 'number');
    });

    it('experiments/create, get, get-by-name; duplicates and missing names', async () => {
      const c = await ml(t, 'POST', 'experiments/create', { name: 'conf-exp', tags: [{ key: 'team', value: 'probe' }] });
      assert.equal(c.statusCode, 200);
      assert.deepEqual(Object.keys(c.json()), ['experiment_id']);
      exp = c.json().experiment_id;
      assert.match(exp, /^\d+$/);

      const g = await ml(t, 'GET', 'experiments/get', { experiment_id: exp });
      assert.equal(g.statusCode, 200);
      const e = g.json().experiment;
      assert.deepEqual(Object.keys(e), ['experiment_id', 'name', 'artifact_location', 'lifecycle_stage', 'last_update_time', 'creation_time', 'tags']);
      assert.equal(e.artifact_location, `mlflow-artifacts:/${exp}`);
      assert.deepEqual(e.tags, [{ key: 'team', value: 'probe' }]);

      const byName = await ml(t, 'GET', 'experiments/get-by-name', { experiment_name: 'conf-exp' });
      assert.equal(byName.statusCode, 200);
      assert.equal(byName.json().experiment.experiment_id, exp);

      assertError(await ml(t, 'POST', 'experiments/create', { name: 'conf-exp' }), 400, 'RESOURCE_ALREADY_EXISTS');
      assertError(await ml(t, 'POST', 'experiments/create', {}), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'POST', 'experiments/create', { name: 'sneaky', artifact_location: 'mlflow-artifacts:/w/other/1' }), 400, 'INVALID_PARAMETER_VALUE');
      const external = await ml(t, 'POST', 'experiments/create', { name: 'external', artifact_location: 's3://bucket/exp' });
      assert.equal((await ml(t, 'GET', 'experiments/get', { experiment_id: external.json().experiment_id })).json().experiment.artifact_location, 's3://bucket/exp');
      assertError(await ml(t, 'GET', 'experiments/get-by-name', { experiment_name: 'nope' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      assertError(await ml(t, 'GET', 'experiments/get', { experiment_id: '999999' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      assertError(await ml(t, 'GET', 'experiments/get', { experiment_id: 'abc' }), 400, 'INVALID_PARAMETER_VALUE');
    });

    it('experiments/set-experiment-tag, update, delete, restore, delete-experiment-tag', async () => {
      assert.deepEqual((await ml(t, 'POST', 'experiments/set-experiment-tag', { experiment_id: exp, key: 'stage', value: 'acceptance' })).json(), {});
      const tmp = (await ml(t, 'POST', 'experiments/create', { name: 'conf-tmp' })).json().experiment_id;
      assertError(await ml(t, 'POST', 'experiments/update', { experiment_id: tmp, new_name: 'conf-exp' }), 400, 'RESOURCE_ALREADY_EXISTS');
      assert.equal((await ml(t, 'POST', 'experiments/update', { experiment_id: tmp, new_name: 'conf-renamed' })).statusCode, 200);
      assert.equal((await ml(t, 'GET', 'experiments/get', { experiment_id: tmp })).json().experiment.name, 'conf-renamed');
      assertError(await ml(t, 'POST', 'experiments/update', { experiment_id: '424242', new_name: 'x' }), 404, 'RESOURCE_DOES_NOT_EXIST');

      assert.deepEqual((await ml(t, 'POST', 'experiments/delete', { experiment_id: tmp })).json(), {});
      assert.equal((await ml(t, 'GET', 'experiments/get', { experiment_id: tmp })).json().experiment.lifecycle_stage, 'deleted');
      assertError(await ml(t, 'POST', 'experiments/delete', { experiment_id: tmp }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'POST', 'runs/create', { experiment_id: tmp }), 400, 'INVALID_PARAMETER_VALUE');
      assert.deepEqual((await ml(t, 'POST', 'experiments/restore', { experiment_id: tmp })).json(), {});
      assertError(await ml(t, 'POST', 'experiments/restore', { experiment_id: tmp }), 400, 'INVALID_PARAMETER_VALUE');

      assert.equal((await ml(t, 'POST', 'experiments/delete-experiment-tag', { experiment_id: exp, key: 'stage' })).statusCode, 200);
      assertError(await ml(t, 'POST', 'experiments/delete-experiment-tag', { experiment_id: exp, key: 'stage' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });

    it('experiments/search (POST and GET): filter, order_by, view_type, paging, max_results bounds', async () => {
      for (let i = 0; i < 3; i++) await ml(t, 'POST', 'experiments/create', { name: `page-${i}`, tags: [{ key: 'kind', value: 'paged' }] });
      const post = await ml(t, 'POST', 'experiments/search', { filter: "name LIKE 'page-%'", order_by: ['name ASC'], max_results: 2 });
      assert.equal(post.statusCode, 200);
      assert.deepEqual(post.json().experiments.map((e: { name: string }) => e.name), ['page-0', 'page-1']);
      const token = post.json().next_page_token;
      assert.equal(typeof token, 'string');
      const get = await ml(t, 'GET', 'experiments/search', { filter: "tags.kind = 'paged'", order_by: 'name ASC', max_results: 2, page_token: token });
      assert.equal(get.statusCode, 200);
      assert.deepEqual(get.json().experiments.map((e: { name: string }) => e.name), ['page-2']);
      assert.equal(get.json().next_page_token, undefined);

      await ml(t, 'POST', 'experiments/delete', { experiment_id: (await ml(t, 'GET', 'experiments/get-by-name', { experiment_name: 'page-2' })).json().experiment.experiment_id });
      const active = await ml(t, 'POST', 'experiments/search', { filter: "name LIKE 'page-%'" });
      assert.equal(active.json().experiments.length, 2);
      const deleted = await ml(t, 'POST', 'experiments/search', { filter: "name LIKE 'page-%'", view_type: 'DELETED_ONLY' });
      assert.deepEqual(deleted.json().experiments.map((e: { name: string }) => e.name), ['page-2']);
      assert.deepEqual((await ml(t, 'POST', 'experiments/search', { filter: "name = 'no-such'" })).json(), {});
      const all = await ml(t, 'POST', 'experiments/search', { filter: "name ILIKE 'PAGE-%'", view_type: 'ALL' });
      assert.equal(all.json().experiments.length, 3);
      const byNumber = await ml(t, 'GET', 'experiments/search', { filter: "name LIKE 'page-%'", view_type: 2 });
      assert.deepEqual(byNumber.json().experiments.map((e: { name: string }) => e.name), ['page-2'], 'view_type as the enum number');

      assertError(await ml(t, 'POST', 'experiments/search', { max_results: 50_001 }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'POST', 'experiments/search', { filter: 'name ~ 1' }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'POST', 'experiments/search', { page_token: 'garbage!' }), 400, 'INVALID_PARAMETER_VALUE');
    });

    it('runs/create: RunInfo shape, mlflow.runName, run ids of 32 hex', async () => {
      const r = await ml(t, 'POST', 'runs/create', { experiment_id: exp, user_id: 'unknown', run_name: 'run-x', start_time: 1795298649878, tags: [{ key: 'source', value: 'conf' }] });
      assert.equal(r.statusCode, 200);
      const info = r.json().run.info;
      run = info.run_id;
      assert.match(run, RUN_ID);
      assert.equal(info.run_uuid, run);
      assert.deepEqual(info, {
        run_uuid: run,
        experiment_id: exp,
        run_name: 'run-x',
        user_id: 'unknown',
        status: 'RUNNING',
        start_time: 1795298649878,
        artifact_uri: `mlflow-artifacts:/${exp}/${run}/artifacts`,
        lifecycle_stage: 'active',
        run_id: run,
      });
      assert.deepEqual(r.json().run.data.tags, [{ key: 'source', value: 'conf' }, { key: 'mlflow.runName', value: 'run-x' }]);

      const unnamed = (await ml(t, 'POST', 'runs/create', { experiment_id: exp })).json().run.info;
      assert.match(unnamed.run_name, /^[a-z]+-[a-z]+-\d+$/);
      const byTag = (await ml(t, 'POST', 'runs/create', { experiment_id: exp, tags: [{ key: 'mlflow.runName', value: 'tagged' }] })).json().run.info;
      assert.equal(byTag.run_name, 'tagged');
      assertError(await ml(t, 'POST', 'runs/create', { experiment_id: exp, run_name: 'a', tags: [{ key: 'mlflow.runName', value: 'b' }] }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'POST', 'runs/create', { experiment_id: '987654' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      // MLflow's client sends "0" when no experiment is set.
      assert.equal((await ml(t, 'POST', 'runs/create', {})).json().run.info.experiment_id, '0');
    });

    it('runs/log-metric, log-parameter, set-tag, delete-tag with run_id and run_uuid', async () => {
      const both = { run_id: run, run_uuid: run };
      assert.deepEqual((await ml(t, 'POST', 'runs/log-metric', { ...both, key: 'loss', value: 1.0, timestamp: 1795298650034, step: 0 })).json(), {});
      assert.equal((await ml(t, 'POST', 'runs/log-metric', { run_uuid: run, key: 'loss', value: 0.5, timestamp: '1795298650035', step: '1' })).statusCode, 200);
      assert.equal((await ml(t, 'POST', 'runs/log-metric', { run_id: run, key: 'nan', value: 'NaN', timestamp: 1 })).statusCode, 200);
      assert.equal((await ml(t, 'POST', 'runs/log-metric', { run_id: run, key: 'inf', value: 'Infinity', timestamp: 1 })).statusCode, 200);
      assert.equal((await ml(t, 'POST', 'runs/log-metric', { run_id: run, key: 'ninf', value: '-Infinity', timestamp: 1 })).statusCode, 200);
      assertError(await ml(t, 'POST', 'runs/log-metric', { run_id: run, key: 'loss', timestamp: 1 }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'POST', 'runs/log-metric', { run_id: run, key: 'loss', value: 'abc', timestamp: 1 }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'POST', 'runs/log-metric', { run_id: run, key: 'loss', value: 1 }), 400, 'INVALID_PARAMETER_VALUE');

      assert.deepEqual((await ml(t, 'POST', 'runs/log-parameter', { ...both, key: 'lr', value: '0.01' })).json(), {});
      assert.equal((await ml(t, 'POST', 'runs/log-parameter', { ...both, key: 'lr', value: '0.01' })).statusCode, 200, 'the same value again is fine');
      const changed = await ml(t, 'POST', 'runs/log-parameter', { ...both, key: 'lr', value: '0.02' });
      assertError(changed, 400, 'INVALID_PARAMETER_VALUE');
      assert.match(changed.json().message, /Changing param values is not allowed/);
      assertError(await ml(t, 'POST', 'runs/log-parameter', { ...both, key: '../x', value: '1' }), 400, 'INVALID_PARAMETER_VALUE');

      assert.deepEqual((await ml(t, 'POST', 'runs/set-tag', { ...both, key: 'phase', value: 'train' })).json(), {});
      assert.deepEqual((await ml(t, 'POST', 'runs/delete-tag', { run_id: run, key: 'phase' })).json(), {});
      assertError(await ml(t, 'POST', 'runs/delete-tag', { run_id: run, key: 'phase' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      assertError(await ml(t, 'POST', 'runs/log-metric', { run_id: 'f'.repeat(32), key: 'x', value: 1, timestamp: 1 }), 404, 'RESOURCE_DOES_NOT_EXIST');
      assertError(await ml(t, 'POST', 'runs/log-metric', { key: 'x', value: 1, timestamp: 1 }), 400, 'INVALID_PARAMETER_VALUE');
    });

    it('runs/log-batch: limits, duplicate params, one audit record per call', async () => {
      const metric = (i: number) => ({ key: 'val_loss', value: 1 / (i + 1), timestamp: 1795298650962 + i, step: i });
      const before = await t.platform.store.db.selectFrom('audit_log').select((eb) => eb.fn.countAll().as('n')).where('action', '=', 'tracking.write').executeTakeFirstOrThrow();
      const ok = await ml(t, 'POST', 'runs/log-batch', { run_id: run, metrics: [0, 1, 2].map(metric), params: [{ key: 'batch_size', value: '32' }], tags: [{ key: 'batched', value: 'yes' }] });
      assert.equal(ok.statusCode, 200);
      assert.deepEqual(ok.json(), {});
      const afterN = await t.platform.store.db.selectFrom('audit_log').select((eb) => eb.fn.countAll().as('n')).where('action', '=', 'tracking.write').executeTakeFirstOrThrow();
      assert.equal(Number(afterN.n) - Number(before.n), 1);

      const many = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: 'v' }));
      assertError(await ml(t, 'POST', 'runs/log-batch', { run_id: run, metrics: Array.from({ length: 1001 }, (_, i) => metric(i)) }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'POST', 'runs/log-batch', { run_id: run, params: many(101) }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'POST', 'runs/log-batch', { run_id: run, tags: many(101) }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'POST', 'runs/log-batch', { run_id: run, metrics: Array.from({ length: 950 }, (_, i) => metric(i)), params: many(60) }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'POST', 'runs/log-batch', { run_id: run, params: [{ key: 'd', value: '1' }, { key: 'd', value: '2' }] }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'POST', 'runs/log-batch', { run_id: run, params: [{ key: 'batch_size', value: '64' }] }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'POST', 'runs/log-batch', { run_id: run, metrics: 'nope' }), 400, 'INVALID_PARAMETER_VALUE');
    });

    it('runs/log-inputs and runs/log-model', async () => {
      const inputs = await ml(t, 'POST', 'runs/log-inputs', {
        run_id: run,
        datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset: { name: 'iris', digest: 'abc123', source_type: 'local', source: '{"uri": "/tmp/iris.csv"}', schema: '{}' } }],
      });
      assert.equal(inputs.statusCode, 200);
      assert.deepEqual(inputs.json(), {});
      assertError(await ml(t, 'POST', 'runs/log-inputs', { run_id: run, datasets: [{ dataset: { name: 'x' } }] }), 400, 'INVALID_PARAMETER_VALUE');

      const model = { run_id: run, artifact_path: 'model', utc_time_created: '2026-11-21 22:04:11.885080', flavors: { python_function: {} } };
      assert.deepEqual((await ml(t, 'POST', 'runs/log-model', { run_id: run, model_json: JSON.stringify(model) })).json(), {});
      assertError(await ml(t, 'POST', 'runs/log-model', { run_id: run, model_json: '{"artifact_path": "m"}' }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'POST', 'runs/log-model', { run_id: run, model_json: 'not json' }), 400, 'INVALID_PARAMETER_VALUE');
    });

    it('runs/get: latest metric per key, params, tags, inputs; NaN and ±Inf', async () => {
      const r = await ml(t, 'GET', 'runs/get', { run_uuid: run, run_id: run });
      assert.equal(r.statusCode, 200);
      const { info, data, inputs } = r.json().run;
      assert.equal(info.run_id, run);
      const metrics = Object.fromEntries(data.metrics.map((m: { key: string }) => [m.key, m]));
      assert.deepEqual(metrics.loss, { key: 'loss', value: 0.5, timestamp: 1795298650035, step: 1 });
      assert.equal(metrics.nan.value, 'NaN');
      assert.equal(metrics.inf.value, 1.7976931348623157e308);
      assert.equal(metrics.ninf.value, -1.7976931348623157e308);
      assert.equal(metrics.val_loss.step, 2);
      assert.deepEqual(data.params, [{ key: 'batch_size', value: '32' }, { key: 'lr', value: '0.01' }]);
      const tags = Object.fromEntries(data.tags.map((x: { key: string; value: string }) => [x.key, x.value]));
      assert.equal(tags.batched, 'yes');
      assert.equal(JSON.parse(tags['mlflow.log-model.history'])[0].artifact_path, 'model');
      assert.equal(inputs.dataset_inputs[0].dataset.name, 'iris');
      assert.deepEqual(inputs.dataset_inputs[0].tags, [{ key: 'mlflow.data.context', value: 'training' }]);

      const fresh = (await ml(t, 'POST', 'runs/create', { experiment_id: exp })).json().run.info.run_id;
      const empty = (await ml(t, 'GET', 'runs/get', { run_id: fresh })).json().run;
      assert.deepEqual(empty.inputs, {});
      assert.deepEqual(Object.keys(empty.data), ['tags']);
      assertError(await ml(t, 'GET', 'runs/get', { run_id: '0'.repeat(32) }), 404, 'RESOURCE_DOES_NOT_EXIST');
      assertError(await ml(t, 'GET', 'runs/get', {}), 400, 'INVALID_PARAMETER_VALUE');
    });

    it('runs/update: status, end_time, run_name; runs/delete and runs/restore', async () => {
      const u = await ml(t, 'POST', 'runs/update', { run_id: run, run_uuid: run, status: 'FINISHED', end_time: 1795298653252 });
      assert.equal(u.statusCode, 200);
      assert.equal(u.json().run_info.status, 'FINISHED');
      assert.equal(u.json().run_info.end_time, 1795298653252);
      const renamed = await ml(t, 'POST', 'runs/update', { run_id: run, run_name: 'run-y' });
      assert.equal(renamed.json().run_info.run_name, 'run-y');
      const tags = (await ml(t, 'GET', 'runs/get', { run_id: run })).json().run.data.tags;
      assert.ok(tags.some((x: { key: string; value: string }) => x.key === 'mlflow.runName' && x.value === 'run-y'));
      assertError(await ml(t, 'POST', 'runs/update', { run_id: run, status: 'SLEEPING' }), 400, 'INVALID_PARAMETER_VALUE');
      assert.equal((await ml(t, 'POST', 'runs/update', { run_id: run, status: 'RUNNING' })).json().run_info.status, 'RUNNING');

      const doomed = (await ml(t, 'POST', 'runs/create', { experiment_id: exp, run_name: 'doomed' })).json().run.info.run_id;
      assert.deepEqual((await ml(t, 'POST', 'runs/delete', { run_id: doomed })).json(), {});
      assert.equal((await ml(t, 'GET', 'runs/get', { run_id: doomed })).json().run.info.lifecycle_stage, 'deleted');
      assertError(await ml(t, 'POST', 'runs/log-metric', { run_id: doomed, key: 'x', value: 1, timestamp: 1 }), 400, 'INVALID_PARAMETER_VALUE');
      assert.deepEqual((await ml(t, 'POST', 'runs/restore', { run_id: doomed })).json(), {});
      assert.equal((await ml(t, 'GET', 'runs/get', { run_id: doomed })).json().run.info.lifecycle_stage, 'active');
      assertError(await ml(t, 'POST', 'runs/delete', { run_id: 'a'.repeat(32) }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });

    it('runs/search: filter grammar, order_by, view type, paging, bounds', async () => {
      const e = (await ml(t, 'POST', 'experiments/create', { name: 'search-exp' })).json().experiment_id;
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const id = (await ml(t, 'POST', 'runs/create', { experiment_id: e, run_name: `s${i}`, start_time: 1000 + i })).json().run.info.run_id;
        ids.push(id);
        await ml(t, 'POST', 'runs/log-batch', {
          run_id: id,
          metrics: [{ key: 'acc', value: i / 10, timestamp: 1, step: 0 }, ...(i === 3 ? [] : [{ key: 'my metric', value: i, timestamp: 1, step: 0 }])],
          params: [{ key: 'opt', value: i % 2 ? 'adam' : 'sgd' }],
          tags: [{ key: 'team-name', value: `Team${i}` }],
        });
      }
      const search = async (args: Record<string, unknown>) => {
        const r = await ml(t, 'POST', 'runs/search', { experiment_ids: [e], ...args });
        assert.equal(r.statusCode, 200, r.body);
        return r.json() as { runs?: Array<{ info: { run_name: string } }>; next_page_token?: string };
      };
      const names = (x: { runs?: Array<{ info: { run_name: string } }> }) => (x.runs ?? []).map((r) => r.info.run_name);

      assert.deepEqual(names(await search({})), ['s3', 's2', 's1', 's0'], 'default order: start_time DESC');
      assert.deepEqual(names(await search({ filter: "params.opt = 'adam'" })), ['s3', 's1']);
      assert.deepEqual(names(await search({ filter: "metrics.acc > 0.1 AND params.opt != 'adam'" })), ['s2']);
      assert.deepEqual(names(await search({ filter: 'metrics.acc >= 0.1 and metrics.acc <= 0.2' })), ['s2', 's1']);
      assert.deepEqual(names(await search({ filter: 'metrics.`my metric` < 1' })), ['s0']);
      assert.deepEqual(names(await search({ filter: "tags.`team-name` LIKE 'Team%' AND tags.\"team-name\" != 'Team0'" })), ['s3', 's2', 's1']);
      assert.deepEqual(names(await search({ filter: "tags.`team-name` ILIKE 'team2'" })), ['s2']);
      assert.deepEqual(names(await search({ filter: `attributes.run_id IN ('${ids[0]}', '${ids[2]}')` })), ['s2', 's0']);
      assert.deepEqual(names(await search({ filter: `attributes.run_id NOT IN ('${ids[0]}')` })), ['s3', 's2', 's1']);
      assert.deepEqual(names(await search({ filter: "attributes.run_name = 's1'" })), ['s1']);
      assert.deepEqual(names(await search({ filter: "attributes.status = 'RUNNING' and attributes.start_time > 1001" })), ['s3', 's2']);
      assert.deepEqual(names(await search({ order_by: ['metrics.acc DESC'] })), ['s3', 's2', 's1', 's0']);
      assert.deepEqual(names(await search({ order_by: ['metrics.`my metric` DESC'] })), ['s2', 's1', 's0', 's3'], 'missing values sort last');
      assert.deepEqual(names(await search({ order_by: ['attributes.start_time ASC'] })), ['s0', 's1', 's2', 's3']);
      assert.deepEqual(names(await search({ order_by: ['params.opt ASC', 'attributes.run_name DESC'] })), ['s3', 's1', 's2', 's0']);

      const p1 = await search({ max_results: 3, order_by: ['attributes.start_time ASC'] });
      assert.deepEqual(names(p1), ['s0', 's1', 's2']);
      const p2 = await search({ max_results: 3, order_by: ['attributes.start_time ASC'], page_token: p1.next_page_token });
      assert.deepEqual(names(p2), ['s3']);
      assert.equal(p2.next_page_token, undefined);

      await ml(t, 'POST', 'runs/delete', { run_id: ids[0] });
      assert.deepEqual(names(await search({ run_view_type: 'DELETED_ONLY' })), ['s0']);
      assert.equal(names(await search({ run_view_type: 'ALL' })).length, 4);
      assert.deepEqual(await search({ filter: "params.opt = 'none'" }), {});

      for (const filter of ['metrics.acc > "x"', "params.opt > 'a'", 'bogus.x = 1', "metrics.acc = 1 OR params.opt = 'a'", "params.opt = 'unterminated", 'attributes.nope = 1']) {
        assertError(await ml(t, 'POST', 'runs/search', { experiment_ids: [e], filter }), 400, 'INVALID_PARAMETER_VALUE');
      }
      assertError(await ml(t, 'POST', 'runs/search', { experiment_ids: [e], order_by: ['metrics.acc SIDEWAYS'] }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'POST', 'runs/search', { experiment_ids: [e], max_results: 50_001 }), 400, 'INVALID_PARAMETER_VALUE');
      assert.equal((await ml(t, 'POST', 'runs/search', { experiment_ids: [e], max_results: 50_000 })).statusCode, 200);
    });

    it('metrics/get-history with and without paging; get-history-bulk-interval', async () => {
      const r = await ml(t, 'POST', 'runs/create', { experiment_id: exp });
      const id = r.json().run.info.run_id;
      const points = Array.from({ length: 10 }, (_, i) => ({ key: 'h', value: i === 5 ? 'NaN' : i, timestamp: 100 + i, step: 9 - i }));
      await ml(t, 'POST', 'runs/log-batch', { run_id: id, metrics: points });
      const all = await ml(t, 'GET', 'metrics/get-history', { run_id: id, run_uuid: id, metric_key: 'h' });
      assert.equal(all.statusCode, 200);
      assert.deepEqual(all.json().metrics.map((m: { step: number }) => m.step), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.equal(all.json().metrics[4].value, 'NaN');
      assert.deepEqual(Object.keys(all.json().metrics[0]), ['key', 'value', 'timestamp', 'step']);
      assert.equal(all.json().next_page_token, undefined);

      const steps: number[] = [];
      let token: string | undefined;
      do {
        const page = await ml(t, 'GET', 'metrics/get-history', { run_id: id, metric_key: 'h', max_results: 3, ...(token ? { page_token: token } : {}) });
        assert.equal(page.statusCode, 200);
        steps.push(...page.json().metrics.map((m: { step: number }) => m.step));
        token = page.json().next_page_token;
      } while (token);
      assert.deepEqual(steps, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual((await ml(t, 'GET', 'metrics/get-history', { run_id: id, metric_key: 'none' })).json(), {});
      assertError(await ml(t, 'GET', 'metrics/get-history', { run_id: id }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'GET', 'metrics/get-history', { run_id: '1'.repeat(32), metric_key: 'h' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      assertError(await ml(t, 'GET', 'metrics/get-history', { run_id: id, metric_key: 'h', page_token: 'xyz' }), 400, 'INVALID_PARAMETER_VALUE');

      const bulk = await ml(t, 'GET', 'metrics/get-history-bulk-interval', { run_ids: [id, run], metric_key: 'h', start_step: 2, end_step: 7, max_results: 3 });
      assert.equal(bulk.statusCode, 200);
      const got = bulk.json().metrics as Array<{ step: number; run_id: string }>;
      assert.deepEqual(got.map((m) => m.step), [2, 5, 7], 'evenly sampled, first and last kept');
      assert.ok(got.every((m) => m.run_id === id));
      const full = (await ml(t, 'GET', 'metrics/get-history-bulk-interval', { run_ids: id, metric_key: 'h' })).json().metrics;
      assert.equal(full.length, 10);
      assertError(await ml(t, 'GET', 'metrics/get-history-bulk-interval', { metric_key: 'h' }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'GET', 'metrics/get-history-bulk-interval', { run_ids: id, metric_key: 'h', start_step: 3 }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'GET', 'metrics/get-history-bulk-interval', { run_ids: id, metric_key: 'h', start_step: 5, end_step: 1 }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'GET', 'metrics/get-history-bulk-interval', { run_ids: Array.from({ length: 101 }, () => id), metric_key: 'h' }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'GET', 'metrics/get-history-bulk-interval', { run_ids: '2'.repeat(32), metric_key: 'h' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });

    it('artifacts/list lists the run artifacts from the ArtifactStore', async () => {
      const base = `mlflow-artifacts/${exp}/${run}/artifacts`;
      await t.platform.artifacts.put(`${base}/notes.txt`, Buffer.from('hello artifact\n'));
      await t.platform.artifacts.put(`${base}/model/MLmodel`, Buffer.from('flavors: {}\n'));
      const root = await ml(t, 'GET', 'artifacts/list', { run_id: run });
      assert.equal(root.statusCode, 200);
      assert.deepEqual(root.json(), {
        root_uri: `mlflow-artifacts:/${exp}/${run}/artifacts`,
        files: [{ path: 'model', is_dir: true }, { path: 'notes.txt', is_dir: false, file_size: 15 }],
      });
      const sub = await ml(t, 'GET', 'artifacts/list', { run_uuid: run, path: 'model' });
      assert.deepEqual(sub.json().files, [{ path: 'model/MLmodel', is_dir: false, file_size: 12 }]);
      assertError(await ml(t, 'GET', 'artifacts/list', { run_id: run, path: '../../etc' }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'GET', 'artifacts/list', { run_id: '3'.repeat(32) }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });

    it('answers malformed input with 400 INVALID_PARAMETER_VALUE, never 5xx', async () => {
      const token = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const cases: Array<[string, Record<string, unknown>]> = [
        ['runs/log-batch', { run_id: run, metrics: [null] }],
        ['runs/log-batch', { run_id: run, metrics: [{ key: 'a', value: 1, timestamp: 1, step: 1.5 }] }],
        ['runs/log-batch', { run_id: run, metrics: [{ key: 'a', value: 1, timestamp: 1, step: '99999999999999999999' }] }],
        ['runs/log-batch', { run_id: run, params: [{ key: 'a', value: 5 }] }],
        ['runs/log-batch', { run_id: 5 }],
        ['runs/search', { experiment_ids: [{}] }],
        ['runs/search', { experiment_ids: ['0'], filter: 'attributes.start_time > 99999999999999999999999' }],
        ['runs/search', { experiment_ids: ['0'], page_token: token({ offset: 1e300 }) }],
        ['runs/search', { experiment_ids: ['0'], max_results: 0 }],
        ['runs/update', { run_id: run, end_time: 'soon' }],
        ['experiments/create', { name: 'x'.repeat(501) }],
      ];
      for (const [path, args] of cases) assertError(await ml(t, 'POST', path, args), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'GET', 'metrics/get-history', { run_id: run, metric_key: 'a', page_token: token({ s: 1e300, t: 2, v: 1 }) }), 400, 'INVALID_PARAMETER_VALUE');
      assertError(await ml(t, 'GET', 'artifacts/list', { run_id: run, path: '/etc' }), 400, 'INVALID_PARAMETER_VALUE');
    });

    it('serves the same API under /ajax-api', async () => {
      const r = await t.call({ method: 'GET', url: `/ajax-api/2.0/mlflow/runs/get?run_id=${run}` });
      assert.equal(r.statusCode, 200);
      assert.equal(r.json().run.info.run_id, run);
    });
  });
}
