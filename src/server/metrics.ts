import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { Authorizer } from '../access/authorizer.js';
import { Forbidden } from '../shared/errors.js';

/** One registry per app, so tests can run several apps in one process. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'slipway_' });
  return registry;
}

/**
 * HTTP metrics for every route and `/metrics` itself, which needs
 * `metrics.read` in some workspace (the metrics-reader role) or an admin.
 */
export const metricsPlugin = fp(async (app: FastifyInstance, opts: { registry: Registry; authz: Authorizer }) => {
  const requests = new Counter({
    name: 'slipway_http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [opts.registry],
  });
  const duration = new Histogram({
    name: 'slipway_http_request_duration_seconds',
    help: 'HTTP request duration by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [opts.registry],
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status_code: String(reply.statusCode) });
    duration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    if (!(await opts.authz.canAnywhere(req.ctx.principal, 'metrics.read'))) throw new Forbidden("missing permission 'metrics.read' (the metrics-reader role)", 'metrics.read');
    reply.type(opts.registry.contentType);
    return opts.registry.metrics();
  });
});
