/**
 * Behaviour every ArtifactStore must share, written once and run against each
 * implementation by artifacts.test.ts. Each test works in its own key
 * namespace so the tests stay independent within one store.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { ArtifactStore } from '../../src/artifacts/store.js';

export const MIB = 1024 * 1024;

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function pseudoRandomBytes(n: number, seed = 0x9e3779b9): Buffer {
  const buf = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    for (let j = 0; j < 4 && i + j < n; j++) buf[i + j] = (x >>> (8 * j)) & 0xff;
  }
  return buf;
}

/** Streams `buf` in irregular chunk sizes, to catch chunk-boundary bugs. */
export function chunkedStream(buf: Buffer): Readable {
  const sizes = [1, 17, 4096, 65_536, 1_000_003, 3];
  return Readable.from(
    (function* () {
      for (let off = 0, i = 0; off < buf.length; i++) {
        const n = sizes[i % sizes.length];
        yield buf.subarray(off, off + n);
        off += n;
      }
    })(),
  );
}

/** A stream that yields `good` bytes and then fails. */
export function failingStream(good: Buffer): Readable {
  return Readable.from(
    (async function* () {
      yield good;
      throw new Error('source broke');
    })(),
  );
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(parts);
}

export function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

export async function rejectsWith(p: Promise<unknown>, code: string, field?: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    const e = err as { code?: string; issues?: Array<{ field: string }> };
    assert.equal(e.code, code, `expected code ${code}, got ${String(err)}`);
    if (field !== undefined) assert.equal(e.issues?.[0]?.field, field);
    return true;
  });
}

/** Keys that must be refused by every operation, never resolved. */
export const TRAVERSAL_KEYS = ['../x', 'a/../../x', '/etc/passwd', 'a\\b', 'a\u0000b', '..', 'a/b/..', 'ok/../../../etc/passwd', 'C:/x', 'a\nb'];
/** Keys that normalise to nothing: fine as a list prefix (the root), refused as an artifact key. */
const EMPTY_KEYS = ['', '.', './', './/.'];

