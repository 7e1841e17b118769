/**
 * npm run bench:drift — every numerical drift method (KS with p-value,
 * normalized Wasserstein, PSI, Jensen–Shannon) for 1 000 000 reference rows
 * × 100 features against 100 000 current rows, features spread over worker
 * threads (one per core). Data is generated before the clock starts; sorting
 * is timed. Prints seconds, rows×features per second and the ratio to the
 * 10-second target.
 *
 * BENCH_REF_ROWS, BENCH_CUR_ROWS, BENCH_FEATURES and BENCH_WORKERS trim a run.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const REF_ROWS = Number(process.env.BENCH_REF_ROWS ?? 1_000_000);
const CUR_ROWS = Number(process.env.BENCH_CUR_ROWS ?? 100_000);
const FEATURES = Number(process.env.BENCH_FEATURES ?? 100);
const WORKERS = Number(process.env.BENCH_WORKERS ?? Math.min(availableParallelism(), FEATURES));
const TARGET_SECONDS = 10;

const once = <T>(w: Worker): Promise<T> => new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject)));

async function main(): Promise<void> {
  const workers = Array.from({ length: WORKERS }, (_, i) => {
    const features = Array.from({ length: FEATURES }, (_, f) => f).filter((f) => f % WORKERS === i);
    return new Worker(new URL('./drift-worker.mjs', import.meta.url), { workerData: { features, refRows: REF_ROWS, curRows: CUR_ROWS } });
  });
  await Promise.all(workers.map((w) => once(w)));
  const t0 = performance.now();
  const results = await Promise.all(workers.map((w) => (w.postMessage('go'), once<{ ms: number; drifted: number }>(w))));
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(workers.map((w) => w.terminate()));
  const drifted = results.reduce((a, r) => a + r.drifted, 0);
  const cells = (REF_ROWS + CUR_ROWS) * FEATURES;
  console.log(`drift: ${REF_ROWS} reference × ${CUR_ROWS} current rows × ${FEATURES} features, ${WORKERS} workers, methods ks+wasserstein+psi+jensen_shannon`);
  console.log(`  ${seconds.toFixed(2)} s, ${(cells / seconds / 1e6).toFixed(1)} M rows×features per second, ${drifted} features drifted`);
  console.log(`  ratio to the ${TARGET_SECONDS} s target: ${(seconds / TARGET_SECONDS).toFixed(3)} (${(TARGET_SECONDS / seconds).toFixed(1)}× faster than needed)`);
}

await main();
