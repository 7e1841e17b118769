/**
 * npm run bench:gateway — one small model (logistic regression over 30
 * float features, one row per request, `dataframe_split` bodies) served
 * three ways in one run, each in its own process and driven by the same load
 * generator (bench/load.mjs, its own process) at 64 keep-alive connections
 * on loopback:
 *   floor    bare node:http + onnxruntime-node (bench/gateway-floor.mjs)
 *   gateway  `slipway up`: key auth, routing, metrics, 10% capture
 *   batched  the same gateway, deployment with micro-batching
 * Prints requests/s, p50 and p99 for each and the ratios against the floor,
 * and the server's CPU time per request (all its threads), which says more
 * than throughput when other work shares the machine.
 * Targets: gateway/floor ≥ 0.8; batched/floor > 1.0.
 *
 * BENCH_SECONDS (default 10), BENCH_CONNECTIONS (64), BENCH_ROWS (1 row per
 * request), BENCH_ONLY=floor,gateway,batched trim or reshape a run;
 * BENCH_PROFILE=DIR writes a V8 CPU profile of the gateway process there;
 * BENCH_MAXC overrides the deployments' maxConcurrent.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logisticRegressionOnnx } from '../test/helpers/onnx.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ROWS = Number(process.env.BENCH_ROWS ?? 1);
const ONLY = (process.env.BENCH_ONLY ?? 'floor,gateway,batched').split(',');
const FEATURES = 30;
const ADMIN = 'slw_bench_' + 'a'.repeat(40);
const here = new URL('.', import.meta.url).pathname;
const repo = join(here, '..');

interface Result {
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  cpuMicrosPerRequest: number;
}

const weights = Array.from({ length: FEATURES }, (_, i) => Math.sin(i + 1) / 4);
const rows = Array.from({ length: ROWS }, (_, r) => Array.from({ length: FEATURES }, (_, i) => Math.cos(r * FEATURES + i)));
const body = JSON.stringify({ dataframe_split: { columns: weights.map((_, i) => `f${i}`), data: rows } });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** CPU seconds (user + system, all threads) a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Drives `url`; with `pid`, also measures that server's CPU time per request over the measured window. */
function load(url: string, headers: Record<string, string>, pid?: number): Promise<Result> {
  const args = JSON.stringify({ url, headers, body, connections: CONNECTIONS, seconds: SECONDS, warmupSeconds: 2 });
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(here, 'load.mjs'), args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let cpu = 0;
    p.stdout.on('data', (d) => {
      out += d;
      if (pid === undefined) return;
      if (out.includes('measuring') && cpu === 0) cpu = -cpuSeconds(pid);
      if (out.includes('measured') && cpu < 0) cpu += cpuSeconds(pid);
    });
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited ${code}`));
      const r = JSON.parse(out.trim().split('\n').pop()!) as Result;
      resolve({ ...r, cpuMicrosPerRequest: cpu > 0 ? (cpu * 1e6) / r.requests : NaN });
    });
  });
}

function stop(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
  });
}

async function floor(modelPath: string): Promise<Result> {
  const port = await freePort();
  const p = fork(join(here, 'gateway-floor.mjs'), [String(port), modelPath], { stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    p.once('message', () => resolve());
    p.once('exit', (code) => reject(new Error(`floor server exited ${code}`)));
  });
  try {
    return await load(`http://127.0.0.1:${port}/score`, {}, p.pid);
  } finally {
    await stop(p);
  }
}

/** One `slipway up` with two endpoints: `plain` and `batched`. */
async function gateway(modelPath: string, which: string[]): Promise<Record<string, Result>> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-bench-gw-'));
  const prof = process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : [];
  const p = spawn(process.execPath, [...prof, join(repo, 'bin/slipway.js'), 'up', '--port', String(port), '--data-dir', dataDir], {
    env: { ...process.env, SLIPWAY_ADMIN_TOKEN: ADMIN, SLIPWAY_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const api = async (method: string, path: string, payload?: unknown, type = 'application/json') => {
    const r = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(payload === undefined ? {} : { 'content-type': type }) },
      body: payload === undefined ? undefined : type === 'application/json' ? JSON.stringify(payload) : (payload as Buffer),
    });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.status === 204 ? null : r.json();
  };
  try {
    await until('slipway ready', async () => (await fetch(`${url}/readyz`)).ok);
    const ws = '/api/v1/workspaces/default';
    await api('POST', `${ws}/models/bench/versions?filename=model.onnx`, readFileSync(modelPath), 'application/octet-stream');
    const results: Record<string, Result> = {};
    const capture = { sample: 0.1 };
    const maxConcurrent = process.env.BENCH_MAXC ? { maxConcurrent: Number(process.env.BENCH_MAXC) } : {};
    const setups = {
      gateway: { name: 'plain', deployment: { name: 'blue', model: 'models:/bench/1', instances: 1, ...maxConcurrent } },
      batched: { name: 'batched', deployment: { name: 'blue', model: 'models:/bench/1', instances: 1, batching: { maxBatchSize: 64, maxWaitMicros: Number(process.env.BENCH_WAIT_US ?? 500) }, ...maxConcurrent } },
    } as const;
    for (const w of which) {
      const s = setups[w as keyof typeof setups];
      await api('POST', `${ws}/endpoints`, { name: s.name, auth: 'key', capture });
      await api('POST', `${ws}/endpoints/${s.name}/deployments`, s.deployment);
      await api('PUT', `${ws}/endpoints/${s.name}/traffic`, { traffic: { blue: 100 } });
      const key = ((await api('GET', `${ws}/endpoints/${s.name}/keys`)) as { primary: string }).primary;
      const headers = { authorization: `Bearer ${key}` };
      await until(`${s.name} ready`, async () => (await fetch(`${url}/v2/models/${s.name}/ready`, { headers })).ok);
      results[w] = await load(`${url}/endpoints/${s.name}/score`, headers, p.pid);
      await api('PUT', `${ws}/endpoints/${s.name}/traffic`, { traffic: {} });
    }
    return results;
  } finally {
    await stop(p);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function table(results: Record<string, Result>): void {
  const base = results.floor;
  const line = (name: string, r: Result) =>
    `${name.padEnd(8)} ${r.rps.toFixed(0).padStart(8)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${String(r.errors).padStart(7)} ${r.cpuMicrosPerRequest.toFixed(0).padStart(9)}` +
    (base && name !== 'floor' ? `   ${(r.rps / base.rps).toFixed(2)}` : '');
  console.log(`\n${'config'.padEnd(8)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)} ${'cpu µs/req'.padStart(9)}   ratio vs floor`);
  for (const [name, r] of Object.entries(results)) console.log(line(name, r));
  if (base) {
    const g = results.gateway;
    const b = results.batched;
    if (g) console.log(`\ngateway/floor = ${(g.rps / base.rps).toFixed(2)} (target ≥ 0.8)`);
    if (b) console.log(`batched/floor = ${(b.rps / base.rps).toFixed(2)} (target > 1.0)`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-model-'));
const modelPath = join(dir, 'model.onnx');
writeFileSync(modelPath, logisticRegressionOnnx({ weights, bias: 0.1 }));
console.log(`bench:gateway — ${FEATURES} features, ${ROWS} row(s)/request, ${CONNECTIONS} connections, ${SECONDS}s per config (+2s warm-up)`);
const results: Record<string, Result> = {};
if (ONLY.includes('floor')) results.floor = await floor(modelPath);
Object.assign(results, await gateway(modelPath, ONLY.filter((o) => o !== 'floor')));
table(results);
rmSync(dir, { recursive: true, force: true });
