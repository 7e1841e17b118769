/**
 * A run cancelled while a worker is still planning it: the planner goes on
 * staging mini-batches until it sees its lease gone; none of their input rows
 * may stay in the store after it stops (the run's input would stay copied there).
 * A scorer that stops mid-plan hands the run back for another to plan at once.
 */
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { until } from '../helpers/process.js';
import { drivers } from '../helpers/stores.js';

const ws = '/api/v1/workspaces/default';
const ROWS = 20_000;

for (const driver of drivers) {
  describe(`batch run cancelled during planning (${driver})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(driver, { SLIPWAY_JOB_LEASE_MS: '300', SLIPWAY_JOB_POLL_MS: '20', SLIPWAY_WORKER_SLOTS: '1' });
      const m = await t.call({ method: 'POST', url: `${ws}/models/clf/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(m.statusCode, 201, m.body);
      const csv = ['a,b,c,d', ...Array.from({ length: ROWS }, (_, i) => `${i % 7},${i % 5},${i % 3},${i % 2}`)].join('\n') + '\n';
      const d = await t.call({ method: 'POST', url: `${ws}/datasets/many/versions?filename=many.csv`, payload: csv, headers: { 'content-type': 'text/csv' } });
      assert.equal(d.statusCode, 201, d.body);
      assert.equal((await t.call({ method: 'PUT', url: `${ws}/batch-endpoints/clf`, payload: { model: 'models:/clf/1', miniBatchRows: 5 } })).statusCode, 200);
    });
    after(() => t?.close());

    it('leaves no staged rows behind', async () => {
      const db = t.platform.store.db;
      const count = async (id: number, staged = false) =>
        Number((await sql<{ n: number }>`select count(*)::int as n from batch_minibatches where run_id = ${id} ${staged ? sql`and input is not null` : sql``}`.execute(db)).rows[0].n);
      const r = await t.call({ method: 'POST', url: `${ws}/batch-endpoints/clf/runs`, payload: { input: 'datasets:/many/1' } });
      assert.equal(r.statusCode, 201, r.body);
      const id = (r.json() as { id: number }).id;
      const scorer = t.platform.batchScorer({ log: () => undefined });
      scorer.start();
      try {
        await until('planning under way', async () => (await count(id)) > 0, 20_000, 5);
        const c = await t.call({ method: 'POST', url: `${ws}/batch-endpoints/clf/runs/${id}/cancel` });
        assert.equal(c.statusCode, 200, c.body);
        const atCancel = await count(id);
        assert.ok(atCancel < ROWS / 5, 'cancelled before planning ended');
      } finally {
        // Waits for the planner, which stops once a heartbeat finds its lease gone.
        await scorer.stop();
      }
      assert.equal(await count(id, true), 0, 'mini-batches still holding input rows');
    });

    it('stops planning when the scorer stops, and another scorer plans the run afresh at once', async () => {
      const db = t.platform.store.db;
      const state = async (id: number) => (await sql<{ state: string; lease_owner: string | null; total_rows: number | null; n: number }>`
        select r.state, r.lease_owner, r.total_rows, (select count(*)::int from batch_minibatches m where m.run_id = r.id) as n from batch_runs r where r.id = ${id}`.execute(db)).rows[0];
      const r = await t.call({ method: 'POST', url: `${ws}/batch-endpoints/clf/runs`, payload: { input: 'datasets:/many/1' } });
      assert.equal(r.statusCode, 201, r.body);
      const id = (r.json() as { id: number }).id;
      const first = t.platform.batchScorer({ log: () => undefined });
      first.start();
      await until('planning under way', async () => (await state(id)).n > 0, 20_000, 5);
      await first.stop();
      const stopped = await state(id);
      assert.equal(stopped.state, 'queued');
      assert.ok(stopped.n < ROWS / 5, `planning ran to its end (${stopped.n} mini-batches) before the scorer stopped`);
      assert.equal(stopped.lease_owner, null, 'the run handed back');
      const second = t.platform.batchScorer({ log: () => undefined });
      second.start();
      try {
        const planned = await until('planned again', async () => {
          const s = await state(id);
          return s.state === 'running' && s;
        }, 60_000, 20);
        assert.equal(Number(planned.total_rows), ROWS);
        assert.equal(planned.n, ROWS / 5);
        assert.equal((await t.call({ method: 'POST', url: `${ws}/batch-endpoints/clf/runs/${id}/cancel` })).statusCode, 200);
      } finally {
        await second.stop();
      }
    });
  });
}
