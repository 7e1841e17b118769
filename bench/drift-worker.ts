/** One benchmark worker: generates its features untimed, then computes every numerical drift method on each when told. */
import { parentPort, workerData } from 'node:worker_threads';
import { allNumerical } from '../src/monitoring/stats/drift.js';
import { sortedFinite } from '../src/monitoring/stats/sort.js';

const { features, refRows, curRows } = workerData as { features: number[]; refRows: number; curRows: number };

// xorshift32 per feature: deterministic and cheap; current data shifts on every fifth feature.
function fill(n: number, seed: number, shift: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let k = 0; k < 4; k++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      sum += (s >>> 0) / 4294967296;
    }
    out[i] = sum - 2 + shift;
  }
  return out;
}

const data = features.map((f) => ({ ref: fill(refRows, 1000 + f, 0), cur: fill(curRows, 5000 + f, f % 5 === 0 ? 0.1 : 0) }));
parentPort!.postMessage({ ready: true });
parentPort!.once('message', () => {
  const t0 = performance.now();
  let drifted = 0;
  for (const d of data) {
    const r = allNumerical(sortedFinite(d.ref), sortedFinite(d.cur));
    if (r.wasserstein >= 0.1) drifted++;
  }
  parentPort!.postMessage({ ms: performance.now() - t0, drifted });
});
