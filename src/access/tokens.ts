import { createHash, randomBytes } from 'node:crypto';
import { durationMs } from '../shared/duration.js';

/** API tokens: 32 random bytes, shown once, stored only as a sha256 hash. */
export const TOKEN_PREFIX = 'slw_';

export function newToken(): { id: string; secret: string; hash: string } {
  const secret = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return { id: 'tok_' + randomBytes(8).toString('hex'), secret, hash: hashToken(secret) };
}

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function looksLikeJwt(secret: string): boolean {
  return !secret.startsWith(TOKEN_PREFIX) && secret.split('.').length === 3;
}

/** Parses durations such as `90s`, `15m`, `8h`, `30d`; null when malformed. */
export function parseDuration(text: string): number | null {
  return durationMs(text.trim(), ['s', 'm', 'h', 'd', 'w', 'y']);
}
