import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { accessRoutes } from '../access/routes.js';
import { mlflowTrackingRoutes } from '../tracking/mlflow-routes.js';
import { trackingRoutes } from '../tracking/routes.js';
import { datasetRoutes } from '../datasets/routes.js';
import { artifactProxyRoutes } from '../artifacts/routes.js';
import { mlflowRegistryRoutes } from '../registry/mlflow-routes.js';
import { registryRoutes } from '../registry/routes.js';
import { servingRoutes } from '../serving/routes.js';
import { applyRoutes } from '../apply/routes.js';
import { gatewayRoutes } from '../gateway/routes.js';
import { telemetryRoutes } from '../telemetry/routes.js';
import { monitorRoutes } from '../monitoring/routes.js';
import { alertRoutes } from '../alerts/routes.js';
import { alertChannelRoutes } from '../alerts/channels/routes.js';
import { rolloutRoutes } from '../rollout/routes.js';
import { jobRoutes } from '../jobs/routes.js';
import { pipelineRoutes } from '../jobs/pipelines/routes.js';
import { batchRoutes } from '../batch/routes.js';
import type { Platform } from '../platform.js';
import { authPlugin } from './auth.js';
import { registerErrorHandling, sendProblem, toProblem } from './errors.js';
import { healthRoutes } from './health.js';
import { loginRoutes } from './login.js';
import { createMetricsRegistry, metricsPlugin } from './metrics.js';
import { registerOpenApi } from './openapi.js';
import { homeRoutes } from './home.js';
import { registerValidation } from './validation.js';
import { version } from './version.js';

export type Role = 'all' | 'server' | 'gateway' | 'worker';

export interface AppOptions {
  role: Role;
  logLevel?: string;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Assembles the HTTP app: root plugins first (ids, errors, auth, metrics), then domains. */
export async function buildApp(platform: Platform, opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: opts.logLevel ?? platform.config.logLevel,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', '*.token'], censor: '[redacted]' },
    },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    bodyLimit: 16 * 1024 * 1024,
    return503OnClosing: true,
    // Malformed URLs and the like are refused before routing: same problem+json as the rest.
    frameworkErrors: (err, req, reply) => sendProblem(reply, toProblem(err, req)),
    forceCloseConnections: 'idle',
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  registerValidation(app);
  registerErrorHandling(app);
  await registerOpenApi(app, version);
  await app.register(authPlugin, { authz: platform.access.authz });
  const metrics = createMetricsRegistry();
  await app.register(metricsPlugin, { registry: metrics, authz: platform.access.authz });
  await app.register(healthRoutes, { role: opts.role, ready: () => platform.store.ping() });
  if (opts.role === 'all' || opts.role === 'server') {
    await app.register(loginRoutes, { authz: platform.access.authz });
    await app.register(homeRoutes);
    await app.register(accessRoutes, { access: platform.access });
    await app.register(trackingRoutes, { tracking: platform.tracking });
    await app.register(mlflowTrackingRoutes, { tracking: platform.tracking });
    await app.register(datasetRoutes, { datasets: platform.datasets });
    await app.register(mlflowRegistryRoutes, { registry: platform.registry });
    await app.register(registryRoutes, { registry: platform.registry });
    await app.register(artifactProxyRoutes, { proxy: platform.registry.proxy, maxBytes: platform.config.maxArtifactBytes });
    await app.register(servingRoutes, { serving: platform.serving });
    await app.register(telemetryRoutes, { telemetry: platform.telemetry });
    await app.register(monitorRoutes, { monitors: platform.monitoring });
    await app.register(alertRoutes, { alerts: platform.alerts });
    await app.register(alertChannelRoutes, { channels: platform.alertChannels });
    await app.register(rolloutRoutes, { rollouts: platform.rollouts });
    await app.register(jobRoutes, { jobs: platform.jobs });
    await app.register(pipelineRoutes, { pipelines: platform.pipelines });
    await app.register(batchRoutes, { batch: platform.batch });
    await app.register(applyRoutes, { engine: platform.apply });
  }
  if (opts.role === 'all' || opts.role === 'gateway') {
    await app.register(gatewayRoutes, { serving: platform.serving, artifacts: platform.artifacts, authz: platform.access.authz, registry: metrics, processEnv: platform.config.childEnv, telemetry: { sink: platform.telemetry.sink }, feedback: { write: (id, items) => platform.monitoring.writeFeedback(id, items) } });
  }
  return app;
}
