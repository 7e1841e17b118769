import type { FastifyInstance } from 'fastify';
import { DeploymentParams, EndpointParams } from '../serving/schema.js';
import type { Telemetry } from './service.js';
import * as S from './schema.js';

const tags = ['telemetry'];
const base = '/api/v1/workspaces/:ws/endpoints/:name';

/** Reads of what gateways record: captures, per-minute metrics, deployment logs. HTTP only. */
export async function telemetryRoutes(app: FastifyInstance, { telemetry }: { telemetry: Telemetry }) {
  const ep = (req: { params: unknown }) => req.params as EndpointParams;
  const dp = (req: { params: unknown }) => req.params as DeploymentParams;

  app.get(`${base}/captures`, { schema: { tags, summary: 'Captured requests and responses of a time window, oldest first (needs metrics.read)', params: EndpointParams, querystring: S.CapturesQuery } }, async (req) =>
    telemetry.captures(req.ctx, ep(req).ws, ep(req).name, req.query as S.CapturesQuery),
  );
  app.get(`${base}/metrics`, { schema: { tags, summary: 'Per-minute requests, errors, throttling and latency percentiles by deployment (needs metrics.read)', params: EndpointParams, querystring: S.MetricsQuery } }, async (req) =>
    telemetry.metrics(req.ctx, ep(req).ws, ep(req).name, req.query as S.MetricsQuery),
  );
  app.get(`${base}/deployments/:deployment/window`, { schema: { tags, summary: "A deployment's live and mirrored requests over a window, with mirrored outputs' agreement with the live ones (needs metrics.read)", params: DeploymentParams, querystring: S.WindowQuery } }, async (req) =>
    telemetry.window(req.ctx, dp(req).ws, dp(req).name, dp(req).deployment, req.query as S.WindowQuery),
  );
  app.get(`${base}/deployments/:deployment/logs`, { schema: { tags, summary: 'Runtime events and model-server output of a deployment, oldest first', params: DeploymentParams, querystring: S.LogsQuery } }, async (req) =>
    telemetry.logs(req.ctx, dp(req).ws, dp(req).name, dp(req).deployment, req.query as S.LogsQuery),
  );
}
