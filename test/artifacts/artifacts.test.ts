import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { FsArtifactStore } from '../../src/artifacts/fs.js';
import { validateKey, validatePrefix } from '../../src/artifacts/keys.js';
import { openArtifactStore, parseS3 } from '../../src/artifacts/open.js';
import { S3ArtifactStore, type S3StoreOptions } from '../../src/artifacts/s3.js';
import { MIB, artifactStoreContract, failingStream, readAll, rejectsWith, TRAVERSAL_KEYS } from './contract.js';

describe('keys', () => {
  it('normalises harmless oddities', () => {
    assert.equal(validateKey('a/./b//c/'), 'a/b/c');
    assert.equal(validatePrefix(''), '');
    assert.equal(validatePrefix('./'), '');
  });

  it('rejects traversal with a path field error', () => {
    for (const k of TRAVERSAL_KEYS) assert.throws(() => validateKey(k), { code: 'invalid', message: /^path: / });
    assert.throws(() => validateKey('x'.repeat(1025)), { code: 'invalid' });
    assert.throws(() => validateKey(`a/${'y'.repeat(256)}/b`), { code: 'invalid', message: /255 bytes/ });
    assert.equal(validateKey(`a/${'y'.repeat(255)}`), `a/${'y'.repeat(255)}`);
  });
});

describe('filesystem store', () => {
  let base: string;
  let root: string;
  let outside: string;

  before(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'slipway-artifacts-fs-'));
    root = path.join(base, 'root');
    outside = path.join(base, 'outside');
    await mkdir(outside);
    await writeFile(path.join(outside, 'secret.txt'), 'top secret');
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  // The store creates its root on first use.
  artifactStoreContract('fs', async () => new FsArtifactStore(root));

  describe('containment', () => {
    let store: FsArtifactStore;
    before(async () => {
      store = new FsArtifactStore(root);
      await store.put('inside/real/f.txt', Buffer.from('inside'));
      await symlink(outside, path.join(root, 'escape'));
      await symlink(path.join(outside, 'secret.txt'), path.join(root, 'leak'));
      await symlink(path.join(outside, 'not-yet'), path.join(root, 'dangle'));
      await symlink(path.join(root, 'inside', 'real'), path.join(root, 'alias'));
    });

    it('refuses every operation through a symlinked directory that points out', async () => {
      await rejectsWith(store.put('escape/new.txt', Buffer.from('x')), 'invalid', 'path');
      await rejectsWith(store.put('escape/deep/er/new.txt', Buffer.from('x')), 'invalid', 'path');
      await rejectsWith(store.get('escape/secret.txt'), 'invalid', 'path');
      await rejectsWith(store.stat('escape/secret.txt'), 'invalid', 'path');
      await rejectsWith(store.digest('escape/secret.txt'), 'invalid', 'path');
      await rejectsWith(store.list('escape'), 'invalid', 'path');
      await rejectsWith(store.list('escape', { recursive: true }), 'invalid', 'path');
      await rejectsWith(store.delete('escape/secret.txt'), 'invalid', 'path');
    });

    it('refuses a symlinked file that points out, and a dangling symlink', async () => {
      await rejectsWith(store.get('leak'), 'invalid', 'path');
      await rejectsWith(store.put('leak', Buffer.from('x')), 'invalid', 'path');
      await rejectsWith(store.put('dangle/x', Buffer.from('x')), 'invalid', 'path');
      await rejectsWith(store.put('dangle', Buffer.from('x')), 'invalid', 'path');
    });

    it('never lists what it would refuse to read', async () => {
      const top = (await store.list('')).map((e) => e.key);
      assert.ok(!top.includes('escape') && !top.includes('leak') && !top.includes('dangle'));
      const all = (await store.list('', { recursive: true })).map((e) => e.key);
      assert.ok(all.every((k) => !k.startsWith('escape') && !k.startsWith('leak')));
    });

    it('follows a symlink that stays inside the root', async () => {
      assert.equal((await readAll(await store.get('alias/f.txt'))).toString(), 'inside');
      assert.ok((await store.list('')).some((e) => e.key === 'alias' && e.isDir));
    });

    it('deleting an escaping link removes the link, not its target', async () => {
      await store.delete('leak');
      assert.equal(await readFile(path.join(outside, 'secret.txt'), 'utf8'), 'top secret');
      assert.ok(!(await readdir(root)).includes('leak'));
    });

    it('created nothing outside the root', async () => {
      assert.deepEqual((await readdir(base)).sort(), ['outside', 'root']);
      assert.deepEqual((await readdir(outside)).sort(), ['secret.txt']);
      assert.equal(await readFile(path.join(outside, 'secret.txt'), 'utf8'), 'top secret');
    });
  });

  describe('on disk', () => {
    let store: FsArtifactStore;
    before(() => {
      store = new FsArtifactStore(root);
    });

    it('stores artifacts as plain files under the root', async () => {
      await store.put('plain/model.txt', Buffer.from('weights'));
      assert.equal(await readFile(path.join(root, 'plain', 'model.txt'), 'utf8'), 'weights');
    });

    it('leaves no temp file after a failed write', async () => {
      await store.put('tmpcheck/keep.txt', Buffer.from('k'));
      await assert.rejects(store.put('tmpcheck/fail.txt', failingStream(Buffer.alloc(100_000))), /source broke/);
      assert.deepEqual(await readdir(path.join(root, 'tmpcheck')), ['keep.txt']);
    });

    it('refuses keys using the temp-file marker', async () => {
      await rejectsWith(store.put('x/.slipway-tmp-abc', Buffer.from('x')), 'invalid', 'path');
    });

    it('reports a conflict when a file sits where a directory is needed', async () => {
      await store.put('clash/f', Buffer.from('f'));
      await rejectsWith(store.put('clash/f/g', Buffer.from('g')), 'conflict');
      await rejectsWith(store.put('clash', Buffer.from('dir')), 'conflict');
    });
  });

  describe('openArtifactStore', () => {
    it('opens a path or a file:// URL as the fs store', async () => {
      for (const spec of [path.join(base, 'root'), pathToFileURL(path.join(base, 'root')).href]) {
        const s = openArtifactStore(spec);
        assert.ok(s instanceof FsArtifactStore);
        assert.equal(s.root, root);
        assert.equal((await readAll(await s.get('plain/model.txt'))).toString(), 'weights');
      }
    });

    it('rejects unknown schemes and bad s3 specs', () => {
      for (const spec of ['', 'gs://bucket/x', 'http://127.0.0.1/x', 's3://', 's3://Bad_Bucket', 's3://bucket/../x', 's3://bucket/a?x=1', 'file://remote-host/x']) {
        assert.throws(() => openArtifactStore(spec), { code: 'invalid' }, spec);
      }
    });

    it('parses s3://bucket/prefix without re-encoding the prefix', () => {
      assert.deepEqual(parseS3('s3://bucket'), { bucket: 'bucket', prefix: '' });
      assert.deepEqual(parseS3('s3://my.bucket/a//b c/'), { bucket: 'my.bucket', prefix: 'a/b c' });
      const s = openArtifactStore('s3://bucket/runs', { region: 'eu-west-1', accessKeyId: 'k', secretAccessKey: 's' });
      assert.ok(s instanceof S3ArtifactStore);
      assert.equal(s.prefix, 'runs');
      return s.close();
    });
  });
});

