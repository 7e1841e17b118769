import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Dirs this process holds; a pid file naming our own pid but absent here is left over from a previous life. */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Who holds the file: a live pid, or null when the claim is stale. */
function liveOwner(file: string, dir: string): number | 'starting' | null {
  const text = readFileSync(file, 'utf8').trim();
  if (!text) {
    // Another starter between create and write; stale only if it never finished.
    return Date.now() - statSync(file).mtimeMs < 10_000 ? 'starting' : null;
  }
  const owner = Number(text);
  if (!Number.isInteger(owner) || owner <= 0) return null;
  // After a crash a container restarts us with the same pid (often 1).
  if (owner === process.pid) return held.has(dir) ? owner : null;
  return alive(owner) ? owner : null;
}

/**
 * PGlite is one process's database: two processes on one data dir would
 * corrupt it. A pid file claims the dir; a stale one (dead pid) is taken over.
 */
export function lockDataDir(dirPath: string): () => void {
  const dir = resolve(dirPath);
  const file = join(dir, 'slipway.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(dir);
      return () => {
        held.delete(dir);
        try {
          if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = liveOwner(file, dir);
      if (owner !== null) {
        const who = owner === 'starting' ? 'another process that is starting' : `process ${owner}`;
        throw new Error(`the data dir ${dir} is in use by ${who}; stop it first or choose another --data-dir`);
      }
      unlinkSync(file);
    }
  }
  throw new Error(`could not lock ${dir}`);
}
