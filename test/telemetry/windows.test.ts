import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openStore, type Store } from '../../src/store/db.js';
import { createTelemetry, type Telemetry } from '../../src/telemetry/service.js';
import { bucketOf } from '../../src/telemetry/histogram.js';
import { emptyWindow, WINDOW_BUCKET_MS, WINDOW_KEPT_MS, type WindowDelta } from '../../src/telemetry/windows.js';
import { drivers, testStore, type TestStore } from '../helpers/stores.js';

const T0 = 1_800_000_000_000; // a bucket boundary
const write = (telemetry: Telemetry, windows: WindowDelta[]) => telemetry.sink.write({ captures: [], rollups: [], logs: [], windows });

/** `n` live requests at `ms` each, `errors` of them 5xx. */
function live(deployment: string, bucket: number, n: number, ms: number, errors = 0): WindowDelta {
  const d = emptyWindow(1, deployment, bucket);
  d.requests = n;
  d.errors5xx = errors;
  d.latencyHist[bucketOf(ms)] = n;
  return d;
}

function mirrored(deployment: string, bucket: number, n: number, ms: number, exact: number, absDiff: number): WindowDelta {
  const d = emptyWindow(1, deployment, bucket);
  d.mirrorRequests = n;
  d.mirrorErrors5xx = 1;
  d.mirrorLatencyHist[bucketOf(ms)] = n;
  d.compared = n - 1;
  d.exactMatches = exact;
  d.absDiffSum = absDiff;
  return d;
}

for (const driver of drivers) {
  describe(`deployment window stats (${driver})`, () => {
    let ts: TestStore;
    let store: Store;
    let telemetry: Telemetry;
    before(async () => {
      ts = await testStore(driver);
      store = await openStore(ts.target);
      telemetry = createTelemetry({ db: store.db, authz: {} as never });
    });
    after(async () => {
      await store.close();
      await ts.cleanup();
    });

    it('adds what two replicas wrote into the same buckets and reads the buckets overlapping a window', async () => {
      const b = (i: number) => T0 + i * WINDOW_BUCKET_MS;
      await Promise.all([
        write(telemetry, [live('blue', b(0), 90, 10, 1), live('blue', b(1), 10, 10), live('green', b(0), 5, 50, 5)]),
        write(telemetry, [live('blue', b(0), 10, 1000, 2), mirrored('green', b(0), 11, 20, 7, 0.5), live('blue', b(5), 1, 1)]),
      ]);
      await write(telemetry, [mirrored('green', b(1), 11, 20, 3, 0.25)]);

      const blue = await telemetry.deploymentWindow(1, 'blue', b(0), b(2));
      assert.deepEqual([blue.requests, blue.errors5xx], [110, 3]);
      assert.ok(Math.abs(blue.p95Ms! - 1000) < 100 && Math.abs(blue.p99Ms! - 1000) < 100, JSON.stringify(blue));
      assert.deepEqual(blue.mirror, { requests: 0, errors5xx: 0, p95Ms: null, p99Ms: null, compared: 0, exactMatches: 0, absDiffSum: 0 });

      // Mirrored requests count under `mirror` only, not as live requests of the deployment.
      const green = await telemetry.deploymentWindow(1, 'green', b(0), b(2));
      assert.deepEqual([green.requests, green.errors5xx], [5, 5]);
      const { p95Ms, p99Ms, ...m } = green.mirror;
      assert.deepEqual(m, { requests: 22, errors5xx: 2, compared: 20, exactMatches: 10, absDiffSum: 0.75 });
      assert.ok(Math.abs(p95Ms! - 20) < 2 && Math.abs(p99Ms! - 20) < 2);

      // A window starting inside a bucket includes that bucket; one ending at a bucket's start excludes it.
      assert.equal((await telemetry.deploymentWindow(1, 'blue', b(1) - 1, b(1) + 1)).requests, 110);
      assert.equal((await telemetry.deploymentWindow(1, 'blue', b(1), b(5))).requests, 10);
      assert.equal((await telemetry.deploymentWindow(1, 'blue', b(2), b(5) + 1)).requests, 1);
      const empty = await telemetry.deploymentWindow(2, 'blue', b(0), b(9));
      assert.deepEqual([empty.requests, empty.p95Ms, empty.mirror.compared], [0, null, 0]);
    });

    it('trims buckets older than a day as new ones are written', async () => {
      const old = Date.now() - WINDOW_KEPT_MS - 60_000;
      await write(telemetry, [live('aged', old - (old % WINDOW_BUCKET_MS), 3, 1)]);
      // A fresh store instance trims on its first write.
      const other = createTelemetry({ db: store.db, authz: {} as never });
      await write(other, [live('aged', Date.now() - (Date.now() % WINDOW_BUCKET_MS), 1, 1)]);
      assert.equal((await telemetry.deploymentWindow(1, 'aged', 0, Date.now() + WINDOW_BUCKET_MS)).requests, 1);
    });
  });
}
