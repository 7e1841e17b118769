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
    const log = (m: string) => a.log.warn(m);
    const ownUrl = `http://${host}:${port}`;
    // The worker role's background parts; `up` runs every role, so it runs them too.
    const background: Array<{ start(): void; stop(): Promise<void> }> = [];
    if (role === 'all' || role === 'worker') {
      if (role === 'worker' && !config.jobs.serverUrl) log('SLIPWAY_SERVER_URL is not set: jobs run without MLFLOW_TRACKING_URI and SLIPWAY_URL');
      background.push(
        platform.rollouts.controller(platform.telemetry, { intervalMs: config.rolloutTickMs, log }),
        // Jobs reach the API at SLIPWAY_SERVER_URL from a worker-only process, at this URL under `up`.
        platform.jobWorker({ serverUrl: role === 'all' ? ownUrl : undefined, log }),
        platform.pipelineScheduler({ log }),
        // Batch runs are scored by every worker's loop, mini-batch by mini-batch.
        platform.batchScorer({ log }),
        // Notifications link to this server: `up` knows its URL, a worker-only process the API's at SLIPWAY_SERVER_URL.
        platform.alertEvaluator({ publicUrl: role === 'all' ? ownUrl : config.jobs.serverUrl, log }),
        platform.alertDelivery({ log }),
        platform.monitorScheduler({ log }),
      );
    }
    for (const part of background) part.start();
    let stopping: Promise<void> | undefined;
    return {
      app,
      platform,
      url: `http://${host}:${port}`,
      adminToken,
      stop: () => (stopping ??= (async () => {
        // Together: each waits for its work in hand, so one part's long pass must not delay the others' within the grace period.
        await Promise.all(background.map((part) => part.stop()));
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
