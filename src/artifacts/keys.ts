import { Invalid } from '../shared/errors.js';

/**
 * Artifact keys are `/`-separated relative paths. Every store validates keys
 * here first, so a key that could climb out of the store's root never reaches
 * a filesystem call or an S3 request.
 *
 * Percent-decoding is the caller's job (HTTP layer); a decoded `%2e%2e` is just
 * `..` and is rejected like any other `..` segment.
 */

/** S3's own limit on key length, applied to every store so keys stay portable. */
export const MAX_KEY_BYTES = 1024;

// C0 controls and DEL: NUL truncates paths in C APIs, newlines break logs and
// listings, and none of them belongs in a file name.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
// `C:foo` / `C:\foo` are drive-relative or absolute on Windows.
const DRIVE_LETTER = /^[a-zA-Z]:/;

function reject(expected: string): never {
  throw Invalid.field('path', expected);
}

function normalise(key: unknown, allowEmpty: boolean): string {
  if (typeof key !== 'string') reject('must be a string');
  if (CONTROL_CHARS.test(key)) reject('must not contain NUL or control characters');
  if (key.includes('\\')) reject('must use "/" as separator, not "\\"');
  if (key.startsWith('/')) reject('must be a relative path, not an absolute one');
  if (DRIVE_LETTER.test(key)) reject('must not start with a drive letter');
  const segments: string[] = [];
  for (const seg of key.split('/')) {
    if (seg === '..') reject('must not contain ".." segments');
    // `a//b`, `a/./b` and a trailing `/` all mean `a/b`; normalising them keeps
    // fs and S3 agreeing on which object a key names.
    if (seg === '' || seg === '.') continue;
    // File systems refuse longer names; say so as a client error, not a crash.
    if (Buffer.byteLength(seg) > 255) reject('each path segment must be at most 255 bytes');
    segments.push(seg);
  }
  const out = segments.join('/');
  if (!allowEmpty && out === '') reject('must name an artifact (empty after normalisation)');
  if (Buffer.byteLength(out, 'utf8') > MAX_KEY_BYTES) reject(`must be at most ${MAX_KEY_BYTES} bytes`);
  return out;
}

/** Validates and normalises the key of a single artifact; throws `Invalid` on `path`. */
export function validateKey(key: string): string {
  return normalise(key, false);
}

/** Like `validateKey`, but `''` (the store root) is allowed; used by `list`. */
export function validatePrefix(prefix: string): string {
  return normalise(prefix, true);
}

/** Joins already-valid keys or prefixes, skipping empty parts. */
export function joinKey(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}
