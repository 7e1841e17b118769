import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobWorker } from '../../../src/jobs/worker.js';
import type { PipelineScheduler } from '../../../src/jobs/pipelines/scheduler.js';
import { checkCron, matches, ticksBetween } from '../../../src/jobs/pipelines/cron.js';
import { principalWithToken, startTestApp, type TestApp } from '../../helpers/app.js';
import { logisticRegressionOnnx } from '../../helpers/onnx.js';
import { until } from '../../helpers/process.js';
import { drivers } from '../../helpers/stores.js';
import { churnCsv } from './fixtures.js';

const ws = '/api/v1/workspaces/default';

describe('cron expressions', () => {
  it('reads five fields with lists, ranges and steps, in a time zone', () => {
    const weekdays9 = checkCron('0 9 * * 1-5');
    assert.ok(matches(weekdays9, Date.parse('2026-01-05T08:00:00Z'), 'Europe/Paris'), 'Monday 09:00 in Paris in winter (UTC+1)');
    assert.ok(matches(weekdays9, Date.parse('2026-07-06T07:00:00Z'), 'Europe/Paris'), 'Monday 09:00 in Paris in summer (UTC+2)');
    assert.ok(!matches(weekdays9, Date.parse('2026-01-05T09:00:00Z'), 'Europe/Paris'));
    assert.ok(!matches(weekdays9, Date.parse('2026-01-04T08:00:00Z'), 'Europe/Paris'), 'Sunday');
    assert.deepEqual(ticksBetween(checkCron('*/15 * * * *'), 'UTC', Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-01-01T01:00:00Z')).map((t) => new Date(t).toISOString().slice(11, 16)), ['00:15', '00:30', '00:45', '01:00']);
    // Both day fields restricted: either matches (the 1st, or any Sunday).
    const c = checkCron('0 0 1 * 0');
    assert.ok(matches(c, Date.parse('2026-03-01T00:00:00Z'), 'UTC') && matches(c, Date.parse('2026-03-08T00:00:00Z'), 'UTC') && !matches(c, Date.parse('2026-03-09T00:00:00Z'), 'UTC'));
  });

  it('refuses malformed expressions naming the field', () => {
    assert.throws(() => checkCron('0 9 * *', 'triggers[0].schedule'), /triggers\[0\]\.schedule.*five fields/);
    assert.throws(() => checkCron('61 * * * *'), /minute '61' is outside 0-59/);
    assert.throws(() => checkCron('0 9 * * mon'), /'mon' is not a valid day of week/);
  });
});

for (const driver of drivers) {
  describe(`pipeline triggers and causes (${driver})`, () => {
    let t: TestApp;
    let worker: JobWorker;
    let scheduler: PipelineScheduler;
    const ok = async (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown, status = 200, token?: string) => {
      const r = await t.call({ method, url, payload: payload as object, token });
      assert.equal(r.statusCode, status, `${method} ${url}: ${r.body}`);
      return r.statusCode === 204 ? null : r.json();
    };
    const apply = (doc: object) => ok('POST', '/api/v1/apply', { documents: [{ kind: 'Pipeline', ...doc }] });
    const runs = async (name: string) => (await ok('GET', `${ws}/pipelines/${name}`)).runs as Array<{ id: number; state: string; startedBy: string; cause: Record<string, unknown> }>;
    const settle = (name: string, id: number) => until(`run ${id} final`, async () => {
      const r = await ok('GET', `${ws}/pipelines/${name}/runs/${id}`);
      return r.state !== 'running' && r;
    }, 60_000);
    const noop = [{ name: 'hello', uses: 'command', with: { command: ['true'] } }];

    before(async () => {
      t = await startTestApp(driver, { SLIPWAY_JOB_POLL_MS: '50', SLIPWAY_JOB_LEASE_MS: '3000', SLIPWAY_WORKER_DRAIN_MS: '300' });
      worker = t.platform.jobWorker({ log: (m) => process.stderr.write(`${m}\n`) });
      worker.start();
      // Advances runs on the real clock; the cron test drives its own schedulers on a fake one.
      scheduler = t.platform.pipelineScheduler({ log: (m) => process.stderr.write(`${m}\n`) });
      scheduler.start();
    });
    after(async () => {
      await scheduler.stop();
      await worker.stop();
      await t.close();
    });

    it('fires a cron tick once across schedulers, and records a tick that would overlap a running run as skipped', async () => {
      await apply({ name: 'nightly', triggers: [{ schedule: '0 2 * * *', timezone: 'America/New_York' }], steps: [{ name: 'wait', uses: 'command', with: { command: ['sleep', '30'], cache: false } }] });
      let now = Date.parse('2026-03-02T06:59:30Z'); // 01:59:30 in New York
      const clock = () => now;
      const a = t.platform.pipelineScheduler({ log: () => undefined, now: clock });
      const b = t.platform.pipelineScheduler({ log: () => undefined, now: clock });
      now += 60_000;
      await Promise.all([a.tick(), b.tick()]);
      let all = await runs('nightly');
      assert.equal(all.length, 1, JSON.stringify(all));
      assert.match(all[0].startedBy, /^schedule 0 2 \* \* \* \(America\/New_York\) at 2026-03-02T07:00:00.000Z$/);
      await until('sleep step running', async () => (await ok('GET', `${ws}/pipelines/nightly/runs/${all[0].id}`)).steps[0].state === 'running', 20_000);
      now += 86_400_000;
      await a.tick();
      all = await runs('nightly');
      assert.deepEqual(all.map((r) => r.state), ['skipped', 'running']);
      const jobId = (await ok('GET', `${ws}/pipelines/nightly/runs/${all[1].id}`)).steps[0].jobId;
      await ok('POST', `${ws}/jobs/${jobId}/cancel`, {});
      await a.tick();
      const ended = await settle('nightly', all[1].id);
      assert.equal(ended.state, 'failed');
      assert.match(ended.error, /step wait failed: cancelled by admin/);
      await ok('DELETE', `${ws}/pipelines/nightly`, undefined, 204);
    });

    it('cancelling a run cancels its running job and skips the steps not started', async () => {
      await apply({ name: 'slow', steps: [{ name: 'wait', uses: 'command', with: { command: ['sleep', '30'], cache: false } }, { name: 'after', uses: 'command', needs: ['wait'], with: { command: ['true'] } }] });
      const r = await ok('POST', `${ws}/pipelines/slow/runs`, {}, 201);
      const running = await until('wait running', async () => {
        const x = await ok('GET', `${ws}/pipelines/slow/runs/${r.id}`);
        return x.steps[0].state === 'running' && x;
      }, 20_000);
      const c = await ok('POST', `${ws}/pipelines/slow/runs/${r.id}/cancel`, { reason: 'wrong data' });
      assert.equal(c.state, 'cancelled');
      assert.equal(c.error, 'cancelled by admin: wrong data');
      assert.deepEqual(c.steps.map((x: { state: string }) => x.state), ['failed', 'skipped']);
      const job = await until('job cancelled', async () => {
        const j = await ok('GET', `${ws}/jobs/${running.steps[0].jobId}`);
        return j.state === 'cancelled' && j;
      }, 20_000);
      assert.match(job.error, /cancelled by admin: wrong data/);
      const again = await t.call({ method: 'POST', url: `${ws}/pipelines/slow/runs/${r.id}/cancel`, payload: {} });
      assert.equal(again.statusCode, 409, again.body);
    });

    it('a model version registered and a dataset version uploaded start the pipelines that name them', async () => {
      await apply({ name: 'on-model', triggers: [{ modelRegistered: 'scorer' }], steps: noop });
      await apply({ name: 'on-data', triggers: [{ datasetVersion: 'events' }], steps: noop });
      const up = await t.call({ method: 'POST', url: `${ws}/models/scorer/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(up.statusCode, 201, up.body);
      const d = await t.call({ method: 'POST', url: `${ws}/datasets/events/versions?filename=events.csv`, payload: 'a,b\n1,2\n', headers: { 'content-type': 'text/csv' } });
      assert.equal(d.statusCode, 201, d.body);
      const m = await until('model-triggered run', async () => (await runs('on-model'))[0], 10_000);
      assert.equal(m.startedBy, 'model registered scorer/1');
      assert.equal((await settle('on-model', m.id)).state, 'succeeded');
      const ds = await until('data-triggered run', async () => (await runs('on-data'))[0], 10_000);
      assert.equal(ds.startedBy, 'dataset events/1');
    });

    it('a pipeline does not trigger itself with the version its own train step registers; register links a run output', async () => {
      for (const name of ['loop-ref', 'loop']) {
        const r = await t.call({ method: 'POST', url: `${ws}/datasets/${name}/versions?filename=${name}.csv`, payload: churnCsv(60), headers: { 'content-type': 'text/csv' } });
        assert.equal(r.statusCode, 201, r.body);
      }
      await apply({
        name: 'self',
        triggers: [{ modelRegistered: 'loopy' }],
        steps: [
          { name: 'train', uses: 'train', with: { dataset: 'datasets:/loop/1', model: 'loopy', spec: { task: 'classification', algorithm: 'logistic_regression', features: ['x1', 'x2'], label: 'y' } } },
          { name: 'copy', uses: 'register', with: { model: 'loopy-copy', source: 'runs:/${{ steps.train.outputs.runId }}/model/model.onnx', dataset: 'datasets:/loop/1' } },
        ],
      });
      const first = await ok('POST', `${ws}/pipelines/self/runs`, {}, 201);
      const done = await settle('self', first.id);
      assert.equal(done.state, 'succeeded', JSON.stringify(done.steps));
      const copy = await ok('GET', `${ws}/models/loopy-copy/versions/1`);
      assert.equal(copy.runId, done.steps[0].outputs.runId, 'the copy is linked to the run that wrote the file');
      assert.ok(copy.tags.some((x: { key: string; value: string }) => x.key === 'slipway.source.dataset' && x.value === 'datasets:/loop/1'));
      await t.platform.pipelines.onModelRegistered('default', 'loopy', 1, done.steps[0].outputs.runId);
      assert.equal((await runs('self')).length, 1);

      // A cached result whose version was deleted since is made again.
      await ok('DELETE', `${ws}/models/loopy-copy/versions/1`, undefined, 204);
      const again = await settle('self', (await ok('POST', `${ws}/pipelines/self/runs`, {}, 201)).id);
      assert.deepEqual(again.steps.map((x: { state: string }) => x.state), ['cached', 'succeeded']);
      assert.equal(again.steps[1].outputs.model, 'models:/loopy-copy/2');
    });

    it("a command step's registered model output is named by later steps", async () => {
      const file = join(t.dataDir, 'made.onnx');
      writeFileSync(file, logisticRegressionOnnx());
      await apply({
        name: 'cmd',
        steps: [
          { name: 'make', uses: 'command', with: { command: ['cp', file, 'model.onnx'], outputs: { model: { path: 'model.onnx', model: 'made' } } } },
          { name: 'stage', uses: 'set-alias', with: { model: '${{ steps.make.outputs.model }}', alias: 'staging' } },
        ],
      });
      const r = await settle('cmd', (await ok('POST', `${ws}/pipelines/cmd/runs`, {}, 201)).id);
      assert.equal(r.state, 'succeeded', JSON.stringify(r.steps));
      assert.equal(r.steps[0].outputs.model, 'models:/made/1');
      assert.deepEqual((await ok('GET', `${ws}/models/made/versions/1`)).aliases, ['staging']);
    });

    it('regressors are evaluated with mae, rmse and r2; explicit ranges name the rows outside them', async () => {
      await apply({
        name: 'reg',
        steps: [
          { name: 'train', uses: 'train', with: { dataset: 'datasets:/loop/1', model: 'reg', spec: { task: 'regression', algorithm: 'linear_regression', features: ['x1'], label: 'x2' } } },
          { name: 'evaluate', uses: 'evaluate', with: { model: '${{ steps.train.outputs.model }}', dataset: 'datasets:/loop-ref/1' } },
          { name: 'gate', uses: 'compare', with: { candidate: '${{ steps.evaluate.outputs.model }}', metrics: { rmse: { max: 100 }, r2: { min: -10 } } } },
        ],
      });
      const r = await settle('reg', (await ok('POST', `${ws}/pipelines/reg/runs`, {}, 201)).id);
      assert.equal(r.state, 'succeeded', JSON.stringify(r.steps));
      for (const m of ['mae', 'rmse', 'r2']) assert.equal(typeof r.steps[1].outputs[m], 'number', m);
      assert.ok(r.steps[1].outputs.rmse > 0 && r.steps[1].outputs.rmse < 10);

      await apply({ name: 'ranges', steps: [{ name: 'check', uses: 'validate-data', with: { dataset: 'datasets:/loop/1', reference: 'datasets:/loop-ref/1', ranges: { x1: { max: 1 } } } }] });
      const v = await settle('ranges', (await ok('POST', `${ws}/pipelines/ranges/runs`, {}, 201)).id);
      assert.equal(v.state, 'failed');
      const rows = churnCsv(60).trim().split('\n').slice(1).map((l, i) => [i + 1, Number(l.split(',')[0])] as const).filter(([, x]) => x > 1).map(([i]) => i);
      assert.ok(rows.length > 20);
      assert.match(v.steps[0].error, new RegExp(`column 'x1' out of range \\[-inf, 1\\] in rows ${rows.slice(0, 20).join(', ')} and ${rows.length - 20} more`));
    });

    it('a run caused by an alert records it; readers may not start runs; unknown params are refused by name', async () => {
      const r = await ok('POST', `${ws}/pipelines/on-model/runs`, { cause: { kind: 'alert', id: 'A-17' } }, 201);
      assert.equal(r.startedBy, 'alert A-17');
      const reader = await principalWithToken(t, `rita-${driver}`);
      await ok('POST', `${ws}/roles`, { principal: `rita-${driver}`, role: 'reader' }, 204);
      await ok('POST', `${ws}/pipelines/on-model/runs`, {}, 403, reader);
      await ok('GET', `${ws}/pipelines/on-model`, undefined, 200, reader);
      const bad = await ok('POST', `${ws}/pipelines/on-model/runs`, { params: { nope: 1 } }, 400);
      assert.match(bad.detail, /params\.nope/);
      await apply({ name: 'typo', steps: [{ name: 'hello', uses: 'command', with: { command: 'echo hi' } }] });
      const typo = await settle('typo', (await ok('POST', `${ws}/pipelines/typo/runs`, {}, 201)).id);
      assert.equal(typo.state, 'failed');
      assert.match(typo.error, /step hello failed: .*steps\.hello\.with\.command.*array/);
    });
  });
}
