/**
 * Job and worker settings, parsed once from the environment by
 * `loadConfig` (src/config.ts). Nothing here reads process.env itself.
 */

/** What a resource class reserves, and what an hour of each unit costs. */
export interface ResourceClass {
  cpu: number;
  memoryGb: number;
  /** Price of one CPU for one hour of wall time. */
  cpuHour: number;
  /** Price of one GB of memory for one hour of wall time. */
  gbHour: number;
}

export interface JobsConfig {
  /** Jobs one worker runs at once (SLIPWAY_WORKER_SLOTS). */
  slots: number;
  /** How long a claim lasts without a heartbeat before another worker may take the job over (SLIPWAY_JOB_LEASE_MS). */
  leaseMs: number;
  /** Milliseconds between polls for new jobs and expired leases (SLIPWAY_JOB_POLL_MS). */
  pollMs: number;
  /** First retry delay; it doubles with each failure, capped at 10 minutes (SLIPWAY_JOB_BACKOFF_MS). */
  backoffMs: number;
  /** Jobs of one workspace running at once across all workers (SLIPWAY_JOB_WORKSPACE_LIMIT). */
  workspaceLimit: number;
  /** On stop, how long running jobs may finish before they are killed and released to other workers (SLIPWAY_WORKER_DRAIN_MS). */
  drainMs: number;
  /** Between SIGTERM and SIGKILL of a job's process group on cancel or timeout. */
  killGraceMs: number;
  /** The server jobs talk to (MLFLOW_TRACKING_URI, SLIPWAY_URL): SLIPWAY_SERVER_URL, else the process's own URL in `slipway up`. */
  serverUrl?: string;
  /** Image of rendered Kubernetes Jobs that name none (SLIPWAY_JOB_IMAGE). */
  defaultImage: string;
  /** Resource classes by name (SLIPWAY_PRICES: JSON merged over the defaults). */
  classes: Record<string, ResourceClass>;
}

export const DEFAULT_CLASSES: Record<string, ResourceClass> = {
  small: { cpu: 1, memoryGb: 2, cpuHour: 0.04, gbHour: 0.005 },
  medium: { cpu: 2, memoryGb: 8, cpuHour: 0.04, gbHour: 0.005 },
  large: { cpu: 8, memoryGb: 32, cpuHour: 0.04, gbHour: 0.005 },
};

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, dflt: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === '') return dflt;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}: expected a whole number from ${min} to ${max}, got '${text}'`);
  return n;
}

function classes(text: string | undefined): Record<string, ResourceClass> {
  if (!text) return DEFAULT_CLASSES;
  let given: unknown;
  try {
    given = JSON.parse(text);
  } catch {
    throw new Error(`SLIPWAY_PRICES: expected JSON such as {"small":{"cpu":1,"memoryGb":2,"cpuHour":0.04,"gbHour":0.005}}, got '${text}'`);
  }
  if (!given || typeof given !== 'object' || Array.isArray(given)) throw new Error('SLIPWAY_PRICES: expected an object of resource classes by name');
  const out: Record<string, ResourceClass> = { ...DEFAULT_CLASSES };
  for (const [name, raw] of Object.entries(given as Record<string, Record<string, unknown>>)) {
    const merged = { ...(DEFAULT_CLASSES[name] ?? {}), ...raw } as Record<string, unknown>;
    for (const k of ['cpu', 'memoryGb', 'cpuHour', 'gbHour']) {
      const v = merged[k];
      if (typeof v !== 'number' || !(v >= 0)) throw new Error(`SLIPWAY_PRICES: ${name}.${k}: expected a number >= 0`);
    }
    out[name] = merged as unknown as ResourceClass;
  }
  return out;
}

export function parseJobsConfig(env: Env): JobsConfig {
  const leaseMs = int(env, 'SLIPWAY_JOB_LEASE_MS', 30_000, 200, 3_600_000);
  return {
    slots: int(env, 'SLIPWAY_WORKER_SLOTS', 2, 0, 256),
    leaseMs,
    pollMs: int(env, 'SLIPWAY_JOB_POLL_MS', 1000, 10, 60_000),
    backoffMs: int(env, 'SLIPWAY_JOB_BACKOFF_MS', 5000, 0, 3_600_000),
    workspaceLimit: int(env, 'SLIPWAY_JOB_WORKSPACE_LIMIT', 8, 1, 10_000),
    drainMs: int(env, 'SLIPWAY_WORKER_DRAIN_MS', 5000, 0, 3_600_000),
    killGraceMs: int(env, 'SLIPWAY_JOB_KILL_GRACE_MS', 5000, 0, 600_000),
    serverUrl: env.SLIPWAY_SERVER_URL?.replace(/\/+$/, '') || undefined,
    defaultImage: env.SLIPWAY_JOB_IMAGE || 'python:3.12-slim',
    classes: classes(env.SLIPWAY_PRICES),
  };
}
