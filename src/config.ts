import { resolve } from 'node:path';
import type { OidcConfig } from './access/oidc.js';
import type { StoreTarget } from './store/db.js';
import { parseJobsConfig, type JobsConfig } from './jobs/config.js';
import { parseAlertDeliveryConfig, type AlertDeliveryConfig } from './alerts/channels/config.js';

/**
 * Everything the process reads from flags and the environment, parsed once
 * at start. Nothing reads process.env after this.
 */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  store: StoreTarget;
  artifacts: string;
  s3: { endpoint?: string; region?: string; forcePathStyle: boolean; accessKeyId?: string; secretAccessKey?: string };
  adminToken?: string;
  oidc?: OidcConfig;
  logLevel: string;
  /**
   * The environment model-server child processes start with: only what a
   * program needs to run (PATH, HOME, locale, temp dir), never Slipway's own
   * settings and secrets.
   */
  childEnv: Record<string, string>;
  /** Largest single artifact accepted through the MLflow artifact proxy. */
  maxArtifactBytes: number;
  /** Milliseconds to let in-flight requests finish on SIGTERM. */
  shutdownGraceMs: number;
  /** Milliseconds between rollout controller ticks (worker role). */
  rolloutTickMs: number;
  /** Milliseconds between evaluations of every alert rule (worker role; SLIPWAY_ALERT_INTERVAL_MS). */
  alertIntervalMs: number;
  /** How long captures and per-minute rollups are kept (SLIPWAY_TELEMETRY_RETENTION). */
  telemetryRetentionMs: number;
  /** Job queue and worker settings (src/jobs/config.ts). */
  jobs: JobsConfig;
  /** Alert notification delivery: poll, timeout, attempts, backoff (src/alerts/channels/config.ts). */
  alertDelivery: AlertDeliveryConfig;
}

export interface ConfigFlags {
  host?: string;
  port?: string | number;
  dataDir?: string;
}

type Env = Record<string, string | undefined>;

export function parsePort(text: string | number, source: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${source}: expected a port number 0-65535, got '${text}'`);
  return n;
}

const CHILD_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ', 'PYTHONPATH', 'VIRTUAL_ENV'];

function parseBytes(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`SLIPWAY_MAX_ARTIFACT_BYTES: expected a positive number of bytes, got '${text}'`);
  return n;
}

function parseTick(text: string | undefined): number {
  if (text === undefined) return 1000;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 10 || n > 60_000) throw new Error(`SLIPWAY_ROLLOUT_TICK_MS: expected milliseconds from 10 to 60000, got '${text}'`);
  return n;
}

function parseAlertInterval(text: string | undefined): number {
  if (text === undefined) return 15_000;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 50 || n > 3_600_000) throw new Error(`SLIPWAY_ALERT_INTERVAL_MS: expected milliseconds from 50 to 3600000, got '${text}'`);
  return n;
}

function parseRetention(text: string | undefined): number {
  if (text === undefined) return 30 * 86_400_000;
  const m = /^(\d{1,5})([hd])$/.exec(text);
  const ms = m ? Number(m[1]) * (m[2] === 'h' ? 3_600_000 : 86_400_000) : 0;
  if (ms < 3_600_000) throw new Error(`SLIPWAY_TELEMETRY_RETENTION: expected hours or days such as '72h' or '30d' (at least 1h), got '${text}'`);
  return ms;
}

function parseGrace(text: string | undefined): number {
  if (text === undefined) return 10_000;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`SLIPWAY_SHUTDOWN_GRACE_MS: expected milliseconds (a whole number), got '${text}'`);
  return n;
}

export function loadConfig(flags: ConfigFlags, env: Env): Config {
  const dataDir = resolve(flags.dataDir ?? env.SLIPWAY_DATA_DIR ?? './.slipway');
  const databaseUrl = env.SLIPWAY_DATABASE_URL;
  const store: StoreTarget = databaseUrl ? { driver: 'postgres', url: databaseUrl } : { driver: 'pglite', dir: resolve(dataDir, 'db') };
  const port = flags.port !== undefined ? parsePort(flags.port, '--port') : env.SLIPWAY_PORT ? parsePort(env.SLIPWAY_PORT, 'SLIPWAY_PORT') : 8080;
  return {
    host: flags.host ?? env.SLIPWAY_HOST ?? '127.0.0.1',
    port,
    dataDir,
    store,
    artifacts: env.SLIPWAY_ARTIFACTS ?? resolve(dataDir, 'artifacts'),
    s3: {
      endpoint: env.SLIPWAY_S3_ENDPOINT,
      region: env.SLIPWAY_S3_REGION ?? env.AWS_REGION ?? 'us-east-1',
      forcePathStyle: env.SLIPWAY_S3_FORCE_PATH_STYLE === 'true' || env.SLIPWAY_S3_FORCE_PATH_STYLE === '1',
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    },
    adminToken: env.SLIPWAY_ADMIN_TOKEN || undefined,
    oidc: env.SLIPWAY_OIDC_ISSUER
      ? {
          issuer: env.SLIPWAY_OIDC_ISSUER,
          jwksUrl: env.SLIPWAY_OIDC_JWKS_URL ?? `${env.SLIPWAY_OIDC_ISSUER.replace(/\/$/, '')}/.well-known/jwks.json`,
          audience: env.SLIPWAY_OIDC_AUDIENCE,
          usernameClaim: env.SLIPWAY_OIDC_USERNAME_CLAIM ?? 'preferred_username',
          groupsClaim: env.SLIPWAY_OIDC_GROUPS_CLAIM ?? 'groups',
        }
      : undefined,
    logLevel: env.SLIPWAY_LOG_LEVEL ?? 'info',
    shutdownGraceMs: parseGrace(env.SLIPWAY_SHUTDOWN_GRACE_MS),
    rolloutTickMs: parseTick(env.SLIPWAY_ROLLOUT_TICK_MS),
    alertIntervalMs: parseAlertInterval(env.SLIPWAY_ALERT_INTERVAL_MS),
    telemetryRetentionMs: parseRetention(env.SLIPWAY_TELEMETRY_RETENTION),
    jobs: parseJobsConfig(env),
    alertDelivery: parseAlertDeliveryConfig(env),
    childEnv: Object.fromEntries(CHILD_ENV.flatMap((k) => (env[k] !== undefined ? [[k, env[k] as string]] : []))),
    maxArtifactBytes: env.SLIPWAY_MAX_ARTIFACT_BYTES ? parseBytes(env.SLIPWAY_MAX_ARTIFACT_BYTES) : 5 * 1024 ** 3,
  };
}
