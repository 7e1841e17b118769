/**
 * `POST /endpoints/{endpoint}/feedback`: ground truth for scored requests,
 * by request id. Authenticated like inference (the gateway's hooks), written
 * before the answer so an acknowledged label is never lost; it neither counts
 * as an inference request nor spends the endpoint's rate limit.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FeedbackBody, type FeedbackItem } from '../monitoring/schema.js';

export interface FeedbackSink {
  /** Stores the items; answers how many were accepted. */
  write(endpointId: number, items: FeedbackItem[]): Promise<number>;
}

export const isFeedback = (req: FastifyRequest) => (req.routeOptions.config as { feedback?: boolean } | undefined)?.feedback === true;

export function feedbackRoute(app: FastifyInstance, sink: FeedbackSink): void {
  app.post(
    '/endpoints/:endpoint/feedback',
    { config: { public: true, feedback: true }, schema: { tags: ['inference'], summary: 'Ground truth for scored requests: {requestId, label|value} or {feedback: [...]}', body: FeedbackBody } },
    async (req) => {
      const body = req.body as FeedbackBody;
      const items = 'feedback' in body ? body.feedback : [body];
      return { accepted: await sink.write(req.gateway!.endpoint!.id, items) };
    },
  );
}
