import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifySchema } from 'fastify';

function ajv(opts: Options) {
  const a = new Ajv({ allErrors: false, useDefaults: true, removeAdditional: false, strict: false, ...opts });
  (addFormats as unknown as (a: Ajv) => void)(a);
  return a;
}

/**
 * Bodies are validated strictly (a string is never taken for a number);
 * query strings and path parameters are text by nature and are coerced.
 */
export function registerValidation(app: FastifyInstance) {
  const strict = ajv({ coerceTypes: false });
  const coercing = ajv({ coerceTypes: 'array' });
  app.setValidatorCompiler<FastifySchema>(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object));
}
