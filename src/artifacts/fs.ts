import { randomUUID } from 'node:crypto';
import { constants, type Dirent } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath, rename, rm, rmdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Conflict, Invalid, NotFound } from '../shared/errors.js';
import { joinKey, validateKey, validatePrefix } from './keys.js';
import { Digester, sha256Of, type ArtifactEntry, type ArtifactStat, type ArtifactStore, type PutResult } from './store.js';

/**
 * Artifacts as plain files under a root directory.
 *
 * Writes go to a temp file in the destination directory, are fsynced, then
 * renamed over the destination (and the directory fsynced), so readers see the
 * old bytes or the new ones and an acknowledged write survives a crash.
 *
 * Containment: keys are validated lexically (keys.ts), and the existing part of
 * every path is resolved through symlinks and must stay inside the real root.
 * The checks assume nothing but Slipway writes inside the root; they are not
 * race-free against another process planting symlinks there concurrently.
 */

// Temp files live beside their destination (same filesystem, so rename is
// atomic); the marker keeps them out of listings and out of user keys.
const TMP_MARK = '.slipway-tmp-';
const NOT_THERE = new Set(['ENOENT', 'ENOTDIR']);

export class FsArtifactStore implements ArtifactStore {
  readonly root: string;
  private realRoot?: Promise<string>;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  async put(key: string, body: Readable | Uint8Array): Promise<PutResult> {
    const k = checkReserved(validateKey(key));
    const root = await this.rootReal();
    const dest = keyPath(root, k);
    await assertContained(root, dest);
    const digester = new Digester();
    const { tmp, created } = await writeTemp(root, dest, k, digester.tap(body));
    try {
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true });
      if (errCode(err) === 'EISDIR' || errCode(err) === 'ENOTEMPTY') throw new Conflict(`artifact path '${k}' is a directory`);
      throw err;
    }
    await syncDirs(path.dirname(dest), created ? path.dirname(created) : path.dirname(dest));
    return { key: k, size: digester.size, sha256: digester.hex() };
  }

  async get(key: string): Promise<Readable> {
    const k = checkReserved(validateKey(key));
    const p = await this.locate(k);
    let fh: FileHandle;
    try {
      // O_NONBLOCK so a FIFO planted in the root cannot hang the open.
      fh = await open(p, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    } catch (err) {
      if (NOT_THERE.has(errCode(err))) throw new NotFound('artifact', k);
      throw err;
    }
    const st = await fh.stat().catch(async (err: unknown) => {
      await fh.close();
      throw err;
    });
    if (!st.isFile()) {
      await fh.close();
      throw new NotFound('artifact', k);
    }
    return fh.createReadStream();
  }

  async stat(key: string): Promise<ArtifactStat | null> {
    const k = checkReserved(validateKey(key));
    const st = await statOrNull(await this.locate(k));
    if (!st?.isFile()) return null;
    return { key: k, size: st.size, modified: st.mtime };
  }

  async list(prefix: string, opts: { recursive?: boolean } = {}): Promise<ArtifactEntry[]> {
    const pre = checkReserved(validatePrefix(prefix));
    const root = await this.rootReal();
    const dir = await this.locate(pre);
    const out: ArtifactEntry[] = [];
    await collect(root, dir, pre, opts.recursive === true, out);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keyOrPrefix: string): Promise<void> {
    // validateKey, not validatePrefix: deleting the whole root is never meant.
    const k = checkReserved(validateKey(keyOrPrefix));
    const root = await this.rootReal();
    const full = keyPath(root, k);
    // Only the parent must resolve inside: rm removes a final symlink itself,
    // never its target, and does not follow links while recursing.
    await assertContained(root, path.dirname(full));
    try {
      await rm(full, { recursive: true, force: true });
    } catch (err) {
      if (!NOT_THERE.has(errCode(err))) throw err;
    }
    await pruneEmptyDirs(root, path.dirname(full));
  }

  async digest(key: string): Promise<string> {
    return sha256Of(await this.get(key));
  }

  async close(): Promise<void> {}

  /** The root's real path, created on first use; retried if that failed. */
  private rootReal(): Promise<string> {
    this.realRoot ??= (async () => {
      await mkdir(this.root, { recursive: true });
      return realpath(this.root);
    })().catch((err: unknown) => {
      this.realRoot = undefined;
      throw err;
    });
    return this.realRoot;
  }

  private async locate(key: string): Promise<string> {
    const root = await this.rootReal();
    const p = keyPath(root, key);
    await assertContained(root, p);
    return p;
  }
}

function keyPath(root: string, key: string): string {
  return key === '' ? root : path.join(root, ...key.split('/'));
}

function checkReserved(key: string): string {
  if (key.split('/').some((s) => s.startsWith(TMP_MARK))) {
    throw Invalid.field('path', `must not use the reserved name prefix "${TMP_MARK}"`);
  }
  return key;
}

function escapes(): Invalid {
  return Invalid.field('path', 'resolves outside the artifact root');
}

