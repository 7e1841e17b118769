import type { Action } from '../access/matrix.js';
import type { Authorizer } from '../access/authorizer.js';
import type { Ctx } from '../access/principal.js';
import { MonitoringStore } from '../monitoring/store.js';
import { requireEndpoint } from '../serving/endpoints.js';
import { ServingStore } from '../serving/store.js';
import { Conflict, Forbidden, Invalid, NotFound } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import { prometheusRules, type PrometheusRules } from './prometheus.js';
import type { AlertRuleSpec, AlertsQuery, SilenceBody } from './schema.js';
import { checkRule, parseDuration, sourceOf } from './spec.js';
import { AlertStore } from './store.js';
import type { AlertRow } from './tables.js';
import type { Notifier } from './notification.js';
import { alertView, notification, ruleView, silencedBy, silenceView, type AlertView, type RuleView, type SilenceView } from './views.js';

/** Rights a rule's actions use: whoever writes the rule must hold them. */
const ACTION_RIGHTS: Record<string, Action[]> = { rollback: ['endpoint.deploy'], scale_to_zero: ['endpoint.deploy'], run_pipeline: ['job.run', 'alert.ack'] };

/**
 * Alert rules (monitor.write to change), alerts (workspace.read to see,
 * alert.ack to acknowledge) and silences (monitor.write). Evaluation is the
 * evaluator's (evaluator.ts); this is what people do.
 */
export class AlertService {
  readonly store: AlertStore;
  private readonly serving: ServingStore;
  private readonly monitors: MonitoringStore;

  constructor(private readonly d: { db: Db; authz: Authorizer; notifier?: Notifier }) {
    this.store = new AlertStore(d.db);
    this.serving = new ServingStore(d.db);
    this.monitors = new MonitoringStore(d.db);
  }

  /** Creates or replaces a rule (apply and the API share it); an open alert of the rule stays open. */
  async put(ctx: Ctx, workspace: string, input: AlertRuleSpec, expectNew = false): Promise<RuleView> {
    const spec = checkRule(input);
    // Read before the transaction: roles come through the store's own connection, which on PGlite (one session) waits behind an open transaction forever.
    const missing = await this.missingActionRight(ctx, workspace, spec);
    return this.d.authz.mutate(ctx, { action: 'monitor.write', workspace, target: `alert-rule/${spec.name}`, detail: { op: 'put', source: spec.source, actions: (spec.actions ?? []).map((a) => a.type) } }, async (tx, ws) => {
      const wsId = Number(ws!.id);
      await this.checkRefs(tx, wsId, spec);
      if (missing) throw missing;
      if (expectNew && (await this.store.rule(wsId, spec.name, tx))) throw new Conflict(`alert rule '${spec.name}' already exists in workspace '${workspace}'`);
      const row = await this.store.upsertRule(tx, { workspace_id: wsId, name: spec.name, spec: JSON.stringify(spec), principal_id: ctx.principal.id, created_by: ctx.principal.name, now: Date.now() });
      return ruleView(workspace, row);
    });
  }

  /** The first right a rule's actions use that the writer lacks, as the refusal to throw (null: holds them all). */
  private async missingActionRight(ctx: Ctx, workspace: string, spec: AlertRuleSpec): Promise<Forbidden | null> {
    for (const [i, a] of (spec.actions ?? []).entries()) {
      for (const right of ACTION_RIGHTS[a.type]) if (!(await this.d.authz.can(ctx.principal, right, workspace))) return new Forbidden(`actions[${i}] (${a.type}) needs '${right}' in workspace '${workspace}', which ${ctx.principal.name} does not hold`, right);
    }
    return null;
  }

