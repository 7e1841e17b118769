/**
 * `slipway alert …` as a process, and the Prometheus export loaded by
 * promtool (Debian's prometheus package): `check rules` accepts the file and
 * `test rules` shows the exported error-rate rule firing on a 20% 5xx series.
 * CLI processes cost a second each: PGlite only (the API runs on both drivers
 * in states.test.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { ServingStore } from '../../src/serving/store.js';
import { bucketStart, emptyWindow } from '../../src/telemetry/windows.js';
import { startCliTestApp, type CliTestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';

const ws = '/api/v1/workspaces/default';
const PROMTOOL = '/usr/bin/promtool';

describe('slipway alert CLI and the Prometheus export', () => {
  let t: CliTestApp;
  const ok = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => {
    const r = await t.call({ method, url, payload });
    assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json();
  };
  const cli = async (...args: string[]) => {
    const r = await t.cli(args);
    assert.equal(r.code, 0, `slipway ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    t = await startCliTestApp('pglite');
    assert.equal((await t.call({ method: 'POST', url: `${ws}/models/lr/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } })).statusCode, 201);
    await ok('POST', `${ws}/endpoints`, { name: 'shop', rateLimit: { rps: 100, burst: 10 } });
    await ok('POST', `${ws}/endpoints/shop/deployments`, { name: 'blue', model: 'models:/lr/1' });
    await ok('POST', `${ws}/alert-channels`, { name: 'oncall', type: 'slack', url: 'http://127.0.0.1:9/slack' });
    const rule = (name: string, source: object, condition?: object, extra: object = {}) => ok('POST', `${ws}/alert-rules`, { name, source, condition, window: '5m', ...extra });
    await rule('shop-errors', { endpoint: 'shop', metric: 'error_rate' }, { op: '>', threshold: 0.1 }, { for: '1m', severity: 'critical', labels: { team: 'serving' }, runbook: 'Roll back: slipway endpoint traffic shop blue=100', channels: ['oncall'] });
    await rule('shop-4xx', { endpoint: 'shop', deployment: 'blue', metric: 'client_error_rate' }, { op: '>=', threshold: 0.5 });
    await rule('shop-rpm', { endpoint: 'shop', metric: 'requests_per_minute' }, { op: '<', threshold: 1 });
    await rule('shop-p95', { endpoint: 'shop', metric: 'p95_ms' }, { op: '>', threshold: 250 });
    await rule('shop-p99-blue', { endpoint: 'shop', deployment: 'blue', metric: 'p99_ms' }, { op: '>', threshold: 500 });
    await rule('shop-throttled', { endpoint: 'shop', metric: 'throttled' }, { op: '>', threshold: 10 });
    await rule('shop-idle', { endpoint: 'shop', metric: 'no_traffic' }, undefined, { window: '1h' });
    await rule('jobs-failing', { jobs: 'failed' });
    // One firing alert to list, show, acknowledge.
    const e = (await new ServingStore(t.platform.store.db).endpoint('shop'))!;
    await t.platform.telemetry.sink.write({ captures: [], rollups: [], logs: [], windows: [{ ...emptyWindow(Number(e.id), 'blue', bucketStart(Date.now())), requests: 10, errors5xx: 5 }] });
    let clock = Date.now() + 1000;
    const ev = t.platform.alertEvaluator({ now: () => clock });
    await ev.tick();
    clock += 61_000; // past the rule's `for`
    await ev.tick();
  });
  after(() => t.close());

  it('lists rules and alerts, shows, acknowledges, silences and resolves', async () => {
    const rules = await cli('alert', 'rule', 'ls');
    assert.match(rules, /shop-errors .*shop error_rate .*> 0\.1 .*5m .*1m .*critical .*oncall/);
    assert.match(rules, /jobs-failing .*jobs failed/);
    const ls = await cli('alert', 'ls');
    assert.match(ls, /firing .*critical .*shop-errors .*shop: 5xx rate 0\.5 over 5m \(alert when > 0\.1\)/);
    const [a] = JSON.parse(await cli('alert', 'ls', '--rule', 'shop-errors', '-o', 'json')).alerts;
    const show = await cli('alert', 'show', String(a.id));
    assert.match(show, /Runbook:\nRoll back: slipway endpoint traffic shop blue=100/);
    assert.match(await cli('alert', 'ack', String(a.id), '--comment', 'on it'), /acknowledged/);
    const again = await t.cli(['alert', 'ack', String(a.id)]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /only a firing alert/);
    assert.match(await cli('alert', 'silence', '--label', 'team=serving', '--for', '2h', '--comment', 'deploy window'), /team.*serving/);
    assert.match(await cli('alert', 'silences'), /team=serving .*deploy window .*admin .*true/);
    const bad = await t.cli(['alert', 'silence', '--rule', 'x']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /until/);
    assert.match(await cli('alert', 'ls', '--state', 'open'), /acknowledged \(silenced\)/);
    assert.match(await cli('alert', 'resolve', String(a.id), '--comment', 'upstream fixed'), /resolved/);
  });

  it('exports Prometheus rules that promtool accepts and that fire on a 20% 5xx rate', async () => {
    const file = join(t.home, 'rules.yml');
    await cli('alert', 'export', '--format', 'prometheus', '-f', file);
    const doc = parse(readFileSync(file, 'utf8'));
    assert.equal(doc.groups[0].name, 'slipway-default');
    assert.deepEqual(doc.groups[0].rules.map((r: { alert: string }) => r.alert), ['jobs-failing', 'shop-4xx', 'shop-errors', 'shop-idle', 'shop-p95', 'shop-p99-blue', 'shop-rpm', 'shop-throttled'].filter((n) => n !== 'jobs-failing'));
    const check = spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /SUCCESS: 7 rules found/);

    // Every minute 8 answers 200 and 2 answer 500 (20%): shop-errors fires after its `for`; the others stay quiet or not, but no error.
    const test = {
      rule_files: [file],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: 'slipway_endpoint_requests_total{endpoint="shop",deployment="blue",status="200"}', values: '0+8x20' },
            { series: 'slipway_endpoint_requests_total{endpoint="shop",deployment="blue",status="500"}', values: '0+2x20' },
          ],
          alert_rule_test: [
            { eval_time: '10m', alertname: 'shop-errors', exp_alerts: [{ exp_labels: { severity: 'critical', team: 'serving', workspace: 'default' }, exp_annotations: { summary: 'Slipway alert rule shop-errors (default)', runbook: 'Roll back: slipway endpoint traffic shop blue=100' } }] },
            { eval_time: '10m', alertname: 'shop-idle', exp_alerts: [] },
          ],
        },
      ],
    };
    const testFile = join(t.home, 'rules.test.yml');
    writeFileSync(testFile, JSON.stringify(test));
    const run = spawnSync(PROMTOOL, ['test', 'rules', testFile], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stdout + run.stderr);
  });
});
