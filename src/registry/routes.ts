import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import type { Registry } from './registry.js';
import * as S from './schema.js';

const tags = ['registry'];
const base = '/api/v1/workspaces/:ws/models';
/** Model uploads may be several GB; they stream to the ArtifactStore. */
const MAX_MODEL_BYTES = 5 * 1024 ** 3;

/** Native registry API: models, versions (upload, verify, lineage, files), aliases. HTTP only. */
export async function registryRoutes(app: FastifyInstance, { registry }: { registry: Registry }) {
  const { models, reads, versions, uploads } = registry;
  // Upload bodies are handed through as streams; JSON stays JSON.
  app.addContentTypeParser([...S.REGISTER_MEDIA_TYPES], (_req, payload, done) => done(null, payload));

  app.get(base, { schema: { tags, summary: 'List registered models', params: S.WsParams, querystring: S.ModelList } }, async (req) => {
    const q = req.query as S.ModelList;
    const page = await models.search(req.ctx, (req.params as { ws: string }).ws, { filter: q.filter, maxResults: q.maxResults, pageToken: q.pageToken });
    return { models: page.items, nextPageToken: page.nextPageToken ?? null };
  });
  app.get(`${base}/:name`, { schema: { tags, summary: 'A registered model and all its versions', params: S.ModelParams } }, async (req) => {
    const p = req.params as S.ModelParams;
    const [model, all] = await Promise.all([models.get(req.ctx, p.ws, p.name), reads.list(req.ctx, p.ws, p.name)]);
    return { ...model, versions: all };
  });
  app.delete(`${base}/:name`, { schema: { tags, summary: 'Delete a model, its versions and files (owner)', params: S.ModelParams } }, async (req, reply) => {
    const p = req.params as S.ModelParams;
    await models.delete(req.ctx, p.ws, p.name);
    reply.code(204);
  });

  app.post(
    `${base}/:name/versions`,
    {
      bodyLimit: MAX_MODEL_BYTES,
      schema: {
        tags,
        summary: 'Register a version by upload: an .onnx file (application/octet-stream) or a tar of an MLflow model directory (application/x-tar)',
        params: S.ModelParams,
        querystring: S.RegisterQuery,
        body: S.RegisterBody,
      },
    },
    async (req, reply) => {
      const p = req.params as S.ModelParams;
      const q = req.query as S.RegisterQuery;
      const format = (req.headers['content-type'] ?? '').startsWith('application/x-tar') ? 'tar' : 'onnx';
      reply.code(201);
      return uploads.register(req.ctx, p.ws, { name: p.name, format, filename: q.filename, body: req.body as Readable, alias: q.alias, description: q.description, runId: q.runId });
    },
  );
  app.get(`${base}/:name/versions/:version`, { schema: { tags, summary: 'A model version with its files and digests', params: S.VersionParams } }, async (req) => {
    const p = req.params as S.VersionParams;
    const [v, files] = await Promise.all([reads.get(req.ctx, p.ws, p.name, p.version), reads.files(req.ctx, p.ws, p.name, p.version)]);
    return { ...v, files };
  });
  app.delete(`${base}/:name/versions/:version`, { schema: { tags, summary: 'Delete a model version and its files (owner)', params: S.VersionParams } }, async (req, reply) => {
    const p = req.params as S.VersionParams;
    await versions.delete(req.ctx, p.ws, p.name, p.version);
    reply.code(204);
  });
  app.get(`${base}/:name/versions/:version/files/*`, { schema: { tags, summary: "Download one of a version's files", params: S.FileParams } }, async (req, reply) => {
    const p = req.params as S.VersionParams & { '*': string };
    const f = await reads.readFile(req.ctx, p.ws, p.name, p.version, p['*']);
    reply.header('content-length', f.size).header('x-slipway-sha256', f.sha256).type('application/octet-stream');
    return f.stream;
  });
  app.post(`${base}/:name/versions/:version/verify`, { schema: { tags, summary: 'Re-read the stored files and recompute every digest', params: S.VersionParams } }, async (req) => {
    const p = req.params as S.VersionParams;
    return reads.verify(req.ctx, p.ws, p.name, p.version);
  });
  app.get(`${base}/:name/versions/:version/lineage`, { schema: { tags, summary: 'Run, params, metrics, datasets, code and environment behind a version', params: S.VersionParams } }, async (req) => {
    const p = req.params as S.VersionParams;
    return reads.lineage(req.ctx, p.ws, p.name, p.version);
  });

  app.put(`${base}/:name/aliases/:alias`, { schema: { tags, summary: 'Point an alias at a version', params: S.AliasParams, body: S.AliasSet } }, async (req, reply) => {
    const p = req.params as S.AliasParams;
    await versions.setAlias(req.ctx, p.ws, p.name, p.alias, (req.body as S.AliasSet).version);
    reply.code(204);
  });
  app.delete(`${base}/:name/aliases/:alias`, { schema: { tags, summary: 'Remove an alias', params: S.AliasParams } }, async (req, reply) => {
    const p = req.params as S.AliasParams;
    await versions.deleteAlias(req.ctx, p.ws, p.name, p.alias);
    reply.code(204);
  });
}
