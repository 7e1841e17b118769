import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { runCli, startServer, until } from '../helpers/process.js';

const tmp = mkdtempSync(join(tmpdir(), 'slipway-e2e-rollout-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const ADMIN = 'slw_rollout-e2e-token-0123456789abcdefghijklmn';
const ws = '/api/v1/workspaces/default';

/** JSON calls as the admin; a non-2xx answer fails the test. */
function client(url: string) {
  return async (method: string, path: string, body?: unknown, type = 'application/json') => {
    const r = await fetch(url + path, { method, headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': type }) }, body: body === undefined ? undefined : type === 'application/json' ? JSON.stringify(body) : (body as Buffer) });
    const text = await r.text();
    assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

/** Endpoint `cancer` with blue (v1, 100%) and green (v2, the same function); v3 answers differently. */
async function blueAndGreen(api: ReturnType<typeof client>) {
  for (const bias of [0.1, 0.1, 2]) await api('POST', `${ws}/models/clf/versions?filename=model.onnx`, logisticRegressionOnnx({ bias }), 'application/octet-stream');
  await api('POST', `${ws}/endpoints`, { name: 'cancer' });
  await api('POST', `${ws}/endpoints/cancer/deployments`, { name: 'blue', model: 'models:/clf/1' });
  await api('POST', `${ws}/endpoints/cancer/deployments`, { name: 'green', model: 'models:/clf/2' });
  await api('PUT', `${ws}/endpoints/cancer/traffic`, { traffic: { blue: 100 } });
}

/**
 * An OIP model server for model 'clf' (the test's registered name) computing
 * the same logistic regression, whose every fifth inference answers 500: an
 * `http` deployment that fails 20% of its requests.
 */
function flakyModel(): Promise<{ server: Server; url: string }> {
  const meta = { name: 'clf', platform: 'test', inputs: [{ name: 'float_input', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'p', datatype: 'FP32', shape: [-1, 1] }] };
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url === '/v2/health/ready' || req.url === '/v2/health/live') return send(200, { ready: true });
      if (req.method === 'GET' && req.url === '/v2/models/clf') return send(200, meta);
      if (req.method !== 'POST' || req.url !== '/v2/models/clf/infer') return send(404, { error: `no route ${req.url}` });
      if (++n % 5 === 0) return send(500, { error: 'model exploded' });
      const x = (JSON.parse(Buffer.concat(chunks).toString()) as { inputs: Array<{ data: number[] }> }).inputs[0].data.flat();
      const y: number[] = [];
      for (let i = 0; i < x.length; i += 4) y.push(1 / (1 + Math.exp(-(0.5 * x[i] - 0.25 * x[i + 1] + x[i + 2] + 2 * x[i + 3] + 0.1))));
      return send(200, { model_name: 'clf', outputs: [{ name: 'p', datatype: 'FP32', shape: [y.length, 1], data: y }] });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

describe('a rollout under light load in `slipway up`', () => {
  it('moves blue → green through shadow and canary steps and retires blue; rolls back a disagreeing red and a failing flaky', async () => {
    const s = await startServer(['up', '--data-dir', join(tmp, 'data')], { SLIPWAY_ADMIN_TOKEN: ADMIN, SLIPWAY_ROLLOUT_TICK_MS: '100' });
    try {
      const api = client(s.url);
      await blueAndGreen(api);
      const key = (await api('GET', `${ws}/endpoints/cancer/keys`)).primary as string;
      const score = () =>
        fetch(`${s.url}/endpoints/cancer/score`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: [[1, 2, 3, 4]] } }) });
      await until('blue serving', async () => (await score()).status === 200);

      // Light, bounded load: one request at a time until the rollout is over.
      const served = new Map<string, number>();
      const failed: string[] = [];
      let loading = true;
      const load = (async () => {
        while (loading) {
          const r = await score().catch((e: Error) => e);
          if (r instanceof Error) {
            failed.push(`fetch ${String((r as { cause?: unknown }).cause ?? r.message)}`);
            break;
          }
          const d = r.headers.get('x-slipway-deployment') ?? '-';
          if (r.status !== 200) failed.push(`${d} ${r.status} ${await r.text()}`);
          else await r.arrayBuffer();
          served.set(d, (served.get(d) ?? 0) + 1);
          await new Promise((res) => setTimeout(res, 10));
        }
      })();

      const env = { SLIPWAY_URL: s.url, SLIPWAY_TOKEN: ADMIN, XDG_CONFIG_HOME: join(tmp, 'cfg') };
      const plan = 'shadow 50% 1s 20 requests, canary 20% 2s, 50% 2s';
      const start = await runCli(['rollout', 'start', 'green-in', '--endpoint', 'cancer', '--candidate', 'green', '--plan', plan, '--max-error-rate', '0.05', '--min-agreement', '0.95', '--retire-stable', '--drain', '1s'], env);
      assert.equal(start.code, 0, start.stderr);
      const done = await until(
        'green-in to succeed and retire blue',
        async () => {
          const r = await api('GET', `${ws}/rollouts/green-in`);
          assert.ok(!['rolled_back', 'aborted'].includes(r.state), `${r.state}: ${r.reason}`);
          return r.state === 'succeeded' && r.retireAt === null ? r : undefined;
        },
        30_000,
        100,
      );
      // The gates read what the gateway recorded.
      assert.ok(done.readings.candidate.requests > 0, JSON.stringify(done.readings));
      assert.deepEqual(done.events.map((e: { kind: string }) => e.kind), ['created', 'started', 'step', 'step', 'step', 'promoted', 'retired']);
      const e = await api('GET', `${ws}/endpoints/cancer`);
      assert.deepEqual([e.traffic, e.mirror], [{ green: 100 }, {}]);
      assert.deepEqual(e.deployments.map((d: { name: string }) => d.name), ['green']);
      const h = (await api('GET', `${ws}/endpoints/cancer/history`)).history as Array<{ who: string; reason: string; traffic: Record<string, number>; mirror: Record<string, number> }>;
      assert.deepEqual(h.slice(0, 4).map((x) => [x.who, x.traffic, x.mirror]), [
        ['rollout:green-in', { green: 100 }, {}],
        ['rollout:green-in', { blue: 50, green: 50 }, {}],
        ['rollout:green-in', { blue: 80, green: 20 }, {}],
        ['rollout:green-in', { blue: 100 }, { green: 50 }],
      ]);
      assert.equal((await score()).headers.get('x-slipway-deployment'), 'green');

      // A candidate whose answers differ fails its shadow step's agreement gate; live traffic never left green.
      await api('POST', `${ws}/endpoints/cancer/deployments`, { name: 'red', model: 'models:/clf/3' });
      await api('POST', `${ws}/rollouts`, { name: 'red-in', endpoint: 'cancer', candidate: 'red', plan: 'shadow 50% 1m', gates: { minAgreement: 0.95 } });
      const red = await until('red to be rolled back', async () => {
        const r = await api('GET', `${ws}/rollouts/red-in`);
        return r.state === 'rolled_back' ? r : undefined;
      }, 30_000, 100);
      assert.match(red.reason, /^step 1 gate failed: agreement 0 < 0.95$/);
      const after = await api('GET', `${ws}/endpoints/cancer`);
      assert.deepEqual([after.traffic, after.mirror], [{ green: 100 }, {}]);
      assert.equal(failed.length, 0, failed.join('\n'));

      // A candidate failing 20% of its requests is rolled back as soon as its window holds enough of them.
      const flaky = await flakyModel();
      try {
        await api('POST', `${ws}/endpoints/cancer/deployments`, { name: 'flaky', model: 'models:/clf/1', runtime: 'http', url: flaky.url });
        await api('POST', `${ws}/rollouts`, { name: 'flaky-in', endpoint: 'cancer', candidate: 'flaky', plan: 'canary 50% 5m', gates: { maxErrorRate: 0.05 } });
        const fr = await until('flaky to be rolled back', async () => {
          const r = await api('GET', `${ws}/rollouts/flaky-in`);
          return r.state === 'rolled_back' ? r : undefined;
        }, 30_000, 100);
        assert.match(fr.reason, /^step 1 gate failed: error rate (0\.\d+|1) > 0\.05$/);
        assert.ok(fr.readings.candidate.requests >= 20, JSON.stringify(fr.readings));
        const h2 = (await api('GET', `${ws}/endpoints/cancer/history?limit=1`)).history[0];
        assert.deepEqual([h2.who, h2.traffic], ['rollout:flaky-in', { green: 100 }]);
        assert.match(h2.reason, /rolled back: step 1 gate failed: error rate/);
      } finally {
        flaky.server.close();
      }
      loading = false;
      await load;
      // The only failed requests are flaky's own answers, before the rollback.
      assert.ok(failed.length > 0 && failed.every((f) => f.startsWith('flaky ')), JSON.stringify(failed));
      assert.ok((served.get('green') ?? 0) > 0 && (served.get('blue') ?? 0) > 0, JSON.stringify([...served]));
      assert.equal(served.get('red'), undefined, 'a shadow candidate answers no live request');
    } finally {
      assert.equal(await s.kill('SIGTERM'), 0, 'a graceful stop exits 0 with the controller running');
    }
  });

  it('resumes at the same step after the process is killed (SIGKILL) and started again', async () => {
    const dataDir = join(tmp, 'data-kill');
    const env = { SLIPWAY_ADMIN_TOKEN: ADMIN, SLIPWAY_ROLLOUT_TICK_MS: '100' };
    const first = await startServer(['up', '--data-dir', dataDir], env);
    let api = client(first.url);
    let stepStartedAt: number;
    try {
      await blueAndGreen(api);
      await api('POST', `${ws}/rollouts`, { name: 'survivor', endpoint: 'cancer', candidate: 'green', plan: 'canary 10% 1s, 30% 10m' });
      stepStartedAt = await until('step 2', async () => {
        const r = await api('GET', `${ws}/rollouts/survivor`);
        return r.step === 1 ? (r.stepStartedAt as number) : undefined;
      });
    } finally {
      await first.kill('SIGKILL');
    }
    const restartedAt = Date.now();
    const second = await startServer(['up', '--data-dir', dataDir], env);
    try {
      api = client(second.url);
      // The new controller has measured the step (its readings are newer than the restart) and left it where it stood.
      const r = await until('the new controller to read the step', async () => {
        const x = await api('GET', `${ws}/rollouts/survivor`);
        return x.readings && x.readings.to > restartedAt ? x : undefined;
      });
      assert.equal(r.state, 'running');
      assert.equal(r.step, 1);
      assert.equal(r.stepStartedAt, stepStartedAt);
      assert.deepEqual((await api('GET', `${ws}/endpoints/cancer`)).traffic, { blue: 70, green: 30 });
      const done = await api('POST', `${ws}/rollouts/survivor/promote`, {});
      assert.equal(done.state, 'succeeded');
    } finally {
      assert.equal(await second.kill('SIGTERM'), 0);
    }
  });
});
