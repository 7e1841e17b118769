/**
 * npm run bench:tracking — one million metric points through MLflow's
 * runs/log-batch over real HTTP on loopback (1000 points per call, 8
 * concurrent clients in worker threads), on PGlite and on PostgreSQL, next to
 * a baseline of the same inserts made directly through the tracking store in
 * this process (same batches, same concurrency, one transaction per batch).
 *
 * BENCH_POINTS (default 1 000 000), BENCH_DRIVERS (pglite,postgres) and
 * BENCH_PHASES (store,http) trim a run;
 * SLIPWAY_TEST_PG_URL points at the PostgreSQL server (as in the test suite).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { systemCtx } from '../src/access/principal.js';
import { loadConfig } from '../src/config.js';
import { bootstrap, createPlatform, type Platform } from '../src/platform.js';
import { buildApp } from '../src/server/app.js';
import type { Metric } from '../src/tracking/model.js';
import pg from 'pg';
import { PG_ADMIN_URL, testStore, type DriverName } from '../test/helpers/stores.js';

const POINTS = Number(process.env.BENCH_POINTS ?? 1_000_000);
const BATCH = 1000;
const CLIENTS = 8;
const DRIVERS = (process.env.BENCH_DRIVERS ?? 'pglite,postgres').split(',') as DriverName[];
// For profiling one side alone: BENCH_PHASES=http or =store.
const PHASES = (process.env.BENCH_PHASES ?? 'store,http').split(',');
const CALLS_PER_CLIENT = Math.ceil(POINTS / BATCH / CLIENTS);
// Untimed batches first, to a run of their own, so that neither side is
// measured while V8 (and PGlite's WebAssembly) is still tiering up.
const WARMUP_CALLS = 20;
const TOTAL = CALLS_PER_CLIENT * CLIENTS * BATCH;

async function withPlatform<T>(driver: DriverName, fn: (p: Platform, dataDir: string) => Promise<T>): Promise<T> {
  const store = await testStore(driver);
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-bench-'));
  const config = loadConfig({ dataDir, port: 0 }, { SLIPWAY_LOG_LEVEL: 'silent' });
  config.store = store.target;
  const platform = await createPlatform(config);
  try {
    await bootstrap(platform);
    return await fn(platform, dataDir);
  } finally {
    await platform.close();
    if (store.url) await disconnected(store.url);
    await store.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * pg-pool's end() resolves before every backend has gone; dropping the
 * database "with (force)" then kills a closing connection whose error has no
 * listener left. Wait (with a deadline) until the server sees none.
 */
async function disconnected(url: string) {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const r = await admin.query('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
      if (r.rows[0].n === 0) return;
      await new Promise((res) => setTimeout(res, 20));
    }
  } finally {
    await admin.end();
  }
}

async function makeRuns(p: Platform): Promise<Array<{ runId: string; pk: number }>> {
  const ctx = systemCtx('bench');
  const exp = await p.tracking.experiments.create(ctx, 'default', { name: `bench-${Date.now()}` });
  const runs = [];
  // runs[CLIENTS] is the warm-up run.
  for (let i = 0; i <= CLIENTS; i++) {
    const r = await p.tracking.runs.create(ctx, 'default', { experimentId: exp, runName: `client-${i}`, tags: [] });
    runs.push({ runId: r.info.runId, pk: r.pk });
  }
  return runs;
}

function batchOf(client: number, call: number): Metric[] {
  const out = new Array<Metric>(BATCH);
  const offset = client * CALLS_PER_CLIENT * BATCH + call * BATCH;
  for (let i = 0; i < BATCH; i++) {
    const step = offset + i;
    out[i] = { key: i % 2 ? 'loss' : 'acc', value: 1 / (step + 1), timestamp: 1_700_000_000_000 + step, step };
  }
  return out;
}

/** The baseline: the store's own batch insert, one transaction per 1000 points, 8 concurrent writers. */
async function viaStore(driver: DriverName): Promise<number> {
  return withPlatform(driver, async (p) => {
    const runs = await makeRuns(p);
    const warm = runs.pop()!;
    const metrics = p.tracking.stores.metrics;
    for (let call = 0; call < WARMUP_CALLS; call++) {
      const batch = batchOf(0, call);
      await p.store.db.transaction().execute((tx) => metrics.insert(tx, warm.pk, batch));
    }
    const start = performance.now();
    await Promise.all(
      runs.map(async (run, c) => {
        for (let call = 0; call < CALLS_PER_CLIENT; call++) {
          const batch = batchOf(c, call);
          await p.store.db.transaction().execute((tx) => metrics.insert(tx, run.pk, batch));
        }
      }),
    );
    return TOTAL / ((performance.now() - start) / 1000);
  });
}

/** The real thing: HTTP on loopback, authentication, authorization, validation, audit. */
async function viaHttp(driver: DriverName): Promise<number> {
  return withPlatform(driver, async (p, dataDir) => {
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const app = await buildApp(p, { role: 'server', logLevel: 'silent' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const addr = app.server.address() as { port: number };
      const url = `http://127.0.0.1:${addr.port}`;
      const runs = await makeRuns(p);
      const warm = runs.pop()!;
      for (let call = 0; call < WARMUP_CALLS; call++) {
        const r = await fetch(`${url}/api/2.0/mlflow/runs/log-batch`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ run_id: warm.runId, metrics: batchOf(0, call) }),
        });
        if (r.status !== 200) throw new Error(`warm-up log-batch: ${r.status} ${await r.text()}`);
      }
      const start = performance.now();
      await Promise.all(
        runs.map(
          (run, c) =>
            new Promise<void>((resolve, reject) => {
              const w = new Worker(new URL('./tracking-client.mjs', import.meta.url), {
                workerData: { url, token, runId: run.runId, calls: CALLS_PER_CLIENT, batch: BATCH, offset: c * CALLS_PER_CLIENT * BATCH },
              });
              w.once('message', () => resolve());
              w.once('error', reject);
              w.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`client ${c} exited with ${code}`))));
            }),
        ),
      );
      const rate = TOTAL / ((performance.now() - start) / 1000);
      const stored = await p.store.db
        .selectFrom('run_metrics')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('run_id', 'in', runs.map((r) => r.pk))
        .executeTakeFirstOrThrow();
      if (Number(stored.n) !== TOTAL) throw new Error(`expected ${TOTAL} stored points, found ${stored.n}`);
      return rate;
    } finally {
      await app.close();
    }
  });
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(11);

async function main() {
  process.stdout.write(`tracking bench: ${TOTAL.toLocaleString('en-US')} points, ${BATCH} per log-batch, ${CLIENTS} concurrent clients\n`);
  process.stdout.write(`driver     store (points/s)  HTTP log-batch (points/s)  HTTP / store\n`);
  for (const driver of DRIVERS) {
    const store = PHASES.includes('store') ? await viaStore(driver) : NaN;
    const http = PHASES.includes('http') ? await viaHttp(driver) : NaN;
    process.stdout.write(`${driver.padEnd(9)} ${fmt(store)}       ${fmt(http)}                ${(http / store).toFixed(2)}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
