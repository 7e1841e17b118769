/**
 * Two `slipway worker` processes on one PostgreSQL share one batch run:
 * both hold mini-batch leases at once; one is SIGKILLed mid-run, and the
 * other takes its mini-batches over after their leases expire. The output
 * has exactly one line per input row, in order, each equal to onnxruntime.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import pg from 'pg';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { startServer, until, type ServerProcess } from '../helpers/process.js';
import { testStore, type TestStore } from '../helpers/stores.js';

const ADMIN = 'slw_batch-workers-admin-token-0123456789abcdefgh';
const ROWS = 30_000;
const ws = '/api/v1/workspaces/default';

describe('batch run shared by two workers on one PostgreSQL', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'slipway-batch-pg-'));
  let store: TestStore;
  let server: ServerProcess;
  const workers: ServerProcess[] = [];
  const api = async <T>(method: string, path: string, body?: unknown, type = 'application/json'): Promise<T> => {
    const r = await fetch(server.url + path, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': type }, body: body === undefined ? undefined : typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) });
    const text = await r.text();
    assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };

  before(async () => {
    store = await testStore('postgres');
    const shared = { SLIPWAY_DATABASE_URL: store.url!, SLIPWAY_ARTIFACTS: join(tmp, 'artifacts'), SLIPWAY_ADMIN_TOKEN: ADMIN };
    server = await startServer(['server', '--data-dir', join(tmp, 'server')], shared);
    const workerEnv = { ...shared, SLIPWAY_SERVER_URL: server.url, SLIPWAY_JOB_LEASE_MS: '1500', SLIPWAY_JOB_POLL_MS: '20', SLIPWAY_WORKER_SLOTS: '2' };
    workers.push(...(await Promise.all([1, 2].map((n) => startServer(['worker', '--data-dir', join(tmp, `worker-${n}`)], workerEnv)))));
  });
  after(async () => {
    for (const p of [...workers, server]) await p?.kill('SIGKILL');
    await store?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('scores every row exactly once after a worker dies mid-run', async () => {
    const x = Array.from({ length: ROWS }, (_, i) => [(i % 17) / 4 - 2, (i % 5) - 2, ((i * 7) % 13) / 8, (i % 3) / 2]);
    const model = logisticRegressionOnnx();
    await api('POST', `${ws}/models/clf/versions?filename=model.onnx`, new Uint8Array(model), 'application/octet-stream');
    await api('POST', `${ws}/datasets/rows/versions?filename=rows.csv`, ['id,a,b,c,d', ...x.map((r, i) => `r${i},${r.join(',')}`)].join('\n') + '\n', 'text/csv');
    await api('PUT', `${ws}/batch-endpoints/shared`, { model: 'models:/clf/1', features: ['a', 'b', 'c', 'd'], miniBatchRows: 200, parallelism: 4 });
    const run = await api<{ id: number }>('POST', `${ws}/batch-endpoints/shared/runs`, { input: 'datasets:/rows/1' });

    const db = new pg.Client({ connectionString: store.url });
    await db.connect();
    // Both workers hold leases on the same run at one moment: they share it.
    const owners = await until('both workers scoring the run', async () => {
      const r = await db.query<{ lease_owner: string }>(`select distinct lease_owner from batch_minibatches where run_id = $1 and state = 'running'`, [run.id]);
      return r.rows.length >= 2 && r.rows.map((o) => o.lease_owner);
    }, 30_000, 2);
    const victimPid = owners[0].split(':')[1];
    const victim = workers.find((w) => String(w.proc.pid) === victimPid);
    assert.ok(victim, `worker ${owners[0]} among ${workers.map((w) => w.proc.pid).join(', ')}`);
    await victim.kill('SIGKILL');

    const end = await until('the run ended', async () => {
      const r = await api<{ state: string; error: string; output: string | null; progress: { rows: { done: number; failed: number } } }>('GET', `${ws}/batch-endpoints/shared/runs/${run.id}`);
      return ['succeeded', 'failed', 'cancelled'].includes(r.state) && r;
    }, 60_000, 50);
    assert.equal(end.state, 'succeeded', end.error);
    const retaken = await db.query<{ n: number }>(`select count(*)::int as n from batch_minibatches where run_id = $1 and attempt > 1`, [run.id]);
    await db.end();
    assert.ok(retaken.rows[0].n > 0, 'the dead worker held mini-batches that the other took over');
    assert.deepEqual(end.progress.rows, { total: ROWS, done: ROWS, failed: 0 });
    const [, name, version] = /^datasets:\/([^/]+)\/(\d+)$/.exec(end.output!)!;
    const text = await (await fetch(`${server.url}${ws}/datasets/${name}/versions/${version}/content`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    const lines = text.trim().split('\n').slice(1);
    assert.equal(lines.length, ROWS);
    const session = await InferenceSession.create(model);
    const direct = (await session.run({ input: new Tensor('float32', Float32Array.from(x.flat()), [ROWS, 4]) })).output.data as Float32Array;
    await session.release();
    const wrong = lines.filter((l, i) => {
      const c = l.split(',');
      return c[0] !== `r${i}` || Number(c[5]) !== direct[i];
    });
    assert.equal(wrong.length, 0, `first wrong line: ${wrong[0]}`);
  });
});
