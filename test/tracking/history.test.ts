import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { drivers } from '../helpers/stores.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ml } from './helpers.js';

const POINTS = 100_000;
const BATCH = 1000;

for (const driver of drivers) {
  describe(`tracking: a 100 000-point metric through log-batch and paged get-history [${driver}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(driver);
    });
    after(() => t.close());

    it('returns every point, in step order, across pages', async () => {
      const run = (await ml(t, 'POST', 'runs/create', { experiment_id: '0' })).json().run.info.run_id;
      // Batches go in reverse step order so the order of the answer is the server's doing.
      for (let b = POINTS / BATCH - 1; b >= 0; b--) {
        const metrics = Array.from({ length: BATCH }, (_, i) => {
          const step = b * BATCH + i;
          return { key: 'loss', value: step % 997 === 0 ? 'NaN' : 1 / (step + 1), timestamp: 1_700_000_000_000 + step, step };
        });
        const r = await ml(t, 'POST', 'runs/log-batch', { run_id: run, metrics });
        assert.equal(r.statusCode, 200, r.body);
      }
      let token: string | undefined;
      let expected = 0;
      let pages = 0;
      do {
        const r = await ml(t, 'GET', 'metrics/get-history', { run_id: run, metric_key: 'loss', max_results: 25_000, ...(token ? { page_token: token } : {}) });
        assert.equal(r.statusCode, 200);
        const body = r.json() as { metrics: Array<{ step: number; value: number | string; timestamp: number }>; next_page_token?: string };
        for (const m of body.metrics) {
          assert.equal(m.step, expected);
          assert.equal(m.timestamp, 1_700_000_000_000 + expected);
          if (expected % 997 === 0) assert.equal(m.value, 'NaN');
          expected++;
        }
        token = body.next_page_token;
        pages++;
      } while (token);
      assert.equal(expected, POINTS);
      assert.equal(pages, 4);
      const latest = (await ml(t, 'GET', 'runs/get', { run_id: run })).json().run.data.metrics[0];
      assert.equal(latest.step, POINTS - 1);
    });
  });
}
