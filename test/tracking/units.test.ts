import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemCtx } from '../../src/access/principal.js';
import { artifactKey, artifactScope, experimentArtifactLocation } from '../../src/tracking/artifacts.js';
import { parseFilter, parseOrderBy } from '../../src/tracking/filter.js';
import { latestByKey, numberArray, textArray } from '../../src/tracking/store.metrics.js';
import { sampleSteps } from '../../src/tracking/runs.read.js';
import { drivers } from '../helpers/stores.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

describe('tracking: filter grammar', () => {
  it('parses prefixes, quoting, comparators and literals', () => {
    assert.deepEqual(parseFilter("metrics.acc >= 0.9 and params.`my key` = 'a' AND tags.\"t-1\" LIKE 'x%'"), [
      { entity: 'metric', key: 'acc', op: '>=', value: 0.9 },
      { entity: 'param', key: 'my key', op: '=', value: 'a' },
      { entity: 'tag', key: 't-1', op: 'LIKE', value: 'x%' },
    ]);
    assert.deepEqual(parseFilter("attributes.run_id NOT IN ('a', \"b\")"), [{ entity: 'attribute', key: 'run_id', op: 'NOT IN', value: ['a', 'b'] }]);
    assert.deepEqual(parseFilter('metrics.loss < -1.5e-3'), [{ entity: 'metric', key: 'loss', op: '<', value: -0.0015 }]);
    assert.deepEqual(parseFilter("name ILIKE 'it''s'"), [{ entity: 'attribute', key: 'name', op: 'ILIKE', value: "it's" }]);
    assert.deepEqual(parseFilter('tags.x IS NOT NULL'), [{ entity: 'tag', key: 'x', op: 'IS NOT NULL', value: null }]);
    assert.deepEqual(parseFilter('metrics.a.b <> 1'), [{ entity: 'metric', key: 'a.b', op: '!=', value: 1 }]);
    assert.deepEqual(parseFilter('  '), []);
  });

  it('rejects what MLflow rejects, naming the filter field', () => {
    for (const bad of ["metrics.a = 1 OR metrics.b = 2", 'foo.x = 1', "params.a = 'x", 'metrics.a =', 'metrics.a ~ 1', "attributes.run_id IN 'a'"]) {
      assert.throws(() => parseFilter(bad), (e: { code: string; issues: Array<{ field: string }> }) => e.code === 'invalid' && e.issues[0].field === 'filter', bad);
    }
  });

  it('parses order_by terms', () => {
    assert.deepEqual(parseOrderBy(['metrics.acc DESC', 'attributes.start_time', 'params.`a b` asc']), [
      { entity: 'metric', key: 'acc', desc: true },
      { entity: 'attribute', key: 'start_time', desc: false },
      { entity: 'param', key: 'a b', desc: false },
    ]);
    assert.throws(() => parseOrderBy(['metrics.acc DESC extra']));
  });
});

describe('tracking: small pure pieces', () => {
  it('builds PostgreSQL array literals', () => {
    assert.equal(numberArray([1, -2.5, NaN, 1.7976931348623157e308]), '{1,-2.5,NaN,1.7976931348623157e+308}');
    assert.equal(textArray(['a b', 'q"x', 'b\\s']), '{"a b","q\\"x","b\\\\s"}');
  });

  it('picks the latest point per key by step, timestamp, value (NaN highest)', () => {
    const l = latestByKey([
      { key: 'a', value: 1, timestamp: 5, step: 2 },
      { key: 'a', value: 0, timestamp: 1, step: 3 },
      { key: 'b', value: 1, timestamp: 1, step: 0 },
      { key: 'b', value: NaN, timestamp: 1, step: 0 },
    ]);
    assert.deepEqual(l.map((m) => [m.key, m.step, m.value]), [['a', 3, 0], ['b', 0, NaN]]);
  });

  it('samples steps evenly, keeping the ends', () => {
    assert.deepEqual(sampleSteps([1, 2, 3], 5), [1, 2, 3]);
    assert.deepEqual(sampleSteps([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3), [0, 5, 10]);
  });

  it('maps artifact paths to their workspace, experiment and run', () => {
    const run = 'a'.repeat(32);
    assert.equal(experimentArtifactLocation('default', 7), 'mlflow-artifacts:/7');
    assert.equal(experimentArtifactLocation('team', 7), 'mlflow-artifacts:/w/team/7');
    assert.deepEqual(artifactScope(`7/${run}/artifacts/model/MLmodel`), { workspace: 'default', experimentId: '7', runId: run, path: `7/${run}/artifacts/model/MLmodel`, key: `mlflow-artifacts/7/${run}/artifacts/model/MLmodel` });
    assert.deepEqual(artifactScope('w/team/9/x'), { workspace: 'team', experimentId: '9', runId: undefined, path: 'w/team/9/x', key: 'mlflow-artifacts/w/team/9/x' });
    assert.equal(artifactScope('registry/m/1'), null);
    assert.equal(artifactScope('w/team'), null);
    assert.throws(() => artifactScope('7/../../etc/passwd'), (e: { code: string }) => e.code === 'invalid');
    assert.equal(artifactKey(''), 'mlflow-artifacts');
  });
});

for (const driver of drivers) {
  describe(`tracking: experiment lookup for the artifact proxy [${driver}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(driver);
    });
    after(() => t.close());

    it('says whether a workspace holds an experiment', async () => {
      const ctx = systemCtx('test');
      await t.call({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 'other', env: 'dev' } });
      const id = await t.platform.tracking.experiments.create(ctx, 'other', { name: 'x' });
      assert.equal(await t.platform.tracking.experiments.exists(ctx, 'other', id), true);
      assert.equal(await t.platform.tracking.experiments.exists(ctx, 'default', id), false);
      assert.equal(await t.platform.tracking.experiments.exists(ctx, 'default', '0'), true);
      assert.equal(await t.platform.tracking.experiments.exists(ctx, 'default', 'nope'), false);
    });
  });
}
