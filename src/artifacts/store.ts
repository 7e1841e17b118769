import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

/**
 * Where run artifacts and model files live. Keys are `/`-separated relative
 * paths (see keys.ts); implementations validate every key they are given.
 */
export interface ArtifactStore {
  /** Streams `body` to `key`, replacing any existing object; size and sha256 are of the bytes written. */
  put(key: string, body: Readable | Uint8Array, opts?: PutOptions): Promise<PutResult>;
  /** The stored bytes; throws `NotFound` if there is no artifact at `key`. */
  get(key: string): Promise<Readable>;
  /** Size and modification time, or null if there is no artifact at `key`. */
  stat(key: string): Promise<ArtifactStat | null>;
  /**
   * Entries under `prefix` (`''` is the root). Non-recursive returns direct
   * children, sub-directories as `isDir` entries (like MLflow's
   * list-artifacts); recursive returns every artifact below, files only.
   * Sorted by key; a missing prefix gives `[]`.
   */
  list(prefix: string, opts?: { recursive?: boolean }): Promise<ArtifactEntry[]>;
  /** Deletes the artifact at `keyOrPrefix` and everything under it; missing is not an error. */
  delete(keyOrPrefix: string): Promise<void>;
  /** sha256 hex of the stored bytes, computed by reading them back. */
  digest(key: string): Promise<string>;
  /** Releases connections or handles; the store is unusable afterwards. */
  close(): Promise<void>;
}

export interface PutOptions {
  contentType?: string;
}

export interface PutResult {
  key: string;
  size: number;
  sha256: string;
}

export interface ArtifactStat {
  key: string;
  size: number;
  modified: Date;
}

export interface ArtifactEntry {
  key: string;
  /** Bytes for files, 0 for directories. */
  size: number;
  isDir: boolean;
}

/** Running size and sha256 of bytes passing through `tap`. */
export class Digester {
  private readonly hash = createHash('sha256');
  size = 0;

  /** Yields the chunks of `body` unchanged while hashing them. */
  async *tap(body: Readable | Uint8Array): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunksOf(body)) {
      this.hash.update(chunk);
      this.size += chunk.byteLength;
      yield chunk;
    }
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}

async function* chunksOf(body: Readable | Uint8Array): AsyncGenerator<Uint8Array> {
  if (body instanceof Uint8Array) {
    yield body;
    return;
  }
  // A stream with setEncoding() yields strings; hash what would be written.
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  }
}

/** sha256 hex of everything `stream` yields. */
export async function sha256Of(stream: Readable): Promise<string> {
  const d = new Digester();
  for await (const _ of d.tap(stream)) {
    // draining is the point
  }
  return d.hex();
}
