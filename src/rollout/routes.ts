import type { FastifyInstance } from 'fastify';
import type { RolloutService } from './service.js';
import * as S from './schema.js';

const tags = ['rollouts'];
const base = '/api/v1/workspaces/:ws/rollouts';

/** Native rollout API: create (and start), read, act, delete. HTTP only. */
export async function rolloutRoutes(app: FastifyInstance, { rollouts }: { rollouts: RolloutService }) {
  const rp = (req: { params: unknown }) => req.params as S.RolloutParams;

  app.get(base, { schema: { tags, summary: 'List the rollouts of a workspace, newest first', params: S.WsParams } }, async (req) => ({
    rollouts: await rollouts.list(req.ctx, (req.params as { ws: string }).ws),
  }));
  app.post(base, { schema: { tags, summary: 'Create a rollout of a candidate deployment by steps with gates; starts at once unless start is false', params: S.WsParams, body: S.RolloutCreate } }, async (req, reply) => {
    reply.code(201);
    return rollouts.create(req.ctx, (req.params as { ws: string }).ws, req.body as S.RolloutCreate);
  });
  app.get(`${base}/:name`, { schema: { tags, summary: 'A rollout: its steps, the current one, gate readings and events', params: S.RolloutParams } }, async (req) => rollouts.get(req.ctx, rp(req).ws, rp(req).name));
  app.post(`${base}/:name/:action`, { schema: { tags, summary: 'start, pause, resume, promote (to 100% now) or abort (traffic back to the stable)', params: S.ActionParams, body: S.ActionBody } }, async (req) => {
    const p = req.params as S.ActionParams;
    return rollouts.act(req.ctx, p.ws, p.name, p.action, (req.body as S.ActionBody | undefined)?.reason);
  });
  app.delete(`${base}/:name`, { schema: { tags, summary: 'Delete a rollout that is not running or paused', params: S.RolloutParams } }, async (req, reply) => {
    await rollouts.delete(req.ctx, rp(req).ws, rp(req).name);
    reply.code(204);
  });
}
