/**
 * Alert delivery settings, parsed once from the environment by `loadConfig`
 * (src/config.ts). Nothing here reads process.env itself.
 */
export interface AlertDeliveryConfig {
  /** Milliseconds between polls of the outbox (SLIPWAY_ALERT_DELIVERY_POLL_MS). */
  pollMs: number;
  /** One POST's time limit (SLIPWAY_ALERT_DELIVERY_TIMEOUT_MS). */
  timeoutMs: number;
  /** Attempts before a delivery is given up as failed (SLIPWAY_ALERT_DELIVERY_ATTEMPTS). */
  maxAttempts: number;
  /** Backoff before the second attempt; it doubles per failure, with jitter, capped at 15 minutes (SLIPWAY_ALERT_RETRY_BASE_MS). */
  retryBaseMs: number;
}

type Env = Record<string, string | undefined>;

function int(env: Env, key: string, fallback: number, min: number, max: number): number {
  const text = env[key];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${key}: expected a whole number from ${min} to ${max}, got '${text}'`);
  return n;
}

export function parseAlertDeliveryConfig(env: Env): AlertDeliveryConfig {
  return {
    pollMs: int(env, 'SLIPWAY_ALERT_DELIVERY_POLL_MS', 1000, 10, 60_000),
    timeoutMs: int(env, 'SLIPWAY_ALERT_DELIVERY_TIMEOUT_MS', 10_000, 100, 120_000),
    maxAttempts: int(env, 'SLIPWAY_ALERT_DELIVERY_ATTEMPTS', 8, 1, 100),
    retryBaseMs: int(env, 'SLIPWAY_ALERT_RETRY_BASE_MS', 5000, 10, 3_600_000),
  };
}