describe('s3 store (s3rver on 127.0.0.1)', () => {
  const BUCKET = 'slipway-test';
  let dir: string;
  let server: ChildProcess | undefined;
  let conn: S3StoreOptions;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'slipway-artifacts-s3-'));
    const started = await startS3rver(dir, BUCKET);
    server = started.child;
    const port = started.port;
    conn = {
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    };
  });
  after(async () => {
    if (server && server.exitCode === null) {
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  // Small pages and parts, so listing, prefix deletes and the 12 MiB upload
  // go through pagination, several DeleteObjects batches and multipart.
  artifactStoreContract('s3', async () => openArtifactStore(`s3://${BUCKET}/runs/p1`, { ...conn, pageSize: 2, partSize: 5 * MIB }));

  describe('containment and errors', () => {
    it('wrote nothing outside its prefix', async () => {
      const whole = openArtifactStore(`s3://${BUCKET}`, conn);
      try {
        const keys = (await whole.list('', { recursive: true })).map((e) => e.key);
        assert.ok(keys.length > 0);
        for (const k of keys) assert.ok(k.startsWith('runs/p1/'), `object outside the prefix: ${k}`);
      } finally {
        await whole.close();
      }
    });

    it('a missing bucket is reported as unavailable', async () => {
      const missing = openArtifactStore('s3://no-such-bucket/x', conn);
      try {
        await rejectsWith(missing.get('a'), 'unavailable');
      } finally {
        await missing.close();
      }
    });
  });
});

/** Starts s3rver-child.mjs and resolves once it reports its port. */
async function startS3rver(directory: string, bucket: string): Promise<{ child: ChildProcess; port: number }> {
  const script = fileURLToPath(new URL('./s3rver-child.mjs', import.meta.url));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', script, directory, bucket], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const failed = once(child, 'exit').then(([code]) => {
    throw new Error(`s3rver exited early with code ${String(code)}`);
  });
  const ready = once(lines, 'line').then(([line]) => (JSON.parse(line as string) as { port: number }).port);
  try {
    return { child, port: await Promise.race([ready, failed]) };
  } finally {
    failed.catch(() => {}); // the exit at teardown is expected
    lines.close();
  }
}