  /**
   * What the rule names exists in the workspace: the endpoint or monitor it
   * reads (a job rule's pipeline need not), its channels, and what its
   * actions act on. A typo would otherwise show only when the rule fires.
   */
  private async checkRefs(tx: Db, wsId: number, spec: AlertRuleSpec): Promise<void> {
    const s = sourceOf(spec);
    if (s.kind === 'endpoint') await this.requireDeployment(tx, wsId, s.endpoint, s.deployment, 'source.endpoint', 'source.deployment');
    if (s.kind === 'monitor' && !(await this.monitors.get(wsId, s.monitor, tx))) throw Invalid.field('source.monitor', `a monitor of this workspace, got '${s.monitor}'`);
    const [missing] = await this.store.missingChannels(tx, wsId, spec.channels ?? []);
    if (missing !== undefined) throw Invalid.field('channels', `AlertChannel names of this workspace; there is no channel '${missing}'`);
    for (const [i, a] of (spec.actions ?? []).entries()) {
      if (a.type === 'run_pipeline' && !(await this.store.pipelineExists(tx, wsId, a.pipeline))) throw Invalid.field(`actions[${i}].pipeline`, `a pipeline of this workspace, got '${a.pipeline}'`);
      // checkRule made sure an endpoint is named when the source is not one.
      if (a.type !== 'run_pipeline') await this.requireDeployment(tx, wsId, a.endpoint ?? (s.kind === 'endpoint' ? s.endpoint : ''), a.type === 'scale_to_zero' ? a.deployment : undefined, `actions[${i}].endpoint`, `actions[${i}].deployment`);
    }
  }

  private async requireDeployment(tx: Db, wsId: number, endpoint: string, deployment: string | undefined, endpointField: string, deploymentField: string): Promise<void> {
    const e = await requireEndpoint(this.serving, tx, wsId, endpoint).catch(() => {
      throw Invalid.field(endpointField, `an endpoint of this workspace, got '${endpoint}'`);
    });
    if (deployment !== undefined && !(await this.serving.deployments([e.id], tx)).some((d) => d.name === deployment)) throw Invalid.field(deploymentField, `a deployment of endpoint '${endpoint}', got '${deployment}'`);
  }

  async list(ctx: Ctx, workspace: string): Promise<RuleView[]> {
    const ws = await this.d.authz.authorize(ctx, 'workspace.read', workspace);
    return (await this.store.rules(Number(ws.id))).map((r) => ruleView(workspace, r));
  }

  async get(ctx: Ctx, workspace: string, name: string): Promise<RuleView & { alert: AlertView | null }> {
    const ws = await this.d.authz.authorize(ctx, 'workspace.read', workspace);
    const r = await this.store.rule(Number(ws.id), name);
    if (!r) throw new NotFound('alert rule', name);
    const open = await this.store.openAlert(r.id);
    return { ...ruleView(workspace, r), alert: open ? await this.view(workspace, open.workspace_id, open) : null };
  }

  async delete(ctx: Ctx, workspace: string, name: string): Promise<void> {
    await this.d.authz.mutate(ctx, { action: 'monitor.write', workspace, target: `alert-rule/${name}`, detail: { op: 'delete' } }, async (tx, ws) => {
      const r = await this.store.rule(Number(ws!.id), name, tx);
      if (!r) throw new NotFound('alert rule', name);
      await this.store.deleteRule(tx, r.id);
    });
  }

  /** Prometheus alerting rules for the workspace's endpoint-metric rules. */
  async prometheus(ctx: Ctx, workspace: string): Promise<PrometheusRules> {
    const ws = await this.d.authz.authorize(ctx, 'workspace.read', workspace);
    return prometheusRules(workspace, (await this.store.rules(Number(ws.id))).map((r) => JSON.parse(r.spec) as AlertRuleSpec));
  }

  async alerts(ctx: Ctx, workspace: string, q: AlertsQuery): Promise<AlertView[]> {
    const ws = await this.d.authz.authorize(ctx, 'workspace.read', workspace);
    const silences = await this.store.silences(Number(ws.id), Date.now());
    return (await this.store.alerts(Number(ws.id), { ...q, limit: q.limit ?? 100 })).map((a) => alertView(workspace, a, a.state !== 'resolved' && !!silencedBy(a, silences)));
  }

  async alert(ctx: Ctx, workspace: string, id: number): Promise<AlertView> {
    const ws = await this.d.authz.authorize(ctx, 'workspace.read', workspace);
    const a = await this.store.alert(Number(ws.id), id);
    if (!a) throw new NotFound('alert', id);
    return this.view(workspace, Number(ws.id), a);
  }

  private async view(workspace: string, wsId: number, a: AlertRow): Promise<AlertView> {
    const silenced = a.state !== 'resolved' && !!silencedBy(a, await this.store.silences(wsId, Date.now()));
    const rule = await this.store.rule(wsId, a.rule);
    return alertView(workspace, a, silenced, rule ? ((JSON.parse(rule.spec) as AlertRuleSpec).runbook ?? '') : undefined);
  }

