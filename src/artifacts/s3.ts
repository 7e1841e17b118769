import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Invalid, NotFound, Unavailable } from '../shared/errors.js';
import { joinKey, validateKey, validatePrefix } from './keys.js';
import { Digester, sha256Of, type ArtifactEntry, type ArtifactStat, type ArtifactStore, type PutOptions, type PutResult } from './store.js';

/** Connection settings, filled by the caller from config (this module reads no environment). */
export interface S3StoreOptions {
  /** e.g. `http://127.0.0.1:9000` for MinIO or another S3-compatible server. */
  endpoint?: string;
  /** Defaults to us-east-1. */
  region?: string;
  /** Path-style URLs (`endpoint/bucket/key`), needed by most S3-compatible servers. */
  forcePathStyle?: boolean;
  /** With secretAccessKey; if both are absent the SDK's default credential chain applies. */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Keys per ListObjectsV2 page, at most 1000 (S3's own cap and DeleteObjects' batch limit). */
  pageSize?: number;
  /** Part size for streamed multipart uploads, at least 5 MiB (S3's minimum). */
  partSize?: number;
}

const MAX_BATCH = 1000;
const MIB = 1024 * 1024;

/**
 * Artifacts as objects under `prefix` in an S3 bucket. Objects are replaced
 * atomically by S3 itself; streamed bodies of unknown length go up as a
 * multipart upload, which S3 makes visible only on completion.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly pageSize: number;
  private readonly partSize: number;

  constructor(bucket: string, prefix: string, opts: S3StoreOptions = {}) {
    this.bucket = bucket;
    this.prefix = validatePrefix(prefix);
    this.client = new S3Client(clientConfig(opts));
    this.pageSize = Math.min(MAX_BATCH, Math.max(1, opts.pageSize ?? MAX_BATCH));
    this.partSize = Math.max(5 * MIB, opts.partSize ?? 8 * MIB);
  }

  async put(key: string, body: Readable | Uint8Array, opts: PutOptions = {}): Promise<PutResult> {
    const k = validateKey(key);
    const target = { Bucket: this.bucket, Key: this.objectKey(k), ContentType: opts.contentType };
    try {
      if (body instanceof Uint8Array) {
        await this.client.send(new PutObjectCommand({ ...target, Body: body, ContentLength: body.byteLength }));
        return { key: k, size: body.byteLength, sha256: createHash('sha256').update(body).digest('hex') };
      }
      const d = new Digester();
      const source = Readable.from(d.tap(body), { objectMode: false });
      const upload = new Upload({ client: this.client, params: { ...target, Body: source }, partSize: this.partSize, queueSize: 2 });
      try {
        await upload.done();
      } finally {
        source.destroy(); // stops reading `body` if the upload failed part-way
      }
      return { key: k, size: d.size, sha256: d.hex() };
    } catch (err) {
      throw this.mapError(err, k);
    }
  }

  async get(key: string): Promise<Readable> {
    const k = validateKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(k) }));
      if (out.Body instanceof Readable) return out.Body;
      throw new Error('S3 GetObject returned a body that is not a Node stream');
    } catch (err) {
      throw this.mapError(err, k);
    }
  }

  async stat(key: string): Promise<ArtifactStat | null> {
    const k = validateKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(k) }));
      return { key: k, size: out.ContentLength ?? 0, modified: out.LastModified ?? new Date(0) };
    } catch (err) {
      const mapped = this.mapError(err, k);
      if (mapped instanceof NotFound) return null;
      throw mapped;
    }
  }

  async list(prefix: string, opts: { recursive?: boolean } = {}): Promise<ArtifactEntry[]> {
    const pre = validatePrefix(prefix);
    const s3Prefix = dirPrefix(this.objectKey(pre));
    const out: ArtifactEntry[] = [];
    const pages = paginateListObjectsV2(
      { client: this.client, pageSize: this.pageSize },
      { Bucket: this.bucket, Prefix: s3Prefix || undefined, Delimiter: opts.recursive ? undefined : '/' },
    );
    try {
      for await (const page of pages) {
        for (const cp of page.CommonPrefixes ?? []) {
          const rel = relative(cp.Prefix?.replace(/\/$/, ''), s3Prefix);
          if (rel !== null) out.push({ key: joinKey(pre, rel), size: 0, isDir: true });
        }
        for (const obj of page.Contents ?? []) {
          const rel = relative(obj.Key, s3Prefix);
          if (rel !== null) out.push({ key: joinKey(pre, rel), size: obj.Size ?? 0, isDir: false });
        }
      }
    } catch (err) {
      throw this.mapError(err, pre);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keyOrPrefix: string): Promise<void> {
    // validateKey, not validatePrefix: deleting the whole store is never meant.
    const k = validateKey(keyOrPrefix);
    const full = this.objectKey(k);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: full }));
      await this.deleteUnder(`${full}/`);
    } catch (err) {
      throw this.mapError(err, k);
    }
  }

  async digest(key: string): Promise<string> {
    return sha256Of(await this.get(key));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /**
   * Deletes every object under `s3Prefix`. Always re-lists from the start
   * rather than paginating, so deletions cannot disturb a continuation token.
   */
  private async deleteUnder(s3Prefix: string): Promise<void> {
    for (;;) {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: s3Prefix, MaxKeys: this.pageSize }));
      const objects = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (objects.length === 0) return;
      const out = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects, Quiet: true } }));
      const failed = out.Errors ?? [];
      if (failed.length > 0) {
        throw new Unavailable(`could not delete ${failed.length} artifact object(s): ${failed[0].Code ?? ''} ${failed[0].Message ?? ''}`.trim());
      }
      if (!page.IsTruncated) return;
    }
  }

  private objectKey(key: string): string {
    return joinKey(this.prefix, key);
  }

  private mapError(err: unknown, key: string): unknown {
    const name = (err as { name?: unknown })?.name;
    const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
    if (name === 'NoSuchBucket') return new Unavailable(`artifact bucket '${this.bucket}' does not exist`);
    if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) return new NotFound('artifact', key);
    return err;
  }
}

