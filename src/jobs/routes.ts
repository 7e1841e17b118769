import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { JobService } from './service.js';
import * as S from './schema.js';

const tags = ['jobs'];
const base = '/api/v1/workspaces/:ws/jobs';

/** Native job API: submit, list, show, logs, cancel, retry, render. HTTP only. */
export async function jobRoutes(app: FastifyInstance, { jobs }: { jobs: JobService }) {
  const ws = (req: { params: unknown }) => (req.params as { ws: string }).ws;
  const jp = (req: { params: unknown }) => req.params as S.JobParams;

  app.post(base, { schema: { tags, summary: 'Submit a job: a command run by a worker with a tracking run, inputs as files, logs and retries', params: S.WsParams, body: S.JobCreate } }, async (req, reply) => {
    reply.code(201);
    return jobs.create(req.ctx, ws(req), req.body as S.JobCreate);
  });
  app.get(base, { schema: { tags, summary: 'List the jobs of a workspace, newest first', params: S.WsParams, querystring: S.ListQuery } }, async (req) => ({
    jobs: await jobs.list(req.ctx, ws(req), req.query as S.ListQuery),
  }));
  app.post(`${base}/render`, { schema: { tags, summary: 'Render a job definition as the Kubernetes batch/v1 Job a cluster would run', params: S.WsParams, querystring: S.RenderQuery, body: Type.Union([S.JobCreate, S.JobDocument]) } }, async (req) =>
    jobs.render(req.ctx, ws(req), req.body as S.JobCreate),
  );
  app.get(`${base}/:id`, { schema: { tags, summary: 'A job with its attempts, exit code, usage and cost', params: S.JobParams } }, async (req) => jobs.get(req.ctx, jp(req).ws, jp(req).id));
  app.get(`${base}/:id/logs`, { schema: { tags, summary: "A page of a job's stdout/stderr and worker notes; follow with after=next until the state is final", params: S.JobParams, querystring: S.LogsQuery } }, async (req) => {
    const q = req.query as S.LogsQuery;
    return jobs.logs(req.ctx, jp(req).ws, jp(req).id, q.after, q.limit);
  });
  app.post(`${base}/:id/cancel`, { schema: { tags, summary: 'Cancel a job: a queued one at once, a running one has its process group terminated', params: S.JobParams, body: S.ReasonBody } }, async (req) =>
    jobs.cancel(req.ctx, jp(req).ws, jp(req).id, (req.body as { reason?: string } | undefined)?.reason),
  );
  app.post(`${base}/:id/retry`, { schema: { tags, summary: 'Queue a failed or cancelled job again', params: S.JobParams } }, async (req) => jobs.retry(req.ctx, jp(req).ws, jp(req).id));
}
