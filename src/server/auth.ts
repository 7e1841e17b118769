import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Authorizer } from '../access/authorizer.js';
import type { Ctx } from '../access/principal.js';
import { Unauthenticated } from '../shared/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; set on every route that is not public. */
    ctx: Ctx;
  }
  interface FastifyContextConfig {
    /** Health checks and the login page: no token. */
    public?: boolean;
  }
}

export const SESSION_COOKIE = 'slipway_token';

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  if (!m) throw new Unauthenticated("Authorization header must be 'Bearer <token>'");
  return m[1];
}

export function cookieValue(req: FastifyRequest, name: string): string | undefined {
  const raw = req.headers.cookie;
  if (!raw) return undefined;
  for (const part of raw.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/**
 * Authenticates every request but public ones. The session cookie from the
 * login page is honoured only on safe methods, so a browser cannot be made
 * to mutate anything by another site (no CSRF surface).
 */
export const authPlugin = fp(async (app: FastifyInstance, opts: { authz: Authorizer }) => {
  app.decorateRequest('ctx', null as unknown as Ctx);
  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.config?.public) return;
    const safe = req.method === 'GET' || req.method === 'HEAD';
    const secret = bearer(req) ?? (safe ? cookieValue(req, SESSION_COOKIE) : undefined);
    if (!secret) throw new Unauthenticated();
    req.ctx = { principal: await opts.authz.authenticate(secret), requestId: req.id };
  });
});
