import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ServingStore } from '../../src/serving/store.js';
import { startCliTestApp, type CliTestApp } from '../helpers/app.js';
import { capturedRows } from './fixtures.js';

const ws = '/api/v1/workspaces/default';
const N = 200;

// The API runs on both drivers in monitors.test.ts; CLI processes cost a second each, so PGlite only.
describe('slipway monitor CLI and kind: Monitor', () => {
  let t: CliTestApp;
  const run = (...args: string[]) => t.cli(args);

  before(async () => {
    t = await startCliTestApp('pglite');
    // Reference: x = 0…199, colour a/b alternating. Captured traffic: x moved up by 100 (D = 0.5), colour unchanged.
    const csv = ['x,colour', ...Array.from({ length: N }, (_, i) => `${i},${i % 2 ? 'a' : 'b'}`)].join('\n') + '\n';
    assert.equal((await t.call({ method: 'POST', url: `${ws}/datasets/ref/versions?filename=ref.csv`, payload: csv, headers: { 'content-type': 'text/csv' } })).statusCode, 201);
    assert.equal((await t.call({ method: 'POST', url: `${ws}/endpoints`, payload: { name: 'ep' } })).statusCode, 201);
    const e = (await new ServingStore(t.platform.store.db).endpoint('ep'))!;
    const captures = capturedRows(Number(e.id), ['x', 'colour'], Array.from({ length: N }, (_, i) => [100 + i, i % 2 ? 'a' : 'b']), (i) => ({ y: [[i / N]] }));
    await t.platform.telemetry.sink.write({ captures, rollups: [], logs: [] });
  });
  after(() => t.close());

  it('creates, lists, runs (JSON and table) and shows a monitor', async () => {
    const c = await run('monitor', 'create', 'm1', '--endpoint', 'ep', '--reference', 'datasets:/ref/1', '--signals', 'data_drift,data_quality', '--schedule', '0 * * * *');
    assert.equal(c.code, 0, c.stderr);
    const bad = await run('monitor', 'create', 'm2', '--endpoint', 'ep', '--reference', 'ref');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /reference/);
    const ls = await run('monitor', 'ls');
    assert.match(ls.stdout, /m1 .*ep .*datasets:\/ref\/1 .*data_drift, data_quality .*1h .*0 \* \* \* \*/);
    const j = await run('monitor', 'run', 'm1', '--json');
    assert.equal(j.code, 0, j.stderr);
    const report = JSON.parse(j.stdout);
    const [x, colour] = report.signals.data_drift.features;
    assert.deepEqual(Object.keys(x).filter((k) => ['name', 'type', 'method', 'statistic', 'pValue', 'threshold', 'drifted'].includes(k)).sort(), ['drifted', 'method', 'name', 'pValue', 'statistic', 'threshold', 'type']);
    assert.deepEqual([x.name, x.type, x.method, x.drifted], ['x', 'numerical', 'ks', true]);
    assert.equal(x.statistic, 0.5);
    assert.deepEqual([colour.name, colour.type, colour.method, colour.drifted, colour.statistic], ['colour', 'categorical', 'chi_squared', false, 0]);
    assert.deepEqual(colour.histogram, { categories: ['b', 'a'], reference: [N / 2, N / 2], current: [N / 2, N / 2] });
    assert.equal(x.histogram.reference.length, 10);
    const table = await run('monitor', 'run', 'm1');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /1\/2 features drifted/);
    assert.match(table.stdout, /✗ .*│ x .*│ numerical .*│ ks .*│ 0\.5 /);
    assert.match(table.stdout, /[▁▂▃▄▅▆▇█]{10} → /);
    const show = await run('monitor', 'show', 'm1');
    assert.match(show.stdout, /alerting .*YES/);
  });

  it('takes a past production window as reference, and drift of the outputs', async () => {
    const c = await t.call({ method: 'POST', url: `${ws}/monitors`, payload: { name: 'm4', endpoint: 'ep', reference: 'production:1h..1s', signals: ['data_drift', 'prediction_drift'] } });
    assert.equal(c.statusCode, 201, c.body);
    const report = (await t.call({ method: 'POST', url: `${ws}/monitors/m4/runs`, payload: {} })).json();
    assert.match(report.reference.source, /^production:\S+\.\.\S+$/);
    assert.equal(report.reference.rows, N);
    // The same captures on both sides: nothing moved.
    const [y] = report.signals.prediction_drift.features;
    assert.deepEqual([y.name, y.type, y.method, y.statistic, y.pValue, y.drifted], ['y', 'numerical', 'ks', 0, 1, false]);
    assert.deepEqual(report.signals.data_drift.features.map((f: { name: string; type: string; drifted: boolean }) => [f.name, f.type, f.drifted]), [['x', 'numerical', false], ['colour', 'categorical', false]]);
  });

  it('applies kind: Monitor, a second apply changes nothing, export gives it back', async () => {
    const doc = { kind: 'Monitor', name: 'm3', endpoint: 'ep', reference: 'datasets:/ref/1', signals: ['data_drift'], methods: { numerical: 'wasserstein' }, window: '30m', schedule: '*/5 * * * *' };
    const apply = async () => {
      const r = await t.call({ method: 'POST', url: '/api/v1/apply', payload: { documents: [doc] } });
      assert.equal(r.statusCode, 200, r.body);
      return r.json().plan[0];
    };
    assert.equal((await apply()).action, 'create');
    assert.equal((await apply()).action, 'unchanged');
    doc.window = '2h';
    assert.deepEqual(await apply(), { kind: 'Monitor', workspace: 'default', name: 'm3', action: 'update', changes: ['window'] });
    const exported = (await t.call({ method: 'GET', url: '/api/v1/export' })).json().documents.filter((d: { kind: string }) => d.kind === 'Monitor');
    assert.deepEqual(exported.find((d: { name: string }) => d.name === 'm3'), { ...doc, workspace: 'default' });
    const report = (await t.call({ method: 'POST', url: `${ws}/monitors/m3/runs`, payload: {} })).json();
    assert.equal(report.signals.data_drift.features[0].method, 'wasserstein');
    const bad = await t.call({ method: 'POST', url: '/api/v1/apply', payload: { documents: [{ ...doc, signals: ['vibes'] }] } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /signals/);
  });
});
