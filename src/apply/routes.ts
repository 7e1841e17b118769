import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ApplyEngine, Doc } from './engine.js';
import * as S from './schema.js';

const tags = ['apply'];

/** Declarative apply and export, shared by `slipway apply` and pipelines. HTTP only. */
export async function applyRoutes(app: FastifyInstance, { engine }: { engine: ApplyEngine }) {
  app.post('/api/v1/apply', { schema: { tags, summary: 'Plan (and unless dryRun, apply) resource documents; same documents twice change nothing', body: S.ApplyBody, response: { 200: S.ApplyResult } } }, async (req) => {
    const b = req.body as S.ApplyBody;
    return engine.apply(req.ctx, b.documents as Doc[], b.dryRun ?? false, b.prune ?? false);
  });
  app.get('/api/v1/export', { schema: { tags, summary: "A workspace's resources as documents that apply cleanly", querystring: S.ExportQuery, response: { 200: Type.Object({ documents: Type.Array(Type.Object({}, { additionalProperties: true })) }) } } }, async (req) => ({
    documents: await engine.export(req.ctx, (req.query as S.ExportQuery).workspace ?? 'default'),
  }));
}
