import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { Unavailable } from '../shared/errors.js';

const Status = Type.Object({ status: Type.String(), role: Type.String() });

/** Liveness answers while the process runs; readiness also needs the store. */
export async function healthRoutes(app: FastifyInstance, opts: { role: string; ready: () => Promise<void> }) {
  const schema = { tags: ['health'], security: [], response: { 200: Status } };
  app.get('/healthz', { config: { public: true }, schema: { ...schema, summary: 'Liveness' } }, async () => ({ status: 'ok', role: opts.role }));
  app.get('/readyz', { config: { public: true }, schema: { ...schema, summary: 'Readiness (store reachable)' } }, async () => {
    try {
      await opts.ready();
    } catch (e) {
      throw new Unavailable(`not ready: ${(e as Error).message}`);
    }
    return { status: 'ready', role: opts.role };
  });
}
