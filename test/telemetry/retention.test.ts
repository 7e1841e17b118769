import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config.js';
import { openStore, type Store } from '../../src/store/db.js';
import { emptyHistogram } from '../../src/telemetry/histogram.js';
import { createTelemetry, type Telemetry } from '../../src/telemetry/service.js';
import type { CaptureRecord, RollupDelta } from '../../src/telemetry/sink.js';
import { drivers, testStore, type TestStore } from '../helpers/stores.js';

const DAY = 86_400_000;
const capture = (requestId: string, at: number): CaptureRecord => ({
  endpointId: 1,
  deployment: 'blue',
  model: { name: 'm', version: 1 },
  requestId,
  at,
  latencyMs: 1,
  status: 200,
  format: 'oip',
  features: null,
  inputs: {},
  outputs: {},
});
const rollup = (minute: number): RollupDelta => ({ endpointId: 1, deployment: 'blue', minute, requests: 1, errors4xx: 0, errors5xx: 0, throttled: 0, latencySumMs: 1, latencyHist: emptyHistogram() });

for (const driver of drivers) {
  describe(`telemetry retention (${driver})`, () => {
    let ts: TestStore;
    let store: Store;
    let telemetry: Telemetry;
    before(async () => {
      ts = await testStore(driver);
      store = await openStore(ts.target);
      telemetry = createTelemetry({ db: store.db, authz: {} as never, retentionMs: 7 * DAY });
    });
    after(async () => {
      await store.close();
      await ts.cleanup();
    });

    it('deletes captures and per-minute rollups older than the retention, keeping the rest', async () => {
      const now = Date.now();
      const minute = (at: number) => at - (at % 60_000);
      await telemetry.sink.write({ captures: [capture('old', now - 8 * DAY), capture('new', now - 6 * DAY)], rollups: [rollup(minute(now - 8 * DAY)), rollup(minute(now - DAY))], logs: [] });
      await telemetry.trimOld(now);
      const ids = await sql<{ request_id: string }>`select request_id from endpoint_captures order by request_id`.execute(store.db);
      assert.deepEqual(ids.rows.map((r) => r.request_id), ['new']);
      const minutes = await sql<{ minute: string }>`select minute from endpoint_rollups`.execute(store.db);
      assert.deepEqual(minutes.rows.map((r) => Number(r.minute)), [minute(now - DAY)]);
    });
  });
}

describe('SLIPWAY_TELEMETRY_RETENTION', () => {
  it('takes hours or days, 30 days by default, and refuses anything else naming the variable', () => {
    const env = (v?: string) => loadConfig({}, v === undefined ? {} : { SLIPWAY_TELEMETRY_RETENTION: v });
    assert.equal(env().telemetryRetentionMs, 30 * DAY);
    assert.equal(env('72h').telemetryRetentionMs, 3 * DAY);
    assert.equal(env('7d').telemetryRetentionMs, 7 * DAY);
    for (const bad of ['0d', '30m', 'forever', '1.5d']) assert.throws(() => env(bad), /SLIPWAY_TELEMETRY_RETENTION/);
  });
});