export function artifactStoreContract(name: string, factory: () => Promise<ArtifactStore>): void {
  describe(`ArtifactStore contract: ${name}`, () => {
    let store: ArtifactStore;
    before(async () => {
      store = await factory();
    });
    after(async () => {
      await store?.close();
    });

    describe('put and get', () => {
      it('round-trips a small Uint8Array and reports size and sha256', async () => {
        const body = new TextEncoder().encode('hello artifacts\n');
        const res = await store.put('small/hello.txt', body, { contentType: 'text/plain' });
        assert.deepEqual(res, { key: 'small/hello.txt', size: body.byteLength, sha256: sha256(body) });
        assert.ok((await readAll(await store.get('small/hello.txt'))).equals(Buffer.from(body)));
      });

      it('round-trips a multi-MB stream byte for byte, with a correct sha256', async () => {
        const data = pseudoRandomBytes(12 * MIB + 7);
        const res = await store.put('big/model.bin', chunkedStream(data));
        assert.equal(res.size, data.length);
        assert.equal(res.sha256, sha256(data));
        const back = await readAll(await store.get('big/model.bin'));
        assert.equal(back.length, data.length);
        assert.ok(back.equals(data), 'stored bytes differ from the bytes written');
        assert.equal(await store.digest('big/model.bin'), sha256(data));
        assert.equal((await store.stat('big/model.bin'))?.size, data.length);
      });

      it('stores an empty body', async () => {
        const res = await store.put('empty/zero', Readable.from([]));
        assert.deepEqual(res, { key: 'empty/zero', size: 0, sha256: sha256(new Uint8Array()) });
        assert.equal((await readAll(await store.get('empty/zero'))).length, 0);
      });

      it('hashes string chunks as the UTF-8 bytes it stores', async () => {
        const res = await store.put('strings/s.txt', Readable.from(['héllo ', 'wörld']));
        const expected = Buffer.from('héllo wörld', 'utf8');
        assert.equal(res.sha256, sha256(expected));
        assert.equal(res.size, expected.length);
        assert.ok((await readAll(await store.get('strings/s.txt'))).equals(expected));
      });

      it('replaces an existing artifact', async () => {
        await store.put('replace/x', Buffer.from('first version, longer'));
        await store.put('replace/x', Buffer.from('second'));
        assert.equal((await readAll(await store.get('replace/x'))).toString(), 'second');
        assert.equal((await store.stat('replace/x'))?.size, 6);
      });

      it('keeps the old bytes when a replacing stream fails, and leaves nothing behind', async () => {
        await store.put('atomic/x', Buffer.from('old'));
        await assert.rejects(store.put('atomic/x', failingStream(pseudoRandomBytes(70_000))), /source broke/);
        await assert.rejects(store.put('atomic/new', failingStream(pseudoRandomBytes(10))), /source broke/);
        assert.equal((await readAll(await store.get('atomic/x'))).toString(), 'old');
        assert.equal(await store.stat('atomic/new'), null);
        assert.deepEqual(await store.list('atomic', { recursive: true }), [{ key: 'atomic/x', size: 3, isDir: false }]);
      });

      it('normalises keys: "." segments, repeated and trailing slashes', async () => {
        const res = await store.put('norm/./a//b.txt', Buffer.from('n'));
        assert.equal(res.key, 'norm/a/b.txt');
        assert.equal((await readAll(await store.get('norm/a/b.txt/'))).toString(), 'n');
      });

      it('treats an undecoded "%2e%2e" as a literal name inside the store', async () => {
        const res = await store.put('pct/%2e%2e/x', Buffer.from('p'));
        assert.equal(res.key, 'pct/%2e%2e/x');
        assert.deepEqual(await store.list('pct', { recursive: true }), [{ key: 'pct/%2e%2e/x', size: 1, isDir: false }]);
      });
    });

    describe('missing artifacts and stat', () => {
      it('get of a missing key throws NotFound', async () => {
        await rejectsWith(store.get('missing/nothing.bin'), 'not_found');
      });

      it('digest of a missing key throws NotFound', async () => {
        await rejectsWith(store.digest('missing/nothing.bin'), 'not_found');
      });

      it('stat of a missing key is null', async () => {
        assert.equal(await store.stat('missing/nothing.bin'), null);
      });

      it('a directory is not an artifact: get throws NotFound, stat is null', async () => {
        await store.put('dirlike/inner/file', Buffer.from('x'));
        await rejectsWith(store.get('dirlike/inner'), 'not_found');
        assert.equal(await store.stat('dirlike/inner'), null);
      });

      it('stat reports key, size and a modification time', async () => {
        await store.put('stat/f.bin', pseudoRandomBytes(1234));
        const st = await store.stat('stat/f.bin');
        assert.ok(st);
        assert.equal(st.key, 'stat/f.bin');
        assert.equal(st.size, 1234);
        assert.ok(st.modified instanceof Date && !Number.isNaN(st.modified.getTime()));
      });
    });

    describe('list', () => {
      before(async () => {
        await store.put('ls/a.txt', Buffer.from('abc'));
        await store.put('ls/sub/b.txt', Buffer.from('bb'));
        await store.put('ls/sub/deeper/c.txt', Buffer.from('c'));
        await store.put('ls/z.bin', Buffer.from('zzzz'));
        await store.put('lsx/other.txt', Buffer.from('o'));
      });

      it('lists direct children, directories as isDir entries', async () => {
        assert.deepEqual(await store.list('ls'), [
          { key: 'ls/a.txt', size: 3, isDir: false },
          { key: 'ls/sub', size: 0, isDir: true },
          { key: 'ls/z.bin', size: 4, isDir: false },
        ]);
        assert.deepEqual(await store.list('ls/'), await store.list('ls'));
        assert.deepEqual(await store.list('ls/sub'), [
          { key: 'ls/sub/b.txt', size: 2, isDir: false },
          { key: 'ls/sub/deeper', size: 0, isDir: true },
        ]);
      });

      it('lists every artifact below the prefix when recursive, files only', async () => {
        assert.deepEqual(await store.list('ls', { recursive: true }), [
          { key: 'ls/a.txt', size: 3, isDir: false },
          { key: 'ls/sub/b.txt', size: 2, isDir: false },
          { key: 'ls/sub/deeper/c.txt', size: 1, isDir: false },
          { key: 'ls/z.bin', size: 4, isDir: false },
        ]);
      });

      it('lists the root with an empty prefix', async () => {
        const top = await store.list('');
        assert.ok(top.some((e) => e.key === 'ls' && e.isDir));
        assert.ok(top.some((e) => e.key === 'lsx' && e.isDir));
        assert.ok(top.every((e) => !e.key.includes('/')));
        const all = await store.list('', { recursive: true });
        assert.ok(all.some((e) => e.key === 'ls/sub/deeper/c.txt' && !e.isDir));
      });

      it('gives [] for a missing prefix or a file', async () => {
        assert.deepEqual(await store.list('no/such/prefix'), []);
        assert.deepEqual(await store.list('no/such/prefix', { recursive: true }), []);
        assert.deepEqual(await store.list('ls/a.txt'), []);
      });
    });

    describe('delete', () => {
      it('deletes a single file and leaves its siblings', async () => {
        await store.put('dl/a.txt', Buffer.from('a'));
        await store.put('dl/b.txt', Buffer.from('b'));
        await store.delete('dl/a.txt');
        assert.equal(await store.stat('dl/a.txt'), null);
        assert.deepEqual(await store.list('dl'), [{ key: 'dl/b.txt', size: 1, isDir: false }]);
      });

      it('deletes everything under a prefix, and nothing that merely shares its spelling', async () => {
        for (const k of ['dp/x/1', 'dp/x/2', 'dp/x/y/3', 'dp/x/y/z/4', 'dp/x/5', 'dp/x/6', 'dp/x/7']) {
          await store.put(k, Buffer.from(k));
        }
        await store.put('dp/xy.txt', Buffer.from('keep'));
        await store.put('dp/x.txt', Buffer.from('keep'));
        await store.delete('dp/x/');
        assert.deepEqual(await store.list('dp', { recursive: true }), [
          { key: 'dp/x.txt', size: 4, isDir: false },
          { key: 'dp/xy.txt', size: 4, isDir: false },
        ]);
        assert.ok(!(await store.list('dp')).some((e) => e.key === 'dp/x'));
        await rejectsWith(store.get('dp/x/y/3'), 'not_found');
      });

      it('leaves no empty directory behind once a prefix is emptied', async () => {
        await store.put('gone/a/b/c', Buffer.from('c'));
        await store.delete('gone/a/b/c');
        assert.deepEqual(await store.list('gone'), []);
        assert.ok(!(await store.list('')).some((e) => e.key === 'gone'));
      });

      it('treats a missing key or prefix as already deleted', async () => {
        await store.delete('never/existed');
        await store.delete('never/existed/either/');
      });

      it('refuses to delete the whole store', async () => {
        for (const k of EMPTY_KEYS) await rejectsWith(store.delete(k), 'invalid', 'path');
      });
    });

    describe('key validation', () => {
      it('every operation refuses traversal, absolute, backslash and NUL keys', async () => {
        for (const bad of TRAVERSAL_KEYS) {
          await rejectsWith(store.put(bad, Buffer.from('evil')), 'invalid', 'path');
          await rejectsWith(store.put(bad, Readable.from([Buffer.from('evil')])), 'invalid', 'path');
          await rejectsWith(store.get(bad), 'invalid', 'path');
          await rejectsWith(store.stat(bad), 'invalid', 'path');
          await rejectsWith(store.digest(bad), 'invalid', 'path');
          await rejectsWith(store.delete(bad), 'invalid', 'path');
          await rejectsWith(store.list(bad), 'invalid', 'path');
          await rejectsWith(store.list(bad, { recursive: true }), 'invalid', 'path');
        }
      });

      it('keys that normalise to nothing name no artifact', async () => {
        for (const k of EMPTY_KEYS) {
          await rejectsWith(store.put(k, Buffer.from('x')), 'invalid', 'path');
          await rejectsWith(store.get(k), 'invalid', 'path');
          await rejectsWith(store.stat(k), 'invalid', 'path');
        }
      });

      it('a refused key wrote nothing into the store', async () => {
        const all = await store.list('', { recursive: true });
        for (const e of all) assert.ok(!/evil|passwd/.test(e.key), `unexpected ${e.key}`);
      });
    });
  });
}
