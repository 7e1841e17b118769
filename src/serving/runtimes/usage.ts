/**
 * CPU and memory of runtime instances "where measurable": read from Linux's
 * /proc (child processes by pid, a worker thread from inside itself);
 * elsewhere, or for remote (http) runtimes, they are left out.
 */
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { CLOCK_TICKS_PER_SECOND, statFields } from '../../shared/proc.js';


export interface Usage {
  cpuSeconds: number;
  memoryBytes: number;
}

/** utime + stime (fields 14 and 15) of a /proc stat line, in seconds; counted after the `)` that ends the command name, which may hold spaces. */
export function statCpuSeconds(stat: string): number | null {
  const field = statFields(stat);
  const ticks = Number(field(14)) + Number(field(15));
  return Number.isFinite(ticks) ? ticks / CLOCK_TICKS_PER_SECOND : null;
}

/** VmRSS of a /proc status file, in bytes. */
export function statusRssBytes(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // not Linux, or the process is gone
  }
}

/** CPU time and resident memory of a live process; null when unreadable. */
export function processUsage(pid: number): Usage | null {
  const stat = read(`/proc/${pid}/stat`);
  const status = read(`/proc/${pid}/status`);
  const cpuSeconds = stat === null ? null : statCpuSeconds(stat);
  const memoryBytes = status === null ? null : statusRssBytes(status);
  return cpuSeconds === null || memoryBytes === null ? null : { cpuSeconds, memoryBytes };
}

/**
 * The calling thread's CPU time and its V8 isolate's heap (plus the
 * ArrayBuffers it holds): what a worker thread can say about itself.
 * onnxruntime's own allocations are not in it.
 */
export function threadUsage(): Usage | null {
  const stat = read('/proc/thread-self/stat');
  const cpuSeconds = stat === null ? null : statCpuSeconds(stat);
  if (cpuSeconds === null) return null;
  const heap = getHeapStatistics();
  return { cpuSeconds, memoryBytes: heap.used_heap_size + heap.external_memory };
}

/**
 * One instance's usage across restarts: the CPU a dead incarnation used is
 * kept, so the deployment's CPU counter never goes backwards.
 */
export class UsageAccount {
  private retiredCpu = 0;
  private last: Usage | null = null;

  /** The latest reading of the current incarnation. */
  note(u: Usage | null): void {
    if (u) this.last = u;
  }

  /** The current incarnation ended: its CPU is banked, its memory freed. */
  retire(): void {
    this.retiredCpu += this.last?.cpuSeconds ?? 0;
    this.last = null;
  }

  get measured(): boolean {
    return this.last !== null || this.retiredCpu > 0;
  }

  get cpuSeconds(): number {
    return this.retiredCpu + (this.last?.cpuSeconds ?? 0);
  }

  get memoryBytes(): number {
    return this.last?.memoryBytes ?? 0;
  }
}

/** The stats fields for a set of instances; absent when none could be measured. */
export function usageStats(accounts: UsageAccount[]): { cpuSeconds?: number; memoryBytes?: number } {
  const measured = accounts.filter((a) => a.measured);
  if (!measured.length) return {};
  return { cpuSeconds: measured.reduce((s, a) => s + a.cpuSeconds, 0), memoryBytes: measured.reduce((s, a) => s + a.memoryBytes, 0) };
}