function clientConfig(opts: S3StoreOptions): S3ClientConfig {
  if ((opts.accessKeyId === undefined) !== (opts.secretAccessKey === undefined)) {
    throw Invalid.field('s3.credentials', 'accessKeyId and secretAccessKey must be given together');
  }
  if (opts.endpoint !== undefined && !/^https?:\/\/[^/]/i.test(opts.endpoint)) {
    throw Invalid.field('s3.endpoint', 'must be an http:// or https:// URL');
  }
  return {
    region: opts.region ?? 'us-east-1',
    endpoint: opts.endpoint,
    forcePathStyle: opts.forcePathStyle,
    credentials:
      opts.accessKeyId !== undefined && opts.secretAccessKey !== undefined
        ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey, sessionToken: opts.sessionToken }
        : undefined,
    // The SDK's default trailing CRC checksums use aws-chunked bodies that
    // many S3-compatible servers (MinIO before 2024, Ceph, s3rver) store
    // verbatim or reject; send checksums only where the API demands them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

/** `a/b` → `a/b/`, `''` → `''`: the S3 prefix of everything below a key. */
function dirPrefix(key: string): string {
  return key === '' ? '' : `${key}/`;
}

/**
 * The part of an object key or common prefix below `s3Prefix`, or null for
 * entries that are no valid artifact key (directory markers like `a/`,
 * foreign keys such as `a//b`), so list never returns what get would refuse.
 */
function relative(objectKey: string | undefined, s3Prefix: string): string | null {
  if (objectKey === undefined || !objectKey.startsWith(s3Prefix)) return null;
  const rel = objectKey.slice(s3Prefix.length);
  try {
    return rel !== '' && validateKey(rel) === rel ? rel : null;
  } catch {
    return null;
  }
}
