import type { FastifyInstance } from 'fastify';
import type { BatchService } from './service.js';
import * as S from './schema.js';

const tags = ['batch'];
const base = '/api/v1/workspaces/:ws/batch-endpoints';

/** Native batch endpoint API: define endpoints, start runs, follow their progress, cancel. HTTP only. */
export async function batchRoutes(app: FastifyInstance, { batch }: { batch: BatchService }) {
  const ep = (req: { params: unknown }) => req.params as S.EndpointParams;
  const rp = (req: { params: unknown }) => req.params as S.RunParams;

  app.get(base, { schema: { tags, summary: 'List the batch endpoints of a workspace with their latest run', params: S.WsParams } }, async (req) => ({
    endpoints: await batch.list(req.ctx, (req.params as { ws: string }).ws),
  }));
  app.put(`${base}/:name`, { schema: { tags, summary: 'Create or replace a batch endpoint: a model reference and run defaults', params: S.EndpointParams, body: S.BatchEndpointPut } }, async (req) =>
    batch.put(req.ctx, ep(req).ws, ep(req).name, req.body as S.BatchEndpointPut),
  );
  app.get(`${base}/:name`, { schema: { tags, summary: 'A batch endpoint', params: S.EndpointParams } }, async (req) => batch.get(req.ctx, ep(req).ws, ep(req).name));
  app.delete(`${base}/:name`, { schema: { tags, summary: 'Delete a batch endpoint and its run history (refused while a run is active)', params: S.EndpointParams } }, async (req, reply) => {
    await batch.delete(req.ctx, ep(req).ws, ep(req).name);
    reply.code(204);
  });
  app.post(`${base}/:name/runs`, { schema: { tags, summary: 'Score a dataset version: split into mini-batches that workers claim, output written as a new dataset version', params: S.EndpointParams, body: S.RunCreate } }, async (req, reply) => {
    reply.code(201);
    return batch.startRun(req.ctx, ep(req).ws, ep(req).name, req.body as S.RunCreate);
  });
  app.get(`${base}/:name/runs`, { schema: { tags, summary: 'Runs of a batch endpoint, newest first, with progress', params: S.EndpointParams, querystring: S.RunsQuery } }, async (req) => ({
    runs: await batch.runs(req.ctx, ep(req).ws, ep(req).name, (req.query as S.RunsQuery).limit),
  }));
  app.get(`${base}/:name/runs/:id`, { schema: { tags, summary: 'A batch run: state, rows and mini-batches done and failed, output, usage and cost', params: S.RunParams } }, async (req) =>
    batch.run(req.ctx, rp(req).ws, rp(req).name, rp(req).id),
  );
  app.post(`${base}/:name/runs/:id/cancel`, { schema: { tags, summary: 'Cancel a batch run', params: S.RunParams } }, async (req) => batch.cancel(req.ctx, rp(req).ws, rp(req).name, rp(req).id));
}
