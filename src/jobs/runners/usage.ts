import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { CLOCK_TICKS_PER_SECOND, statFields } from '../../shared/proc.js';

/**
 * CPU and memory of a job's process group, read from /proc (Linux).
 *
 * The final figures come from GNU time (`/usr/bin/time -o FILE`), which
 * wraps the command and writes the rusage that wait4 reports: user + system
 * CPU of the command and every descendant it waited for, and the largest
 * resident set among them. Samples of /proc every second are the fallback
 * when time is absent or was killed with the group (cancel, timeout), and
 * keep the peak current while the job runs.
 */
const PAGE = 4096;

interface ProcStat {
  pgrp: number;
  cpuTicks: number;
  rssBytes: number;
  start: string;
}

function procStat(pid: number | string): ProcStat | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

function parseStat(text: string): ProcStat {
  // pgrp is 5, utime..cstime 14-17, starttime 22, rss 24.
  const field = statFields(text);
  const f = (n: number) => Number(field(n));
  return { pgrp: f(5), cpuTicks: f(14) + f(15) + f(16) + f(17), rssBytes: f(24) * PAGE, start: field(22) ?? '' };
}

/** The start time of a live pid (clock ticks since boot), to tell it from a recycled one; null when it is gone or not Linux. */
export function startTimeOf(pid: number): string | null {
  return procStat(pid)?.start ?? null;
}

/**
 * CPU-seconds and resident bytes of the live processes of a group now
 * (reaped children's CPU is in their parents'). Asynchronous: it reads every
 * /proc/<pid>/stat, and under `up` this loop also serves inference.
 */
export async function sampleGroup(pgid: number): Promise<{ cpuSeconds: number; rssBytes: number } | null> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
  } catch {
    return null;
  }
  let ticks = 0;
  let rss = 0;
  let seen = false;
  for (const p of pids) {
    const s = await readFile(`/proc/${p}/stat`, 'utf8').then(parseStat, () => null);
    if (!s || s.pgrp !== pgid) continue;
    seen = true;
    ticks += s.cpuTicks;
    rss += s.rssBytes;
  }
  return seen ? { cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND, rssBytes: rss } : null;
}

export const TIME_FORMAT = '%U %S %M';

/** GNU time's `-o` file: the last line is `user system maxrss-KiB` (a line about a signal may precede it). */
export function parseTimeFile(text: string): { cpuSeconds: number; peakRssBytes: number } | null {
  const last = text.trim().split('\n').pop() ?? '';
  const m = /^(\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+)$/.exec(last.trim());
  if (!m) return null;
  return { cpuSeconds: Number(m[1]) + Number(m[2]), peakRssBytes: Number(m[3]) * 1024 };
}

/** Kills a whole process group; a gone group is not an error. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* already gone */
  }
}

/** Kills the group led by `pid` if that process still is the one that started at `start` (a dead worker's orphan). */
export function killOrphan(pid: number, start: string): boolean {
  if (startTimeOf(pid) !== start) return false;
  killGroup(pid, 'SIGKILL');
  return true;
}
