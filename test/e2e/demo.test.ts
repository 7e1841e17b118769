import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, runCli, until } from '../helpers/process.js';

const tmp = mkdtempSync(join(tmpdir(), 'slipway-e2e-demo-'));
const kept: Array<{ pid: number; dataDir: string; url?: string; token?: string; names?: DemoJson['names'] }> = [];
after(async () => {
  for (const p of kept) {
    try {
      process.kill(p.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    await until(`the kept platform (pid ${p.pid}) to stop`, async () => {
      try {
        process.kill(p.pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 30_000, 100).catch(() => process.kill(p.pid, 'SIGKILL'));
    rmSync(p.dataDir, { recursive: true, force: true });
  }
  rmSync(tmp, { recursive: true, force: true });
});

interface DemoJson {
  platform: { url: string; token: string; pid: number; dataDir: string };
  names: { dataset: string; model: string; pipeline: string; endpoint: string; rollout: string; monitor: string; rule: string };
  results: { alert?: { id?: string; skipped?: string } };
}

// No SLIPWAY_URL / SLIPWAY_TOKEN and an empty config dir: the demo starts its own platform.
const bare = () => {
  const env: Record<string, string> = { XDG_CONFIG_HOME: join(tmp, 'cfg'), SLIPWAY_URL: '', SLIPWAY_TOKEN: '' };
  return env;
};

describe('slipway demo', () => {
  it('says in one line what to do when the platform it is pointed at is not running', async () => {
    const r = await runCli(['demo'], { ...bare(), SLIPWAY_URL: `http://127.0.0.1:${await freePort()}`, SLIPWAY_TOKEN: 'slw_x' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: cannot reach Slipway at http:\/\/127\.0\.0\.1:\d+ \(from SLIPWAY_URL\): start it with `npm start`, or run `npx slipway demo --embedded`/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  it('runs the whole loop on an embedded platform in under 3 minutes, and each stage left its outcome in the API', async () => {
    const t0 = Date.now();
    const r = await runCli(['demo', '--keep', '-o', 'json'], bare());
    const tookMs = Date.now() - t0;
    // A failed demo still prints what it made, the kept platform too: stop it afterwards either way.
    const demo = JSON.parse(r.stdout || '{}') as DemoJson;
    if (demo.platform) kept.push({ ...demo.platform, names: demo.names });
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
    assert.ok(tookMs < 180_000, `took ${tookMs} ms`);
    assert.match(r.stderr, /\[1\/9\] start an embedded platform/);
    assert.match(r.stderr, /✓ \[9\/9\]|- \[9\/9\]/);

    const { url, token } = demo.platform;
    const n = demo.names;
    const ws = `${url}/api/v1/workspaces/default`;
    const get = async (path: string) => {
      const res = await fetch(ws + path, { headers: { authorization: `Bearer ${token}` } });
      const text = await res.text();
      assert.ok(res.ok, `GET ${path}: ${res.status} ${text}`);
      return JSON.parse(text);
    };

    // 1. the data set, from the npm package
    const ds = await get(`/datasets/${n.dataset}/versions/1`);
    assert.equal(ds.rowCount, 150);
    assert.deepEqual(ds.schema.columns.map((c: { name: string }) => c.name), ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'virginica']);

    // 2, 4. the training pipeline's runs, versions 1 and 2, @champion on the rolled-out one
    const pipeline = await get(`/pipelines/${n.pipeline}`);
    const runs = [...pipeline.runs].sort((a: { id: number }, b: { id: number }) => a.id - b.id);
    assert.deepEqual(runs.slice(0, 2).map((x: { state: string; startedBy: string }) => [x.state, x.startedBy]), [
      ['succeeded', 'manual by admin'],
      ['succeeded', 'manual by admin'],
    ]);
    const model = await get(`/models/${n.model}`);
    assert.deepEqual(model.aliases.find((a: { alias: string }) => a.alias === 'champion'), { alias: 'champion', version: 2 });
    for (const v of [1, 2]) assert.equal((await get(`/models/${n.model}/versions/${v}`)).status, 'READY');

    // 3, 5. the endpoint served traffic, and the rollout moved it to green
    const rollout = await get(`/rollouts/${n.rollout}`);
    assert.equal(rollout.state, 'succeeded', rollout.reason);
    assert.deepEqual(rollout.steps.map((s: { shadow?: number; traffic?: number }) => (s.shadow ? 'shadow' : 'traffic')), ['shadow', 'traffic']);
    const endpoint = await get(`/endpoints/${n.endpoint}`);
    assert.deepEqual(endpoint.traffic, { green: 100 });
    const minutes = (await get(`/endpoints/${n.endpoint}/metrics`)).minutes as Array<{ deployment: string; requests: number }>;
    const served = (d: string) => minutes.filter((m) => m.deployment === d).reduce((a, m) => a + m.requests, 0);
    assert.ok(served('blue') >= 20 && served('green') > 0, JSON.stringify(minutes));
    const history = (await get(`/endpoints/${n.endpoint}/history`)).history as Array<{ who: string }>;
    assert.ok(history.some((h) => h.who === `rollout:${n.rollout}`), JSON.stringify(history));

    // 6. the monitor's run flagged drift
    const monitorRuns = (await get(`/monitors/${n.monitor}/runs`)).runs as Array<{ alerting: boolean }>;
    assert.ok(monitorRuns.some((m) => m.alerting), JSON.stringify(monitorRuns));

    // 7. the alert fired with its runbook and started the retraining run
    const rules = await fetch(`${ws}/alert-rules`, { headers: { authorization: `Bearer ${token}` } });
    if (rules.status === 404) {
      assert.match(demo.results.alert?.skipped ?? '', /no alert rules/);
      return;
    }
    const alertId = demo.results.alert?.id;
    assert.ok(alertId, JSON.stringify(demo.results.alert));
    const alert = await get(`/alerts/${alertId}`);
    assert.equal(alert.rule, n.rule);
    assert.ok(['firing', 'acknowledged', 'resolved'].includes(alert.state), alert.state);
    assert.ok(alert.firedAt, 'the alert fired');
    assert.match(alert.runbook ?? '', /slipway monitor run/);
    const retrain = (await get(`/pipelines/${n.pipeline}`)).runs.find((x: { startedBy: string }) => x.startedBy === `alert ${alertId}`);
    assert.ok(retrain, 'a pipeline run caused by the alert');
    assert.equal(retrain.state, 'succeeded', retrain.error);
    assert.ok(alert.actions.some((a: { type: string; ok: boolean }) => a.type === 'run_pipeline' && a.ok), JSON.stringify(alert.actions));
  });

  it('runs again against that running platform (SLIPWAY_URL), under fresh names', async () => {
    assert.equal(kept.length, 1, 'the first test kept its platform');
    const first = kept[0];
    const r = await runCli(['demo', '-o', 'json'], { ...bare(), SLIPWAY_URL: first.url!, SLIPWAY_TOKEN: first.token! });
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
    const again = JSON.parse(r.stdout) as DemoJson;
    assert.equal(again.platform, undefined, 'no platform of its own');
    assert.notEqual(again.names.endpoint, first.names!.endpoint);
    assert.match(again.names.endpoint, /^iris-[0-9a-f]{4}$/);
    const res = await fetch(`${first.url}/api/v1/workspaces/default/rollouts/${again.names.rollout}`, { headers: { authorization: `Bearer ${first.token}` } });
    assert.equal(((await res.json()) as { state: string }).state, 'succeeded');
  });
});
