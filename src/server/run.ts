import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { bootstrap, createPlatform, type Platform } from '../platform.js';
import { buildApp, type Role } from './app.js';
import { holdPort } from './boot.js';

export interface Running {
  app: FastifyInstance;
  platform: Platform;
  url: string;
  adminToken: 'created' | 'preset' | 'existing' | 'n/a';
  stop(): Promise<void>;
}

/** Starts one process role on the configured port; `stop` drains requests, then closes the store. */
export async function startRole(role: Role, config: Config): Promise<Running> {
  const hold = await holdPort(config.host, config.port, role);
  let platform: Platform;
  try {
    platform = await createPlatform(config);
  } catch (e) {
    await hold.release();
    throw e;
  }
  let app: FastifyInstance | undefined;
  try {
    const adminToken = role === 'all' || role === 'server' ? await bootstrap(platform) : 'n/a';
    app = await buildApp(platform, { role });
    await app.ready();
    await hold.release();
    await app.listen({ port: hold.port, host: config.host });
    const a = app;
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    // The worker advances rollouts; `up` runs every role, so it does too.
    const controller = role === 'all' || role === 'worker' ? platform.rollouts.controller(platform.telemetry, { intervalMs: config.rolloutTickMs, log: (m) => a.log.warn(m) }) : undefined;
    controller?.start();
    // Workers run jobs; a worker-only process reaches the API at SLIPWAY_SERVER_URL, `up` at its own URL.
    const worker = role === 'all' || role === 'worker' ? platform.jobWorker({ serverUrl: role === 'all' ? `http://${host}:${port}` : undefined, log: (m) => a.log.warn(m) }) : undefined;
    if (role === 'worker' && !config.jobs.serverUrl) a.log.warn('SLIPWAY_SERVER_URL is not set: jobs run without MLFLOW_TRACKING_URI and SLIPWAY_URL');
    worker?.start();
    const scheduler = role === 'all' || role === 'worker' ? platform.pipelineScheduler({ log: (m) => a.log.warn(m) }) : undefined;
    scheduler?.start();
    // Batch runs are scored by every worker's loop, mini-batch by mini-batch.
    const scorer = role === 'all' || role === 'worker' ? platform.batchScorer({ log: (m) => a.log.warn(m) }) : undefined;
    scorer?.start();
    // Alerts link to this server in notifications: `up` knows its URL, a worker-only process reaches the API at SLIPWAY_SERVER_URL.
    const evaluator = role === 'all' || role === 'worker' ? platform.alertEvaluator({ publicUrl: role === 'all' ? `http://${host}:${port}` : config.jobs.serverUrl, log: (m) => a.log.warn(m) }) : undefined;
    evaluator?.start();
    // Queued alert notifications are sent, and monitors run on their schedules, by workers (and `up`).
    const delivery = role === 'all' || role === 'worker' ? platform.alertDelivery({ log: (m) => a.log.warn(m) }) : undefined;
    delivery?.start();
    const monitorScheduler = role === 'all' || role === 'worker' ? platform.monitorScheduler({ log: (m) => a.log.warn(m) }) : undefined;
    monitorScheduler?.start();
    let stopping: Promise<void> | undefined;
    return {
      app,
      platform,
      url: `http://${host}:${port}`,
      adminToken,
      stop: () => (stopping ??= (async () => {
        await controller?.stop();
        await evaluator?.stop();
        await monitorScheduler?.stop();
        await delivery?.stop();
        await scheduler?.stop();
        await scorer?.stop();
        await worker?.stop();
        await a.close();
        await platform.close();
      })()),
    };
  } catch (e) {
    await hold.release();
    await app?.close().catch(() => undefined);
    await platform.close();
    throw e;
  }
}

/** Wires SIGTERM/SIGINT to a graceful stop with a deadline. */
export function stopOnSignals(running: Running, graceMs: number, log: (m: string) => void) {
  const onSignal = (sig: string) => {
    log(`${sig} received: draining in-flight requests, then closing the store`);
    const force = setTimeout(() => {
      log('shutdown grace period over; exiting');
      process.exit(1);
    }, graceMs);
    force.unref();
    running.stop().then(
      () => process.exit(0),
      (e) => {
        log(`shutdown failed: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
}
