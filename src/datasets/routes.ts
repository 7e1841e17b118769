import type { FastifyInstance } from 'fastify';
import { MEDIA_TYPE_OF } from './names.js';
import * as S from './schema.js';
import type { DatasetService } from './service.js';

const tags = ['datasets'];
const base = '/api/v1/workspaces/:ws/datasets';

type DatasetParams = { ws: string; name: string };
type VersionParams = DatasetParams & { version: string };

/** Datasets over HTTP: raw-body uploads, metadata, versions, byte-identical downloads. */
export async function datasetRoutes(app: FastifyInstance, { datasets }: { datasets: DatasetService }) {
  // Uploads arrive as the raw file; the stream goes to the service unread. This
  // plugin is encapsulated, so these parsers apply to its routes only.
  app.addContentTypeParser(S.UPLOAD_MEDIA_TYPES, (_req, payload, done) => done(null, payload));

  app.post(
    `${base}/:name/versions`,
    {
      schema: {
        tags,
        summary: 'Upload a new version (the raw file as the body; metadata in the query)',
        description: `Body: the file's bytes, sent as ${S.UPLOAD_MEDIA_TYPES.join(', ')}. The dataset is created by its first upload.`,
        body: S.UploadBody,
        params: S.DatasetParams,
        querystring: S.UploadQuery,
        response: { 201: S.VersionOut },
      },
    },
    async (req, reply) => {
      const p = req.params as DatasetParams;
      reply.code(201);
      return datasets.upload(req.ctx, p.ws, p.name, req.body, { ...(req.query as S.UploadQuery), contentType: req.headers['content-type'] });
    },
  );

  app.get(base, { schema: { tags, summary: 'Datasets of a workspace', params: S.WorkspaceParam, response: { 200: S.DatasetList } } }, async (req) => ({
    datasets: await datasets.list(req.ctx, (req.params as { ws: string }).ws),
  }));

  app.get(`${base}/:name`, { schema: { tags, summary: 'A dataset with its versions', params: S.DatasetParams, response: { 200: S.DatasetWithVersions } } }, async (req) => {
    const p = req.params as DatasetParams;
    return datasets.get(req.ctx, p.ws, p.name);
  });

  app.patch(
    `${base}/:name`,
    { schema: { tags, summary: 'Change owner, source, refresh frequency or description', params: S.DatasetParams, body: S.DatasetPatch, response: { 200: S.DatasetOut } } },
    async (req) => {
      const p = req.params as DatasetParams;
      return datasets.update(req.ctx, p.ws, p.name, req.body as S.DatasetPatch);
    },
  );

  app.delete(`${base}/:name`, { schema: { tags, summary: "Delete a dataset and its files (its owner, or 'access.manage')", params: S.DatasetParams } }, async (req, reply) => {
    const p = req.params as DatasetParams;
    await datasets.delete(req.ctx, p.ws, p.name);
    reply.code(204);
  });

  app.get(`${base}/:name/versions/:version`, { schema: { tags, summary: 'A version: digest, size, rows, schema', params: S.VersionParams, response: { 200: S.VersionOut } } }, async (req) => {
    const p = req.params as VersionParams;
    return datasets.version(req.ctx, p.ws, p.name, p.version);
  });

  app.get(`${base}/:name/versions/:version/content`, { schema: { tags, summary: 'Download the stored file, byte-identical', params: S.VersionParams } }, async (req, reply) => {
    const p = req.params as VersionParams;
    const { meta, stream } = await datasets.content(req.ctx, p.ws, p.name, p.version);
    reply
      .type(MEDIA_TYPE_OF[meta.format])
      .header('content-length', meta.size)
      .header('etag', `"${meta.sha256}"`)
      .header('x-slipway-sha256', meta.sha256)
      .header('content-disposition', attachment(meta.filename));
    return reply.send(stream);
  });
}

/** RFC 6266: an ASCII fallback name plus the exact UTF-8 name. */
function attachment(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
