import { pipeline, Transform, type Readable } from 'node:stream';
import { SlipwayError } from '../shared/errors.js';

export function tooLarge(maxBytes: number): SlipwayError {
  return new SlipwayError('payload_too_large', `body: larger than the ${maxBytes}-byte limit for one artifact`);
}

/**
 * Passes a request body through, failing it with payload_too_large once it
 * exceeds `maxBytes` (Fastify's bodyLimit does not apply to streamed bodies).
 */
export function limitBytes(body: Readable, maxBytes: number): Readable {
  let seen = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > maxBytes) done(tooLarge(maxBytes));
      else done(null, chunk);
    },
  });
  return pipeline(body, limiter, () => undefined);
}
