import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Serving } from './service.js';
import * as S from './schema.js';

const tags = ['endpoints'];
const base = '/api/v1/workspaces/:ws/endpoints';

/** Native serving API: endpoints, their keys, traffic, history, and deployments. HTTP only. */
export async function servingRoutes(app: FastifyInstance, { serving }: { serving: Serving }) {
  const { endpoints, deployments } = serving;
  const ep = (req: { params: unknown }) => req.params as S.EndpointParams;
  const dp = (req: { params: unknown }) => req.params as S.DeploymentParams;

  app.get(base, { schema: { tags, summary: 'List the endpoints of a workspace', params: S.WsParams } }, async (req) => ({
    endpoints: await endpoints.list(req.ctx, (req.params as { ws: string }).ws),
  }));
  app.post(base, { schema: { tags, summary: 'Create an endpoint (two keys are generated)', params: S.WsParams, body: S.EndpointCreate } }, async (req, reply) => {
    reply.code(201);
    return endpoints.create(req.ctx, (req.params as { ws: string }).ws, req.body as S.EndpointCreate);
  });
  app.get(`${base}/:name`, { schema: { tags, summary: 'An endpoint with its deployments', params: S.EndpointParams } }, async (req) => endpoints.get(req.ctx, ep(req).ws, ep(req).name));
  app.patch(`${base}/:name`, { schema: { tags, summary: 'Update an endpoint (traffic and mirror changes are kept in its history)', params: S.EndpointParams, body: S.EndpointUpdate } }, async (req) =>
    endpoints.update(req.ctx, ep(req).ws, ep(req).name, req.body as S.EndpointUpdate),
  );
  app.delete(`${base}/:name`, { schema: { tags, summary: 'Delete an endpoint and its deployments', params: S.EndpointParams } }, async (req, reply) => {
    await endpoints.delete(req.ctx, ep(req).ws, ep(req).name);
    reply.code(204);
  });
  app.put(`${base}/:name/traffic`, { schema: { tags, summary: 'Set the traffic map (sums to 100) and optionally the mirror map', params: S.EndpointParams, body: S.TrafficSet } }, async (req) =>
    endpoints.setTraffic(req.ctx, ep(req).ws, ep(req).name, req.body as S.TrafficSet),
  );
  app.get(`${base}/:name/history`, { schema: { tags, summary: 'Traffic and mirror changes, newest first', params: S.EndpointParams, querystring: S.HistoryQuery } }, async (req) => ({
    history: await endpoints.history(req.ctx, ep(req).ws, ep(req).name, (req.query as { limit?: number }).limit),
  }));
  const Keys = Type.Object({ primary: Type.String(), secondary: Type.String() });
  app.get(`${base}/:name/keys`, { schema: { tags, summary: 'The two endpoint keys (needs endpoint.deploy; audited)', params: S.EndpointParams, response: { 200: Keys } } }, async (req) =>
    endpoints.keys(req.ctx, ep(req).ws, ep(req).name),
  );
  app.post(`${base}/:name/keys/regenerate`, { schema: { tags, summary: 'Replace the primary or the secondary key', params: S.EndpointParams, body: S.KeyRegenerate, response: { 200: Keys } } }, async (req) =>
    endpoints.regenerateKey(req.ctx, ep(req).ws, ep(req).name, (req.body as S.KeyRegenerate).key),
  );

  const dtags = ['deployments'];
  app.get(`${base}/:name/deployments`, { schema: { tags: dtags, summary: 'List the deployments of an endpoint', params: S.EndpointParams } }, async (req) => ({
    deployments: await deployments.list(req.ctx, ep(req).ws, ep(req).name),
  }));
  app.post(`${base}/:name/deployments`, { schema: { tags: dtags, summary: 'Create a deployment; its model reference is resolved and pinned now', params: S.EndpointParams, body: S.DeploymentCreate } }, async (req, reply) => {
    reply.code(201);
    return deployments.create(req.ctx, ep(req).ws, ep(req).name, req.body as S.DeploymentCreate);
  });
  app.get(`${base}/:name/deployments/:deployment`, { schema: { tags: dtags, summary: 'A deployment', params: S.DeploymentParams } }, async (req) =>
    deployments.get(req.ctx, dp(req).ws, dp(req).name, dp(req).deployment),
  );
  app.patch(`${base}/:name/deployments/:deployment`, { schema: { tags: dtags, summary: 'Update a deployment (a new model reference is pinned again)', params: S.DeploymentParams, body: S.DeploymentUpdateBody } }, async (req) =>
    deployments.update(req.ctx, dp(req).ws, dp(req).name, dp(req).deployment, req.body as S.DeploymentUpdate),
  );
  app.delete(`${base}/:name/deployments/:deployment`, { schema: { tags: dtags, summary: 'Delete a deployment that takes no traffic', params: S.DeploymentParams } }, async (req, reply) => {
    await deployments.delete(req.ctx, dp(req).ws, dp(req).name, dp(req).deployment);
    reply.code(204);
  });
}