  /** Firing → acknowledged: no more re-notifications; it still resolves by itself when the condition clears. */
  async ack(ctx: Ctx, workspace: string, id: number, comment?: string): Promise<AlertView> {
    await this.d.authz.mutate(ctx, { action: 'alert.ack', workspace, target: `alert/${id}`, detail: { op: 'ack', ...(comment ? { comment } : {}) } }, async (tx, ws) => {
      const a = await this.store.alert(Number(ws!.id), id, tx, true);
      if (!a) throw new NotFound('alert', id);
      if (a.state !== 'firing') throw new Conflict(`alert ${id} is ${a.state}; only a firing alert is acknowledged`);
      const now = Date.now();
      await this.store.updateAlert(tx, id, { state: 'acknowledged', acked_at: now, acked_by: ctx.principal.name, updated_at: now });
    });
    return this.alert(ctx, workspace, id);
  }

  /**
   * Ends an alert by hand (alert.ack): the channels told of its firing are
   * told of its end in the same transaction. Should the condition still hold,
   * the rule opens a new alert at its next evaluation.
   */
  async resolve(ctx: Ctx, workspace: string, id: number, comment?: string): Promise<AlertView> {
    await this.d.authz.mutate(ctx, { action: 'alert.ack', workspace, target: `alert/${id}`, detail: { op: 'resolve', ...(comment ? { comment } : {}) } }, async (tx, ws) => {
      const a = await this.store.alert(Number(ws!.id), id, tx, true);
      if (!a) throw new NotFound('alert', id);
      if (a.state === 'resolved') throw new Conflict(`alert ${id} is resolved already`);
      const now = Date.now();
      const done = await this.store.updateAlert(tx, id, { state: 'resolved', resolved_at: now, updated_at: now });
      const rule = await this.store.ruleById(a.rule_id, tx);
      const spec = rule ? (JSON.parse(rule.spec) as AlertRuleSpec) : null;
      if (a.notified_at !== null && spec?.channels?.length && this.d.notifier) await this.d.notifier.enqueue(tx, workspace, spec.channels, notification(workspace, done, spec, false, null));
    });
    return this.alert(ctx, workspace, id);
  }

  async silence(ctx: Ctx, workspace: string, body: SilenceBody): Promise<SilenceView> {
    const now = Date.now();
    if (!Object.keys(body.matchers).length) throw Invalid.field('matchers', 'at least one of rule or a label, e.g. {rule: cancer-errors}');
    if ((body.until === undefined) === (body.duration === undefined)) throw Invalid.field('until', 'either until (an ISO 8601 time) or duration (such as 2h), not both');
    const until = body.until !== undefined ? Date.parse(body.until) : now + parseDuration(body.duration!, 'duration');
    if (!Number.isFinite(until)) throw Invalid.field('until', `an ISO 8601 time, got '${body.until}'`);
    if (until <= now) throw Invalid.field('until', 'a time in the future');
    return this.d.authz.mutate(ctx, { action: 'monitor.write', workspace, target: 'alert-silences', detail: { op: 'silence', matchers: body.matchers, until: new Date(until).toISOString() } }, async (tx, ws) => {
      const s = await this.store.insertSilence(tx, { workspace_id: Number(ws!.id), matchers: JSON.stringify(body.matchers), until, comment: body.comment ?? '', created_by: ctx.principal.name, created_at: now });
      return silenceView(workspace, s, now);
    });
  }

  async silences(ctx: Ctx, workspace: string, all = false): Promise<SilenceView[]> {
    const ws = await this.d.authz.authorize(ctx, 'workspace.read', workspace);
    const now = Date.now();
    return (await this.store.silences(Number(ws.id), now, all)).map((s) => silenceView(workspace, s, now));
  }

  async unsilence(ctx: Ctx, workspace: string, id: number): Promise<void> {
    await this.d.authz.mutate(ctx, { action: 'monitor.write', workspace, target: `alert-silence/${id}`, detail: { op: 'delete' } }, async (tx, ws) => {
      if (!(await this.store.deleteSilence(tx, Number(ws!.id), id))) throw new NotFound('silence', id);
    });
  }
}
