/**
 * Inference auth, done by the gateway itself (its routes are public to the
 * root auth hook): an endpoint key for `auth: key` endpoints, a token with
 * `endpoint.invoke` in the endpoint's workspace for `auth: token`.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../access/principal.js';
import { Forbidden, isSlipwayError, Unauthenticated } from '../shared/errors.js';
import type { LiveEndpoint } from './routing.js';

/** The slice of the Authorizer the gateway needs. */
export interface TokenChecker {
  authenticate(secret: string): Promise<Principal>;
  can(p: Principal, action: 'endpoint.invoke', workspace: string): Promise<boolean>;
}

/** Token decisions are reused this long: a revoked token or removed role takes effect within it. */
const TOKEN_CACHE_MS = 2000;
const TOKEN_CACHE_MAX = 10_000;

function bearer(req: FastifyRequest): string {
  const h = req.headers.authorization;
  if (!h) throw new Unauthenticated('an endpoint key or token is required: Authorization: Bearer <key>');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  if (!m) throw new Unauthenticated("Authorization header must be 'Bearer <key>'");
  return m[1];
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class GatewayAuth {
  private cache = new Map<string, { until: number; error: Error | null }>();

  constructor(private readonly authz: TokenChecker) {}

  async check(req: FastifyRequest, e: LiveEndpoint): Promise<void> {
    const secret = bearer(req);
    if (e.auth === 'key') {
      // Both keys are checked (no early exit) so timing tells nothing about which one is close.
      const ok = [same(secret, e.keys.primary), same(secret, e.keys.secondary)].some(Boolean);
      if (!ok) throw new Unauthenticated(`wrong key for endpoint '${e.name}'`);
      return;
    }
    const key = `${e.workspace}\n${secret}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) {
      if (hit.error) throw hit.error;
      return;
    }
    let error: Error | null = null;
    try {
      const p = await this.authz.authenticate(secret);
      if (!(await this.authz.can(p, 'endpoint.invoke', e.workspace))) {
        error = new Forbidden(`missing permission 'endpoint.invoke' in workspace '${e.workspace}' (the invoker role)`, 'endpoint.invoke');
      }
    } catch (err) {
      // Only decisions are cached; a store outage is not.
      if (!isSlipwayError(err) || err.code !== 'unauthenticated') throw err;
      error = err;
    }
    if (this.cache.size >= TOKEN_CACHE_MAX) this.cache.clear();
    this.cache.set(key, { until: now + TOKEN_CACHE_MS, error });
    if (error) throw error;
  }
}
