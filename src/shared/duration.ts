const UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3, y: 365 * 86400e3 };
const DURATION = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;

/**
 * Milliseconds of a duration such as `500ms`, `30s`, `15m`, `1h30m`, `7d`;
 * null when malformed. Callers own the limits and the wording of their
 * errors, since a token's expiry and a rollout step have different bounds.
 */
export function durationMs(text: unknown, units: readonly string[] = Object.keys(UNIT_MS)): number | null {
  if (typeof text !== 'string' || !DURATION.test(text)) return null;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) {
    if (!units.includes(unit)) return null;
    ms += Number(n) * UNIT_MS[unit];
  }
  return ms;
}
