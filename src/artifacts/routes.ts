import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { mlflowRoute, mlflowWorkspace } from '../server/mlflow.js';
import { limitBytes, tooLarge } from './limit.js';
import type { ArtifactProxy } from './proxy.js';

const base = ['/api/2.0/mlflow-artifacts', '/ajax-api/2.0/mlflow-artifacts'];
/** Artifacts may be model weights of several GB; bodies are streamed, never buffered. */
export const MAX_ARTIFACT_BYTES = 5 * 1024 ** 3;

const pathOf = (req: FastifyRequest) => (req.params as { '*': string })['*'];

/**
 * MLflow's artifact proxy (mlflow/protos/mlflow_artifacts.proto): upload,
 * download, list and delete, at the root and under /w/{workspace}.
 */
export async function artifactProxyRoutes(app: FastifyInstance, { proxy, maxBytes = MAX_ARTIFACT_BYTES }: { proxy: ArtifactProxy; maxBytes?: number }) {
  // Uploads are raw bytes of any type (clients guess Content-Type from the file
  // extension, JSON included): hand the request stream through unparsed, counted.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (req, payload, done) => {
    if (Number(req.headers['content-length']) > maxBytes) return done(tooLarge(maxBytes), undefined);
    done(null, limitBytes(payload, maxBytes));
  });

  mlflowRoute(
    app,
    'PUT',
    '/artifacts/*',
    async (req) => {
      await proxy.upload(req.ctx, mlflowWorkspace(req), pathOf(req), (req.body as Readable | undefined) ?? req.raw);
      return {};
    },
    { base, bodyLimit: maxBytes },
  );
  mlflowRoute(
    app,
    'GET',
    '/artifacts/*',
    async (req, reply) => {
      const { stream, size } = await proxy.download(req.ctx, mlflowWorkspace(req), pathOf(req));
      reply.header('content-length', size).type('application/octet-stream');
      return stream;
    },
    { base },
  );
  mlflowRoute(
    app,
    'GET',
    '/artifacts',
    async (req) => {
      const files = await proxy.list(req.ctx, mlflowWorkspace(req), (req.query as { path?: string }).path);
      // Protobuf JSON omits an empty repeated field.
      return files.length ? { files } : {};
    },
    { base },
  );
  mlflowRoute(
    app,
    'DELETE',
    '/artifacts/*',
    async (req) => {
      await proxy.delete(req.ctx, mlflowWorkspace(req), pathOf(req));
      return {};
    },
    { base },
  );
}
