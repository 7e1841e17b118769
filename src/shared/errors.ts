/**
 * Typed errors with a stable `code`. Services throw these; one handler in
 * server/errors.ts maps them to problem+json (native) or MLflow bodies.
 * Match on `code`, never on the class.
 */
export type ErrorCode =
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'forbidden'
  | 'unauthenticated'
  | 'unavailable'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'rate_limited'
  | 'timeout';

export const errorStatus: Record<ErrorCode, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  method_not_allowed: 405,
  rate_limited: 429,
  unavailable: 503,
  timeout: 504,
};

export interface FieldIssue {
  field: string;
  message: string;
}

export class SlipwayError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.details = details;
    this.name = 'SlipwayError';
  }
}

export class Invalid extends SlipwayError {
  readonly issues: FieldIssue[];
  constructor(message: string, issues: FieldIssue[] = []) {
    super('invalid', message, issues.length ? { errors: issues } : undefined);
    this.issues = issues;
  }
  static field(field: string, expected: string): Invalid {
    return new Invalid(`${field}: ${expected}`, [{ field, message: expected }]);
  }
}

export class NotFound extends SlipwayError {
  constructor(what: string, name?: string | number) {
    super('not_found', name === undefined ? `${what} not found` : `${what} '${name}' not found`);
  }
}

export class Conflict extends SlipwayError {
  constructor(message: string) {
    super('conflict', message);
  }
}

export class Forbidden extends SlipwayError {
  readonly action?: string;
  constructor(message: string, action?: string) {
    super('forbidden', message, action ? { action } : undefined);
    this.action = action;
  }
}

export class Unauthenticated extends SlipwayError {
  constructor(message = 'a valid bearer token is required') {
    super('unauthenticated', message);
  }
}

export class Unavailable extends SlipwayError {
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    // In details too, so the error mapper can set Retry-After without knowing the class.
    super('unavailable', message, retryAfterSeconds !== undefined ? { retryAfterSeconds } : undefined);
  }
}

export function isSlipwayError(e: unknown): e is SlipwayError {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' && (e as { code: string }).code in errorStatus && e instanceof Error;
}
