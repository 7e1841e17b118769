import type { FastifyInstance, FastifyRequest, FastifySchema, RouteHandlerMethod } from 'fastify';
import type { Problem } from './problem.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Errors on this route take MLflow's shape ({error_code, message}) and statuses. */
    mlflow?: boolean;
  }
}

/** Where MLflow clients find the API: the default workspace at the root, others under /w/{workspace}. */
const workspacePrefixes = ['', '/w/:workspace'];
const apiBases = ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow'];

const MLFLOW_URL = /^(\/w\/[^/]+)?\/(ajax-)?api\/2\.0\/mlflow(-artifacts)?(\/|$|\?)/;

export function isMlflowRequest(req: FastifyRequest): boolean {
  return req.routeOptions.config?.mlflow === true || MLFLOW_URL.test(req.url);
}

/** The workspace an MLflow request addresses. */
export function mlflowWorkspace(req: FastifyRequest): string {
  return (req.params as { workspace?: string }).workspace ?? 'default';
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';

export interface MlflowRouteOptions {
  schema?: FastifySchema;
  /** Full path after the prefix, for routes outside /api/2.0/mlflow (the artifact proxy). */
  base?: string[];
  bodyLimit?: number;
}

/**
 * Registers one MLflow endpoint at every place clients call it: root and
 * /w/{workspace}, under api/ and ajax-api/ (the MLflow UI's prefix).
 */
export function mlflowRoute(app: FastifyInstance, method: Method, path: string, handler: RouteHandlerMethod, opts: MlflowRouteOptions = {}) {
  for (const ws of workspacePrefixes) {
    for (const base of opts.base ?? apiBases) {
      app.route({
        method,
        url: `${ws}${base}${path}`,
        schema: { hide: true, ...(opts.schema ?? {}) },
        config: { mlflow: true },
        bodyLimit: opts.bodyLimit,
        handler,
      });
    }
  }
}

const codes: Record<string, [string, number]> = {
  invalid: ['INVALID_PARAMETER_VALUE', 400],
  not_found: ['RESOURCE_DOES_NOT_EXIST', 404],
  conflict: ['RESOURCE_ALREADY_EXISTS', 400],
  unauthenticated: ['UNAUTHENTICATED', 401],
  forbidden: ['PERMISSION_DENIED', 403],
  payload_too_large: ['INVALID_PARAMETER_VALUE', 413],
  unsupported_media_type: ['INVALID_PARAMETER_VALUE', 415],
  method_not_allowed: ['ENDPOINT_NOT_FOUND', 405],
  rate_limited: ['REQUEST_LIMIT_EXCEEDED', 429],
  unavailable: ['TEMPORARILY_UNAVAILABLE', 503],
  timeout: ['DEADLINE_EXCEEDED', 504],
  internal: ['INTERNAL_ERROR', 500],
};

/**
 * MLflow's error body for a problem. A domain error may pin an exact MLflow
 * code and status with `mlflowCode`/`mlflowStatus` in its details.
 */
export function mlflowError(p: Problem): { status: number; body: { error_code: string; message: string } } {
  const [code, status] = codes[p.code] ?? ['INTERNAL_ERROR', 500];
  const errorCode = typeof p.mlflowCode === 'string' ? p.mlflowCode : code;
  return { status: typeof p.mlflowStatus === 'number' ? p.mlflowStatus : status, body: { error_code: errorCode, message: p.detail } };
}