function isWithin(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/**
 * Throws unless the deepest existing ancestor of `p` (`p` included) resolves
 * inside `root`. What does not exist yet will be created as real directories
 * below that ancestor, so it cannot escape either.
 */
async function assertContained(root: string, p: string): Promise<void> {
  let cur = p;
  let below: string | null = null;
  for (;;) {
    const real = await realpathOrNull(cur);
    if (real !== null) {
      if (!isWithin(root, real)) throw escapes();
      // `below` failed to resolve yet exists now. A dangling symlink could point
      // anywhere once its target is created; a real directory is a concurrent
      // writer's mkdir and is as contained as its parent.
      if (below !== null && (await lstatOrNull(below))?.isSymbolicLink()) throw escapes();
      return;
    }
    if (cur === root) return; // root removed behind our back; mkdir recreates it
    below = cur;
    cur = path.dirname(cur);
  }
}

async function realpathOrNull(p: string): Promise<string | null> {
  try {
    return await realpath(p);
  } catch (err) {
    if (NOT_THERE.has(errCode(err))) return null;
    if (errCode(err) === 'ELOOP') throw escapes();
    throw err;
  }
}

async function lstatOrNull(p: string) {
  try {
    return await lstat(p);
  } catch (err) {
    if (NOT_THERE.has(errCode(err))) return null;
    throw err;
  }
}

async function statOrNull(p: string) {
  try {
    return await stat(p);
  } catch (err) {
    if (NOT_THERE.has(errCode(err))) return null;
    throw err;
  }
}

/** Writes `chunks` to a new fsynced temp file beside `dest`; returns it and the first directory mkdir created. */
async function writeTemp(root: string, dest: string, key: string, chunks: AsyncIterable<Uint8Array>) {
  const dir = path.dirname(dest);
  const tmp = path.join(dir, `${TMP_MARK}${randomUUID()}`);
  const { fh, created } = await createTemp(root, dir, tmp, key);
  try {
    for await (const chunk of chunks) await writeAll(fh, chunk);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  try {
    await fh.close();
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { tmp, created };
}

async function createTemp(root: string, dir: string, tmp: string, key: string) {
  // A concurrent delete may prune the freshly made directory before the open;
  // making it again is enough.
  for (let attempt = 1; ; attempt++) {
    let created: string | undefined;
    try {
      created = await mkdir(dir, { recursive: true });
    } catch (err) {
      if (errCode(err) === 'EEXIST' || errCode(err) === 'ENOTDIR') {
        throw new Conflict(`artifact path '${key}' lies below an existing artifact file`);
      }
      throw err;
    }
    if (created !== undefined) await assertContained(root, dir);
    try {
      return { fh: await open(tmp, 'wx', 0o644), created };
    } catch (err) {
      if (errCode(err) !== 'ENOENT' || attempt >= 3) throw err;
    }
  }
}

async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let off = 0;
  while (off < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off);
    off += bytesWritten;
  }
}

/** fsyncs `from` and each ancestor up to `upTo`, so renames and new directories are durable. */
async function syncDirs(from: string, upTo: string): Promise<void> {
  for (let dir = from; ; dir = path.dirname(dir)) {
    await syncDir(dir);
    if (dir === upTo || dir === path.dirname(dir)) return;
  }
}

async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    // Some platforms (Windows) cannot open or fsync a directory.
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EACCES'].includes(errCode(err))) throw err;
  } finally {
    await fh?.close();
  }
}

/** Removes now-empty directories from `dir` up to (not including) the root, as S3 has no empty prefixes. */
async function pruneEmptyDirs(root: string, dir: string): Promise<void> {
  for (let cur = dir; cur !== root && isWithin(root, cur); cur = path.dirname(cur)) {
    try {
      await rmdir(cur);
    } catch (err) {
      if (!NOT_THERE.has(errCode(err))) return; // ENOTEMPTY and friends: stop here
    }
  }
}

/** Appends the entries of `dir` (key `prefix`) to `out`, descending into real sub-directories if `recursive`. */
async function collect(root: string, dir: string, prefix: string, recursive: boolean, out: ArtifactEntry[]): Promise<void> {
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (NOT_THERE.has(errCode(err))) return; // missing prefix, or a file: no children
    throw err;
  }
  for (const d of dirents) {
    if (d.name.startsWith(TMP_MARK)) continue;
    const key = joinKey(prefix, d.name);
    const full = path.join(dir, d.name);
    const kind = await classify(root, full, d);
    if (kind === null) continue;
    if (kind.isDir) {
      if (!recursive) out.push({ key, size: 0, isDir: true });
      // Symlinked directories are listed but not walked: walking could loop.
      else if (!kind.viaLink) await collect(root, full, key, true, out);
    } else {
      out.push({ key, size: kind.size, isDir: false });
    }
  }
}

async function classify(root: string, full: string, d: Dirent): Promise<{ isDir: boolean; size: number; viaLink: boolean } | null> {
  if (d.isDirectory()) return { isDir: true, size: 0, viaLink: false };
  if (d.isSymbolicLink()) {
    const real = await realpathOrNull(full).catch(() => null);
    if (real === null || !isWithin(root, real)) return null; // never list what get() would refuse
  } else if (!d.isFile()) {
    return null; // sockets, FIFOs, devices are not artifacts
  }
  const st = await statOrNull(full);
  if (st === null) return null;
  if (st.isDirectory()) return { isDir: true, size: 0, viaLink: true };
  return st.isFile() ? { isDir: false, size: st.size, viaLink: d.isSymbolicLink() } : null;
}

function errCode(err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : '';
}
