import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { killGroup, parseTimeFile, sampleGroup, startTimeOf, TIME_FORMAT } from './usage.js';

export type Stream = 'stdout' | 'stderr';

export interface CommandRun {
  command: string[];
  cwd: string;
  env: Record<string, string>;
  /** Aborting terminates the process group: SIGTERM, then SIGKILL after `killGraceMs`. */
  signal: AbortSignal;
  killGraceMs: () => number;
  onLine(stream: Stream, line: string): void;
  /** Called once the group leader runs, with its pid and /proc start time (to find an orphan later). */
  onStart?(pid: number, start: string | null): void;
}

export interface CommandResult {
  /** The program's exit code; null when it was ended by a signal or never started. */
  exitCode: number | null;
  signal: string | null;
  wallMs: number;
  cpuSeconds: number;
  peakRssBytes: number;
  /** Why it could not start at all. */
  spawnError?: string;
}

const GNU_TIME = '/usr/bin/time';
const SAMPLE_MS = 1000;
const MAX_LINE = 8192;

/** Splits a byte stream into lines, each passed on once complete (a final partial line at the end). */
function lineSplitter(emit: (line: string) => void) {
  let buf = '';
  return {
    push(chunk: Buffer) {
      buf += chunk.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        emit(buf.slice(0, i).replace(/\r$/, '').slice(0, MAX_LINE));
        buf = buf.slice(i + 1);
      }
      if (buf.length > 4 * MAX_LINE) {
        emit(buf.slice(0, MAX_LINE));
        buf = '';
      }
    },
    end() {
      if (buf) emit(buf.slice(0, MAX_LINE));
      buf = '';
    },
  };
}

/**
 * Runs one program in its own process group (detached), so cancel and
 * timeout can end it and everything it started with one kill(-pgid). Under
 * GNU time when present, for exact CPU and peak memory (see usage.ts).
 */
export async function runCommand(r: CommandRun): Promise<CommandResult> {
  const timeFile = join(r.cwd, '.slipway-usage');
  const timed = existsSync(GNU_TIME);
  const argv = timed ? [GNU_TIME, '-q', '-o', timeFile, '-f', TIME_FORMAT, '--', ...r.command] : r.command;
  const started = Date.now();
  let peak = 0;
  let cpu = 0;
  const child = spawn(argv[0], argv.slice(1), { cwd: r.cwd, env: r.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const spawnError = new Promise<string>((resolve) => child.once('error', (e) => resolve(e.message)));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  for (const stream of ['stdout', 'stderr'] as const) {
    const split = lineSplitter((line) => r.onLine(stream, line));
    child[stream].on('data', (d: Buffer) => split.push(d));
    child[stream].on('end', () => split.end());
  }
  const pid = child.pid;
  if (pid === undefined) {
    const why = await spawnError;
    return { exitCode: null, signal: null, wallMs: Date.now() - started, cpuSeconds: 0, peakRssBytes: 0, spawnError: why };
  }
  r.onStart?.(pid, startTimeOf(pid));
  let sampling = false;
  const sample = () => {
    if (sampling) return; // one scan at a time
    sampling = true;
    void sampleGroup(pid)
      .then((s) => {
        if (s) {
          peak = Math.max(peak, s.rssBytes);
          cpu = Math.max(cpu, s.cpuSeconds);
        }
      })
      .finally(() => (sampling = false));
  };
  const sampler = setInterval(sample, SAMPLE_MS);
  let killer: NodeJS.Timeout | undefined;
  const terminate = () => {
    killGroup(pid, 'SIGTERM');
    killer = setTimeout(() => killGroup(pid, 'SIGKILL'), r.killGraceMs());
  };
  if (r.signal.aborted) terminate();
  else r.signal.addEventListener('abort', terminate, { once: true });
  const { code, signal } = await exited;
  clearInterval(sampler);
  clearTimeout(killer);
  r.signal.removeEventListener('abort', terminate);
  // Descendants that outlived the leader belong to the job too.
  killGroup(pid, 'SIGKILL');
  const measured = timed ? parseTimeFile(await readFile(timeFile, 'utf8').catch(() => '')) : null;
  // time reports a child's death by signal as 128 + n; an exit code that high from time itself is rare enough.
  const bySignal = code !== null && timed && code > 128 && measured !== null && (await readFile(timeFile, 'utf8')).includes('terminated by signal');
  return {
    exitCode: bySignal ? null : code,
    signal: bySignal ? `signal ${code! - 128}` : signal,
    wallMs: Date.now() - started,
    cpuSeconds: measured ? Math.max(measured.cpuSeconds, cpu) : cpu,
    peakRssBytes: measured ? Math.max(measured.peakRssBytes, peak) : peak,
  };
}
