import { errorStatus, type ErrorCode, type FieldIssue } from '../shared/errors.js';

/** RFC 9457 problem details, with Slipway's stable `code`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode | 'internal';
  detail: string;
  instance?: string;
  requestId?: string;
  errors?: FieldIssue[];
  [extra: string]: unknown;
}

const titles: Record<ErrorCode | 'internal', string> = {
  invalid: 'Invalid request',
  unauthenticated: 'Unauthenticated',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  conflict: 'Conflict',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  rate_limited: 'Too many requests',
  unavailable: 'Service unavailable',
  timeout: 'Timed out',
  internal: 'Internal error',
};

export function problem(code: ErrorCode | 'internal', detail: string, extra: Partial<Problem> = {}): Problem {
  return {
    type: `urn:slipway:problem:${code}`,
    title: titles[code],
    status: code === 'internal' ? 500 : errorStatus[code],
    code,
    detail,
    ...extra,
  };
}

/** Every code a client can meet; docs/errors are checked against this list. */
export const problemCodes = Object.keys(titles) as Array<ErrorCode | 'internal'>;
