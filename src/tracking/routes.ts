import type { FastifyInstance } from 'fastify';
import { NativeTracking } from './native.js';
import * as S from './schema.js';
import type { Tracking } from './service.js';

const tags = ['tracking'];

/** Native /api/v1 routes for experiments and runs, workspace-scoped. HTTP only. */
export async function trackingRoutes(app: FastifyInstance, { tracking }: { tracking: Tracking }) {
  const native = new NativeTracking(tracking);

  app.get('/api/v1/workspaces/:ws/experiments', { schema: { tags, summary: 'List experiments', params: S.WsParam, querystring: S.ExperimentQuery, response: { 200: S.ExperimentPage } } }, async (req) =>
    native.listExperiments(req.ctx, (req.params as { ws: string }).ws, req.query as S.ExperimentQuery),
  );
  app.get('/api/v1/workspaces/:ws/experiments/:id', { schema: { tags, summary: 'Show an experiment (by id or name)', params: S.ExperimentParam, response: { 200: S.Experiment } } }, async (req) => {
    const p = req.params as { ws: string; id: string };
    return native.getExperiment(req.ctx, p.ws, p.id);
  });
  app.get('/api/v1/workspaces/:ws/runs', { schema: { tags, summary: 'List and search runs', params: S.WsParam, querystring: S.RunQuery, response: { 200: S.RunPage } } }, async (req) =>
    native.listRuns(req.ctx, (req.params as { ws: string }).ws, req.query as S.RunQuery),
  );
  app.get('/api/v1/workspaces/:ws/runs/compare', { schema: { tags, summary: 'Compare runs: params and metrics side by side', params: S.WsParam, querystring: S.CompareQuery, response: { 200: S.Comparison } } }, async (req) =>
    native.compare(req.ctx, (req.params as { ws: string }).ws, (req.query as S.CompareQuery).run),
  );
  app.get('/api/v1/workspaces/:ws/runs/:runId', { schema: { tags, summary: 'Show a run', params: S.RunParam, response: { 200: S.Run } } }, async (req) => {
    const p = req.params as { ws: string; runId: string };
    return native.getRun(req.ctx, p.ws, p.runId);
  });
}
