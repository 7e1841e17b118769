import { createHash, randomBytes } from 'node:crypto';

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

const units: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3, y: 365 * 86400e3 };

/** Parses durations such as `90s`, `15m`, `8h`, `30d`; null when malformed. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+)([smhdwy])$/.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * units[m[2]];
}
