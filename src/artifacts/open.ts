import { fileURLToPath } from 'node:url';
import { Invalid } from '../shared/errors.js';
import { FsArtifactStore } from './fs.js';
import { validatePrefix } from './keys.js';
import { S3ArtifactStore, type S3StoreOptions } from './s3.js';
import type { ArtifactStore } from './store.js';

/** Options for `openArtifactStore`; only S3 roots use them today. */
export type OpenArtifactStoreOptions = S3StoreOptions;

const FIELD = 'artifact_root';
const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;
// S3's bucket naming rules (3–63 chars, lowercase, digits, dots, hyphens).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Opens the store named by `spec`: a filesystem path or `file://` URL, or
 * `s3://bucket[/prefix]`. Connection settings come from `opts`, which the
 * caller fills from config.
 */
export function openArtifactStore(spec: string, opts: OpenArtifactStoreOptions = {}): ArtifactStore {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw Invalid.field(FIELD, 'must be a path, a file:// URL or s3://bucket/prefix');
  }
  const scheme = SCHEME.exec(spec)?.[1]?.toLowerCase();
  if (scheme === undefined) return new FsArtifactStore(spec);
  if (scheme === 'file') return new FsArtifactStore(filePath(spec));
  if (scheme === 's3') {
    const { bucket, prefix } = parseS3(spec);
    return new S3ArtifactStore(bucket, prefix, opts);
  }
  throw Invalid.field(FIELD, `unsupported scheme '${scheme}://' (use a path, file:// or s3://)`);
}

function filePath(spec: string): string {
  try {
    return fileURLToPath(spec);
  } catch {
    throw Invalid.field(FIELD, 'must be a local file:// URL with an absolute path');
  }
}

/** Splits `s3://bucket/some/prefix` by hand: URL parsing would lowercase and percent-encode. */
export function parseS3(spec: string): { bucket: string; prefix: string } {
  const rest = spec.slice('s3://'.length);
  if (/[?#]/.test(rest)) throw Invalid.field(FIELD, 's3:// URLs take no query or fragment');
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const rawPrefix = slash === -1 ? '' : rest.slice(slash + 1);
  if (!BUCKET.test(bucket)) throw Invalid.field(FIELD, `'${bucket}' is not a valid S3 bucket name`);
  try {
    return { bucket, prefix: validatePrefix(rawPrefix) };
  } catch (err) {
    if (err instanceof Invalid) throw Invalid.field(FIELD, `bad prefix: ${err.issues[0]?.message ?? err.message}`);
    throw err;
  }
}
