import type { FastifyInstance } from 'fastify';
import * as S from './schema.js';
import type { MonitoringService } from './service.js';

const tags = ['monitoring'];
const base = '/api/v1/workspaces/:ws/monitors';

/** Native monitor API: create/replace, read, delete, run on demand and read stored reports. HTTP only. */
export async function monitorRoutes(app: FastifyInstance, { monitors }: { monitors: MonitoringService }) {
  const mp = (req: { params: unknown }) => req.params as S.MonitorParams;

  app.get(base, { schema: { tags, summary: 'List the monitors of a workspace', params: S.WsParams } }, async (req) => ({
    monitors: await monitors.list(req.ctx, (req.params as { ws: string }).ws),
  }));
  app.post(base, { schema: { tags, summary: 'Create a monitor of an endpoint against a reference, with its signals', params: S.WsParams, body: S.MonitorSpec } }, async (req, reply) => {
    reply.code(201);
    return monitors.put(req.ctx, (req.params as { ws: string }).ws, req.body as S.MonitorSpec, true);
  });
  app.put(`${base}/:name`, { schema: { tags, summary: 'Create or replace a monitor', params: S.MonitorParams, body: S.MonitorSpec } }, async (req) => {
    const body = req.body as S.MonitorSpec;
    return monitors.put(req.ctx, mp(req).ws, { ...body, name: mp(req).name });
  });
  app.get(`${base}/:name`, { schema: { tags, summary: 'A monitor and its last report', params: S.MonitorParams } }, async (req) => monitors.get(req.ctx, mp(req).ws, mp(req).name));
  app.delete(`${base}/:name`, { schema: { tags, summary: 'Delete a monitor and its reports', params: S.MonitorParams } }, async (req, reply) => {
    await monitors.delete(req.ctx, mp(req).ws, mp(req).name);
    reply.code(204);
  });
  app.post(`${base}/:name/runs`, { schema: { tags, summary: 'Compute every signal over the production window now; the report is stored and returned', params: S.MonitorParams, body: S.RunBody } }, async (req, reply) => {
    reply.code(201);
    return monitors.run(req.ctx, mp(req).ws, mp(req).name, (req.body as S.RunBody | undefined) ?? {});
  });
  app.get(`${base}/:name/runs`, { schema: { tags, summary: 'Stored reports, newest first', params: S.MonitorParams } }, async (req) => ({ runs: await monitors.runs(req.ctx, mp(req).ws, mp(req).name) }));
  app.get(`${base}/:name/runs/:run`, { schema: { tags, summary: 'One stored report', params: S.RunParams } }, async (req) => {
    const p = req.params as S.RunParams;
    return monitors.report(req.ctx, p.ws, p.name, p.run);
  });
}
