import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A `slipway up` the demo started for itself in a temporary data dir. */
export interface EmbeddedPlatform {
  url: string;
  token: string;
  dataDir: string;
  pid: number;
  log: string;
  /** SIGTERM, wait for the graceful stop, then delete the data dir. */
  stop(): Promise<void>;
}

/** Settings the embedded platform starts with unless the environment sets them: fast ticks, so the demo takes seconds. */
const FAST: Record<string, string> = {
  SLIPWAY_ROLLOUT_TICK_MS: '200',
  SLIPWAY_JOB_POLL_MS: '200',
  SLIPWAY_ALERT_INTERVAL_MS: '500',
  SLIPWAY_LOG_LEVEL: 'warn',
};
/** Where a user's own platform is configured; the embedded one must not touch it. */
const NOT_INHERITED = ['SLIPWAY_URL', 'SLIPWAY_TOKEN', 'SLIPWAY_PORT', 'SLIPWAY_DATA_DIR', 'SLIPWAY_DATABASE_URL', 'SLIPWAY_ARTIFACTS', 'SLIPWAY_ADMIN_TOKEN', 'SLIPWAY_SERVER_URL'];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function untilReady(url: string, log: string, opts: { onWait?: (detail: string) => void; readyWithinMs?: number }, exited: () => number | null | undefined): Promise<void> {
  const started = Date.now();
  const deadline = started + (opts.readyWithinMs ?? 120_000);
  for (;;) {
    if (exited() !== undefined) throw new Error(`the embedded platform exited (${exited()}) before it was ready:\n${tail(log)}`);
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) return;
    if (Date.now() > deadline) throw new Error(`the embedded platform was not ready within ${Math.round((deadline - started) / 1000)}s:\n${tail(log)}`);
    opts.onWait?.(`starting slipway up on ${url} (first start initialises the database) ${Math.round((Date.now() - started) / 1000)}s`);
    await pause(200);
  }
}

/**
 * Starts this same CLI as `slipway up` on a free loopback port, as a child
 * process with its output in `<data-dir>/platform.log`, and waits until it is
 * ready. With `keep`, the child is detached so it outlives the demo.
 */
export async function startEmbedded(opts: { keep: boolean; onWait?: (detail: string) => void; readyWithinMs?: number }): Promise<EmbeddedPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-demo-'));
  const log = join(dataDir, 'platform.log');
  const port = await freePort();
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of NOT_INHERITED) delete env[k];
  for (const [k, v] of Object.entries(FAST)) env[k] ??= v;
  const fd = openSync(log, 'a');
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], 'up', '--port', String(port), '--data-dir', dataDir], {
    env,
    stdio: ['ignore', fd, fd],
    detached: opts.keep,
  });
  closeSync(fd);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => child.once('exit', (code, signal) => ((exited = code ?? (signal ? -1 : null)), resolve())));
  // However the demo ends before stop() (an error, process.exit from a signal handler), its platform and temp dir end with it.
  const discard = () => {
    if (exited === undefined) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('exit', discard);
  const url = `http://127.0.0.1:${port}`;
  let token: string;
  try {
    await untilReady(url, log, opts, () => exited);
    token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  } catch (e) {
    process.removeListener('exit', discard);
    if (exited === undefined) child.kill('SIGKILL');
    await exit;
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  if (opts.keep) {
    // Ready: from here on a kept platform is the user's, whatever becomes of the demo.
    process.removeListener('exit', discard);
    child.unref();
  }
  return {
    url,
    token,
    dataDir,
    pid: child.pid!,
    log,
    stop: async () => {
      process.removeListener('exit', discard);
      if (exited === undefined) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exit;
        clearTimeout(killer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
