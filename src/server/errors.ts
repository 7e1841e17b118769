import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isSlipwayError, type ErrorCode, type FieldIssue } from '../shared/errors.js';
import { isMlflowRequest, mlflowError } from './mlflow.js';
import { problem, type Problem } from './problem.js';

interface AjvIssue {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

function fieldOf(issue: AjvIssue): string {
  const base = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const extra = (issue.params.missingProperty ?? issue.params.additionalProperty) as string | undefined;
  return [base, extra].filter(Boolean).join('.') || '(root)';
}

function messageOf(issue: AjvIssue): string {
  if (issue.keyword === 'required') return 'is required';
  if (issue.keyword === 'additionalProperties') return 'is not an accepted field';
  return issue.message ?? issue.keyword;
}

/** Turns framework validation output into field issues that name the field and what was expected. */
export function validationIssues(err: FastifyError): FieldIssue[] {
  const issues = (err.validation ?? []) as unknown as AjvIssue[];
  return issues.map((i) => ({ field: fieldOf(i), message: messageOf(i) }));
}

const frameworkCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
};

const byStatus: Record<number, ErrorCode> = { 400: 'invalid', 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed', 409: 'conflict', 413: 'payload_too_large', 415: 'unsupported_media_type', 429: 'rate_limited', 503: 'unavailable', 504: 'timeout' };

/** Maps any thrown error to a problem; unknown errors become 500 and are logged. */
export function toProblem(err: unknown, req: FastifyRequest): Problem {
  const base = { instance: req.url.split('?')[0], requestId: req.id };
  if (isSlipwayError(err)) return problem(err.code, err.message, { ...base, ...(err.details ?? {}) });
  const fe = err as FastifyError;
  const db = databaseProblem(err, base);
  if (db) return db;
  if (fe.validation) {
    const errors = validationIssues(fe);
    const where = fe.validationContext ?? 'request';
    return problem('invalid', `${where}: ` + errors.map((e) => `${e.field} ${e.message}`).join('; '), { ...base, errors });
  }
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (fe instanceof SyntaxError && fe.statusCode === 400)) {
    return problem('invalid', `body: malformed JSON (${fe.message})`, { ...base, errors: [{ field: 'body', message: 'malformed JSON' }] });
  }
  const code = frameworkCodes[fe.code] ?? (fe.statusCode && fe.statusCode < 500 ? byStatus[fe.statusCode] : undefined);
  if (code) return problem(code, fe.message, base);
  return problem('internal', 'internal error; the request id identifies it in the server log', base);
}

/**
 * The database's own refusals that only a client's input can cause: a unique
 * key taken by a concurrent writer (the service checked first and lost the
 * race), a number out of range. Both drivers carry PostgreSQL's SQLSTATE.
 */
function databaseProblem(err: unknown, base: Partial<Problem>): Problem | undefined {
  const e = err as { code?: unknown; constraint?: unknown; severity?: unknown };
  if (typeof e.code !== 'string' || typeof e.severity !== 'string') return undefined;
  if (e.code === '23505') return problem('conflict', `already exists (${String(e.constraint ?? 'unique key')})`, base);
  if (e.code === '22003') return problem('invalid', 'a number is out of range', base);
  // A value the column type cannot hold (e.g. 1e+21 for a bigint) is the client's input, not a fault.
  if (e.code === '22P02') return problem('invalid', 'a value has the wrong form for its field (out of range or not a number)', base);
  return undefined;
}

export function sendProblem(reply: FastifyReply, p: Problem) {
  if (isMlflowRequest(reply.request)) {
    const m = mlflowError(p);
    return reply.code(m.status).type('application/json').send(m.body);
  }
  const { mlflowCode: _c, mlflowStatus: _s, ...native } = p;
  p = native as Problem;
  if (p.code === 'unauthenticated') reply.header('www-authenticate', 'Bearer realm="slipway"');
  const retry = (p as { retryAfterSeconds?: number }).retryAfterSeconds;
  if (retry !== undefined) reply.header('retry-after', String(retry));
  return reply.code(p.status).type('application/problem+json').send(p);
}

export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((err, req, reply) => {
    const p = toProblem(err, req);
    // An expected refusal (503 with Retry-After, 504) is not a fault: a line, no stack.
    if (p.code === 'unavailable' || p.code === 'timeout') req.log.warn({ code: p.code, detail: p.detail }, 'request refused');
    else if (p.status >= 500) req.log.error({ err }, 'request failed');
    const wantsPage = req.method === 'GET' && !req.url.startsWith('/api/') && (req.headers.accept ?? '').includes('text/html');
    if (p.code === 'unauthenticated' && wantsPage) return reply.redirect('/login?next=' + encodeURIComponent(req.url), 302);
    return sendProblem(reply, p);
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, problem('not_found', `no route ${req.method} ${req.url.split('?')[0]}`, { instance: req.url.split('?')[0], requestId: req.id, mlflowCode: 'ENDPOINT_NOT_FOUND' })));
}
