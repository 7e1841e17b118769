import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { PipelineSpec } from './spec.js';
import type { PipelineService } from './service.js';

const tags = ['pipelines'];
const base = '/api/v1/workspaces/:ws/pipelines';

const WsParams = Type.Object({ ws: Type.String() });
const NameParams = Type.Object({ ws: Type.String(), name: Type.String() });
type NameParams = Static<typeof NameParams>;
const RunParams = Type.Object({ ws: Type.String(), name: Type.String(), id: Type.Integer({ minimum: 1 }) });
type RunParams = Static<typeof RunParams>;
const Definition = Type.Object(
  {
    kind: Type.Optional(Type.Literal('Pipeline')),
    description: Type.Optional(Type.String()),
    params: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
    triggers: Type.Optional(Type.Array(Type.Record(Type.String(), Type.String()))),
    steps: Type.Array(Type.Record(Type.String(), Type.Unknown()), { minItems: 1, description: 'each { name, uses, needs, with } (see README, Pipelines)' }),
  },
  { additionalProperties: false },
);
type Definition = Static<typeof Definition>;
const RunBody = Type.Object(
  {
    params: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
    cause: Type.Optional(Type.Union([Type.Object({ kind: Type.Literal('manual') }, { additionalProperties: false }), Type.Object({ kind: Type.Literal('alert'), id: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false })], { description: "what starts the run: manual (default), or an alert by id (needs alert.ack too)" })),
  },
  { additionalProperties: false },
);
type RunBody = Static<typeof RunBody>;

/** Native pipeline API: define, list, show, delete, start and read runs. HTTP only. */
export async function pipelineRoutes(app: FastifyInstance, { pipelines }: { pipelines: PipelineService }) {
  const np = (req: { params: unknown }) => req.params as NameParams;
  app.get(base, { schema: { tags, summary: 'List the pipelines of a workspace with their last run', params: WsParams } }, async (req) => ({
    pipelines: await pipelines.list(req.ctx, (req.params as { ws: string }).ws),
  }));
  app.put(`${base}/:name`, { schema: { tags, summary: 'Create or replace a pipeline (as `kind: Pipeline` in slipway apply)', params: NameParams, body: Definition } }, async (req) => {
    const { kind: _kind, ...body } = req.body as Definition;
    return pipelines.put(req.ctx, { ...body, name: np(req).name, workspace: np(req).ws } as unknown as PipelineSpec);
  });
  app.get(`${base}/:name`, { schema: { tags, summary: 'A pipeline with its recent runs', params: NameParams } }, async (req) => pipelines.get(req.ctx, np(req).ws, np(req).name));
  app.delete(`${base}/:name`, { schema: { tags, summary: 'Delete a pipeline and its runs (their jobs stay)', params: NameParams } }, async (req, reply) => {
    await pipelines.delete(req.ctx, np(req).ws, np(req).name);
    reply.code(204);
  });
  app.post(`${base}/:name/runs`, { schema: { tags, summary: 'Start a run: steps become jobs as their needs finish; unchanged steps are cached', params: NameParams, body: Type.Optional(RunBody) } }, async (req, reply) => {
    reply.code(201);
    const body = (req.body ?? {}) as RunBody;
    return pipelines.start(req.ctx, np(req).ws, np(req).name, body);
  });
  app.post(`${base}/:name/runs/:id/cancel`, { schema: { tags, summary: 'Cancel a running run: no further step starts, running steps have their jobs cancelled', params: RunParams, body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false })) } }, async (req) => {
    const p = req.params as RunParams;
    return pipelines.cancel(req.ctx, p.ws, p.name, p.id, (req.body as { reason?: string } | undefined)?.reason);
  });
  app.get(`${base}/:name/runs/:id`, { schema: { tags, summary: 'A pipeline run with the state, job, outputs and duration of each step', params: RunParams } }, async (req) => {
    const p = req.params as RunParams;
    return pipelines.run(req.ctx, p.ws, p.name, p.id);
  });
}
