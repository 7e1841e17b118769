import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** Real processes of the built CLI (bin/slipway.js → dist), as users run it. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const bin = fileURLToPath(new URL('../../bin/slipway.js', import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls until `check` returns a value, or fails at the deadline. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false>, deadlineMs = 20_000, everyMs = 50): Promise<T> {
  const end = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const live = new Set<number>();
// A failed test must not leave servers behind.
process.on('exit', () => {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

export interface ServerProcess {
  proc: ChildProcess;
  url: string;
  port: number;
  /** Milliseconds from spawn to the first healthy /healthz. */
  liveAfterMs: number;
  output(): string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServer(args: string[], env: Record<string, string>, opts: { port?: number; command?: string[] } = {}): Promise<ServerProcess> {
  const port = opts.port ?? (await freePort());
  const command = opts.command ?? [process.execPath, bin];
  const proc = spawn(command[0], [...command.slice(1), ...args, '--port', String(port)], {
    cwd: repoRoot,
    env: { ...process.env, SLIPWAY_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a signal reaches npm and the platform under it, as Ctrl-C does.
    detached: true,
  });
  live.add(proc.pid!);
  proc.once('exit', () => live.delete(proc.pid!));
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? (sig ? -1 : null))));
  const url = `http://127.0.0.1:${port}`;
  let gone = false;
  void exited.then(() => (gone = true));
  const probe = (path: string) => async () => {
    if (gone) throw new Error(`process exited: ${out}`);
    return (await fetch(`${url}${path}`)).ok;
  };
  const t0 = Date.now();
  await until(`${args[0]} alive on ${url}`, probe('/healthz'), 60_000);
  const liveAfterMs = Date.now() - t0;
  await until(`${args[0]} ready on ${url}`, probe('/readyz'), 60_000);
  return {
    proc,
    url,
    port,
    liveAfterMs,
    output: () => out,
    exited,
    kill: async (signal = 'SIGTERM') => {
      if (!gone) {
        try {
          process.kill(-proc.pid!, signal);
        } catch {
          proc.kill(signal);
        }
      }
      return exited;
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `opts.input` is written to the CLI's stdin (otherwise stdin is closed).
 * `opts.source` runs src/cli/main.ts through tsx instead of the build, for tests that need none.
 */
export function runCli(args: string[], env: Record<string, string>, opts: { input?: string; source?: boolean } = {}): Promise<CliResult> {
  const entry = opts.source ? ['--import', 'tsx', 'src/cli/main.ts'] : [bin];
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [...entry, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (opts.input !== undefined) p.stdin!.end(opts.input);
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d) => (stdout += d));
    p.stderr!.on('data', (d) => (stderr += d));
    p.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
