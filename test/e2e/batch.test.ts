/**
 * Acceptance (issue 6): a batch endpoint scores a 100 000-row CSV; `slipway
 * up` (PGlite) is SIGKILLed halfway through the run and started again on the
 * same data dir; the run resumes and ends with exactly 100 000 output rows,
 * in input order, each equal to onnxruntime's output for its row and to the
 * online `POST /endpoints/{e}/score` of the same model version.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { freePort, startServer, until, type ServerProcess } from '../helpers/process.js';
import { pgliteStore, type TestStore } from '../helpers/stores.js';

const ADMIN = 'slw_batch-acceptance-admin-token-0123456789abcdef';
const ROWS = 100_000;
const ws = '/api/v1/workspaces/default';

interface Run {
  id: number;
  state: string;
  output: string | null;
  error: string;
  progress: { rows: { total: number | null; done: number; failed: number }; miniBatches: { total: number | null; done: number; failed: number; running: number } };
}

/** Deterministic features with short decimal forms, so the CSV text reads back as the very same numbers. */
function features(): number[][] {
  let s = 12345;
  const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31), Math.round((s / 2 ** 31) * 2000 - 1000) / 100);
  return Array.from({ length: ROWS }, () => [next(), next(), next(), next()]);
}

describe('batch endpoint acceptance: 100 000 rows, killed halfway and resumed', () => {
  let store: TestStore;
  let up: ServerProcess;
  let port: number;
  const env = { SLIPWAY_ADMIN_TOKEN: ADMIN, SLIPWAY_JOB_LEASE_MS: '1500', SLIPWAY_JOB_POLL_MS: '50', SLIPWAY_WORKER_SLOTS: '2' };
  // The data dir holds the PGlite store at db/: a copy of the initialised template spares `up` its initdb.
  const start = () => startServer(['up', '--data-dir', store.dir!], env, { port });
  const api = async <T>(method: string, path: string, body?: unknown, type = 'application/json'): Promise<T> => {
    const r = await fetch(up.url + path, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': type }, body: body === undefined ? undefined : typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) });
    const text = await r.text();
    assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };

  before(async () => {
    store = await pgliteStore();
    port = await freePort();
    up = await start();
  });
  after(async () => {
    await up?.kill('SIGKILL');
    await store?.cleanup();
  });

  it('scores every row exactly once, equal to online predictions', async () => {
    const x = features();
    const model = logisticRegressionOnnx();
    await api('POST', `${ws}/models/clf/versions?filename=model.onnx`, new Uint8Array(model), 'application/octet-stream');
    const csv = ['id,a,b,c,d', ...x.map((r, i) => `r${i},${r.join(',')}`)].join('\n') + '\n';
    await api('POST', `${ws}/datasets/big/versions?filename=big.csv`, csv, 'text/csv');
    await api('PUT', `${ws}/batch-endpoints/clf-batch`, { model: 'models:/clf/1', features: ['a', 'b', 'c', 'd'], miniBatchRows: 500, parallelism: 2 });
    await api('POST', '/api/v1/apply', { documents: [{ kind: 'Endpoint', name: 'clf', auth: 'token', traffic: { blue: 100 } }, { kind: 'Deployment', endpoint: 'clf', name: 'blue', model: 'models:/clf/1' }] });

    const run = await api<Run>('POST', `${ws}/batch-endpoints/clf-batch/runs`, { input: 'datasets:/big/1' });
    const runUrl = `${ws}/batch-endpoints/clf-batch/runs/${run.id}`;
    const halfway = await until('the run partly scored', async () => {
      const r = await api<Run>('GET', runUrl);
      assert.notEqual(r.state, 'succeeded', 'the run ended before it could be killed');
      return r.progress.rows.done >= ROWS * 0.2 && r;
    }, 60_000, 5);
    await up.kill('SIGKILL');
    assert.ok(halfway.progress.rows.done < ROWS, `killed with ${halfway.progress.rows.done} rows done`);

    up = await start();
    const end = await until('the run resumed and ended', async () => {
      const r = await api<Run>('GET', runUrl);
      return ['succeeded', 'failed', 'cancelled'].includes(r.state) && r;
    }, 120_000, 100);
    assert.equal(end.state, 'succeeded', end.error);
    assert.deepEqual(end.progress, { rows: { total: ROWS, done: ROWS, failed: 0 }, miniBatches: { total: ROWS / 500, done: ROWS / 500, failed: 0, running: 0 } });
    const [, name, version] = /^datasets:\/([^/]+)\/(\d+)$/.exec(end.output!)!;
    const meta = await api<{ rowCount: number }>('GET', `${ws}/datasets/${name}/versions/${version}`);
    assert.equal(meta.rowCount, ROWS);
    const lines = (await (await fetch(`${up.url}${ws}/datasets/${name}/versions/${version}/content`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()).trim().split('\n');
    assert.equal(lines[0], 'id,a,b,c,d,prediction');
    assert.equal(lines.length, ROWS + 1, 'exactly one line per input row');
    const scored = lines.slice(1).map((l) => l.split(','));

    // onnxruntime on the same inputs, all rows at once.
    const session = await InferenceSession.create(model);
    const direct = (await session.run({ input: new Tensor('float32', Float32Array.from(x.flat()), [ROWS, 4]) })).output.data as Float32Array;
    await session.release();
    // The online endpoint, all rows, in requests of 10 000.
    await until('the online deployment serving', async () => (await fetch(`${up.url}/endpoints/clf/score`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: [x[0]] } }) })).ok, 30_000, 100);
    const online: number[] = [];
    for (let i = 0; i < ROWS; i += 10_000) {
      const r = await fetch(`${up.url}/endpoints/clf/score`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: x.slice(i, i + 10_000) } }) });
      assert.equal(r.status, 200);
      online.push(...((await r.json()) as { predictions: number[][] }).predictions.map((p) => p[0]));
    }
    let mismatches = 0;
    scored.forEach((cells, i) => {
      if (cells[0] !== `r${i}` || Number(cells[5]) !== direct[i] || Number(cells[5]) !== online[i] || cells.slice(1, 5).map(Number).join() !== x[i].join()) mismatches++;
    });
    assert.equal(mismatches, 0, `first mismatch: ${JSON.stringify(scored.find((c, i) => Number(c[5]) !== online[i]))}`);
  });
});
