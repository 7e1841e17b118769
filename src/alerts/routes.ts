import type { FastifyInstance } from 'fastify';
import * as S from './schema.js';
import type { AlertService } from './service.js';

const tags = ['alerts'];
const ws = '/api/v1/workspaces/:ws';

/** Native alert API: rules, alerts (+ ack), silences, and the Prometheus export of the rules. HTTP only. */
export async function alertRoutes(app: FastifyInstance, { alerts }: { alerts: AlertService }) {
  const w = (req: { params: unknown }) => (req.params as { ws: string }).ws;
  const rp = (req: { params: unknown }) => req.params as S.RuleParams;
  const ap = (req: { params: unknown }) => req.params as S.AlertParams;

  app.get(`${ws}/alert-rules`, { schema: { tags, summary: 'List the alert rules of a workspace', params: S.WsParams } }, async (req) => ({ rules: await alerts.list(req.ctx, w(req)) }));
  app.post(`${ws}/alert-rules`, { schema: { tags, summary: 'Create an alert rule on an endpoint metric, a monitor signal or job failures', params: S.WsParams, body: S.AlertRuleSpec } }, async (req, reply) => {
    reply.code(201);
    return alerts.put(req.ctx, w(req), req.body as S.AlertRuleSpec, true);
  });
  app.get(`${ws}/alert-rules/export`, { schema: { tags, summary: 'Prometheus alerting rules equivalent to the endpoint-metric rules (promtool check rules takes them as YAML)', params: S.WsParams } }, async (req) =>
    alerts.prometheus(req.ctx, w(req)),
  );
  app.put(`${ws}/alert-rules/:name`, { schema: { tags, summary: 'Create or replace an alert rule', params: S.RuleParams, body: S.AlertRuleSpec } }, async (req) =>
    alerts.put(req.ctx, rp(req).ws, { ...(req.body as S.AlertRuleSpec), name: rp(req).name }),
  );
  app.get(`${ws}/alert-rules/:name`, { schema: { tags, summary: 'An alert rule and its open alert', params: S.RuleParams } }, async (req) => alerts.get(req.ctx, rp(req).ws, rp(req).name));
  app.delete(`${ws}/alert-rules/:name`, { schema: { tags, summary: 'Delete an alert rule and its alerts', params: S.RuleParams } }, async (req, reply) => {
    await alerts.delete(req.ctx, rp(req).ws, rp(req).name);
    reply.code(204);
  });

  app.get(`${ws}/alerts`, { schema: { tags, summary: 'Alerts, newest first (state=open: not resolved)', params: S.WsParams, querystring: S.AlertsQuery } }, async (req) => ({
    alerts: await alerts.alerts(req.ctx, w(req), req.query as S.AlertsQuery),
  }));
  app.get(`${ws}/alerts/:id`, { schema: { tags, summary: 'One alert with its actions and runbook', params: S.AlertParams } }, async (req) => alerts.alert(req.ctx, ap(req).ws, ap(req).id));
  // The comment is optional, so is the body: `curl -X POST …/ack` acknowledges.
  const optionalBody = async (req: { body: unknown }) => void (req.body ??= {});
  app.post(`${ws}/alerts/:id/ack`, { preValidation: optionalBody, schema: { tags, summary: 'Acknowledge a firing alert: no more re-notifications', params: S.AlertParams, body: S.AckBody } }, async (req) =>
    alerts.ack(req.ctx, ap(req).ws, ap(req).id, (req.body as S.AckBody | undefined)?.comment),
  );
  app.post(`${ws}/alerts/:id/resolve`, { preValidation: optionalBody, schema: { tags, summary: 'Resolve an alert by hand: its channels are told; the rule opens a new one if its condition still holds', params: S.AlertParams, body: S.AckBody } }, async (req) =>
    alerts.resolve(req.ctx, ap(req).ws, ap(req).id, (req.body as S.AckBody | undefined)?.comment),
  );

  app.get(`${ws}/silences`, { schema: { tags, summary: 'Silences in force (all=true: expired ones too)', params: S.WsParams, querystring: S.SilencesQuery } }, async (req) => ({
    silences: await alerts.silences(req.ctx, w(req), (req.query as S.SilencesQuery).all ?? false),
  }));
  app.post(`${ws}/silences`, { schema: { tags, summary: 'Silence matching alerts until a time: no notifications or actions, states still change', params: S.WsParams, body: S.SilenceBody } }, async (req, reply) => {
    reply.code(201);
    return alerts.silence(req.ctx, w(req), req.body as S.SilenceBody);
  });
  app.delete(`${ws}/silences/:id`, { schema: { tags, summary: 'End a silence now', params: S.AlertParams } }, async (req, reply) => {
    await alerts.unsilence(req.ctx, ap(req).ws, ap(req).id);
    reply.code(204);
  });
}
