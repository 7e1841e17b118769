/**
 * The batch-score step while its attempt is stopped: waiting leaves no abort
 * listeners behind, a cancelled (or timed-out) step cancels its batch run,
 * and a lost lease leaves the run to the next attempt. Also: an endpoint
 * with an active run is not deleted, however many runs ended since.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import type { Ctx } from '../../src/access/principal.js';
import { batchScoreStep } from '../../src/jobs/steps/batch-score.js';
import type { StepDeps } from '../../src/jobs/steps/index.js';
import type { JobRow } from '../../src/jobs/tables.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { until } from '../helpers/process.js';
import { drivers } from '../helpers/stores.js';

const ws = '/api/v1/workspaces/default';

for (const driver of drivers) {
  describe(`batch-score step stopped mid-run (${driver})`, () => {
    let t: TestApp;
    let admin: Ctx;

    before(async () => {
      // No scorer runs here: a run the step starts stays queued for as long as the test needs.
      t = await startTestApp(driver);
      const m = await t.call({ method: 'POST', url: `${ws}/models/clf/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(m.statusCode, 201, m.body);
      const d = await t.call({ method: 'POST', url: `${ws}/datasets/rows/versions?filename=rows.csv`, payload: 'a,b,c,d\n1,2,3,4\n', headers: { 'content-type': 'text/csv' } });
      assert.equal(d.statusCode, 201, d.body);
      assert.equal((await t.call({ method: 'PUT', url: `${ws}/batch-endpoints/clf`, payload: { model: 'models:/clf/1' } })).statusCode, 200);
      admin = { principal: { ...(await t.platform.access.authz.authenticate(t.adminToken)) }, requestId: 'test' };
    });
    after(() => t?.close());

    const step = (jobId: number, signal: AbortSignal, lines: string[]) =>
      batchScoreStep({ deps: { batch: t.platform.batch } as unknown as StepDeps, ctx: admin, workspace: 'default', job: { id: jobId } as JobRow, with: { endpoint: 'clf', input: 'datasets:/rows/1' }, cwd: '', log: (l) => lines.push(l), signal });

    it('refuses features that are not a list of column names, naming with.features', async () => {
      const run = batchScoreStep({ deps: { batch: t.platform.batch } as unknown as StepDeps, ctx: admin, workspace: 'default', job: { id: 900_100 } as JobRow, with: { endpoint: 'clf', input: 'datasets:/rows/1', features: 'a,b' }, cwd: '', log: () => undefined, signal: new AbortController().signal });
      await assert.rejects(run, (e: Error & { issues?: Array<{ field: string }> }) => e.issues?.[0]?.field === 'with.features');
    });

    it('refuses deleting an endpoint whose active run is older than its 20 newest runs', async () => {
      assert.equal((await t.call({ method: 'PUT', url: `${ws}/batch-endpoints/busy`, payload: { model: 'models:/clf/1' } })).statusCode, 200);
      const start = async () => (await t.call({ method: 'POST', url: `${ws}/batch-endpoints/busy/runs`, payload: { input: 'datasets:/rows/1' } })).json() as { id: number };
      const oldest = await start();
      for (let i = 0; i < 21; i++) {
        const r = await start();
        assert.equal((await t.call({ method: 'POST', url: `${ws}/batch-endpoints/busy/runs/${r.id}/cancel` })).statusCode, 200);
      }
      const del = await t.call({ method: 'DELETE', url: `${ws}/batch-endpoints/busy` });
      assert.equal(del.statusCode, 409, del.body);
      assert.match(del.body, new RegExp(`active runs \\(${oldest.id}\\)`));
    });

    for (const [reason, jobId, final] of [['cancelled', 900_001, 'cancelled'], ['timeout', 900_002, 'cancelled'], ['lost', 900_003, 'queued']] as const) {
      it(`${reason}: the run ends ${final}, and no abort listener piles up while it waits`, async () => {
        const stop = new AbortController();
        const lines: string[] = [];
        const done = step(jobId, stop.signal, lines);
        const run = await until('the step started its run', () => t.platform.batch.runOfJob(jobId).then((r) => r ?? false), 10_000, 20);
        // Several polls go by (250 ms each) with one listener at most.
        const waitedUntil = Date.now() + 1200;
        await until('a few polls', async () => {
          assert.ok(getEventListeners(stop.signal, 'abort').length <= 1, `${getEventListeners(stop.signal, 'abort').length} abort listeners`);
          return Date.now() > waitedUntil;
        }, 5_000, 50);
        stop.abort(reason);
        assert.deepEqual(await done, {});
        assert.equal((await t.platform.batch.runOfJob(jobId))?.state, final);
        assert.equal(run.state, 'queued');
        if (final === 'cancelled') assert.ok(lines.some((l) => l.includes(`batch run ${run.id} cancelled with its step (${reason})`)), lines.join('\n'));
      });
    }
  });
}
