import type { FastifyInstance } from 'fastify';
import * as S from './schema.js';
import type { ChannelService } from './service.js';

const tags = ['alerts'];
const base = '/api/v1/workspaces/:ws/alert-channels';

/** Alert channels, test sends and the delivery log. HTTP only. */
export async function alertChannelRoutes(app: FastifyInstance, { channels }: { channels: ChannelService }) {
  const cp = (req: { params: unknown }) => req.params as S.ChannelParams;
  const ws = (req: { params: unknown }) => (req.params as { ws: string }).ws;

  app.get(base, { schema: { tags, summary: 'List the alert channels of a workspace (secrets never shown: secretSet)', params: S.WsParams } }, async (req) => ({ channels: await channels.list(req.ctx, ws(req)) }));
  app.post(base, { schema: { tags, summary: 'Create an alert channel: webhook (signed JSON), slack (incoming webhook) or alertmanager (webhook receiver payload v4)', params: S.WsParams, body: S.ChannelSpec } }, async (req, reply) => {
    reply.code(201);
    return channels.put(req.ctx, ws(req), req.body as S.ChannelSpec, true);
  });
  app.put(`${base}/:name`, { schema: { tags, summary: 'Create or replace an alert channel; an omitted secret keeps the stored one', params: S.ChannelParams, body: S.ChannelSpec } }, async (req) => channels.put(req.ctx, cp(req).ws, { ...(req.body as S.ChannelSpec), name: cp(req).name }));
  app.get(`${base}/:name`, { schema: { tags, summary: 'One alert channel', params: S.ChannelParams } }, async (req) => channels.get(req.ctx, cp(req).ws, cp(req).name));
  app.delete(`${base}/:name`, { schema: { tags, summary: 'Delete an alert channel (its pending deliveries fail)', params: S.ChannelParams } }, async (req, reply) => {
    await channels.delete(req.ctx, cp(req).ws, cp(req).name);
    reply.code(204);
  });
  app.post(`${base}/:name/test`, { schema: { tags, summary: 'Send a test notification now (one attempt) and answer its logged delivery', params: S.ChannelParams } }, async (req) => channels.test(req.ctx, cp(req).ws, cp(req).name));
  app.get('/api/v1/workspaces/:ws/alert-deliveries', { schema: { tags, summary: 'The delivery log, newest first: every notification with its attempts (status code, error, duration)', params: S.WsParams, querystring: S.DeliveriesQuery } }, async (req) => ({
    deliveries: await channels.deliveries(req.ctx, ws(req), req.query as S.DeliveriesQuery),
  }));
}
