/**
 * What a firing alert does besides notifying: roll its endpoint's traffic
 * back, start a pipeline run with the alert as its cause, take a deployment
 * out of traffic. Each runs once per firing, after the firing has committed
 * (a pipeline run starts in transactions of its own), and each is audited and
 * recorded on the alert, whether it worked or not.
 */
import type { Authorizer } from '../access/authorizer.js';
import type { Ctx } from '../access/principal.js';
import type { Access } from '../access/service.js';
import { principalCtx } from '../jobs/pipelines/engine.js';
import type { PipelineService } from '../jobs/pipelines/service.js';
import type { RolloutService } from '../rollout/service.js';
import type { RoutingNow } from '../serving/endpoints.js';
import type { TrafficMap } from '../serving/schema.js';
import type { Serving } from '../serving/service.js';
import { ServingStore } from '../serving/store.js';
import { Conflict, NotFound } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import type { AlertAction, AlertRuleSpec } from './schema.js';
import { sourceOf } from './spec.js';
import type { AlertStore } from './store.js';
import type { AlertRow, AlertRuleRow } from './tables.js';
import type { ActionRecord } from './views.js';

export interface ActionDeps {
  db: Db;
  authz: Authorizer;
  access: Access;
  serving: Serving;
  pipelines: PipelineService;
  store: AlertStore;
  /** A rollback aborts a rollout driving the endpoint (else its controller would move the traffic again). */
  rollouts?: RolloutService;
}

/** Who acts when an alert does: `alert:RULE` in the endpoint history and the audit trail. */
export function alertActor(rule: string, id?: number): Ctx {
  const name = `alert:${rule}`;
  return { principal: { id: 0, name, kind: 'service', isAdmin: true, groupIds: [] }, requestId: id === undefined ? name : `${name}#${id}` };
}

/** The maps with `deployment` out of live traffic (its share split over the others in proportion) and out of the mirror. */
export function withoutDeployment(cur: RoutingNow, deployment: string): { traffic: TrafficMap; mirror: TrafficMap } {
  const freed = cur.traffic[deployment] ?? 0;
  const others = Object.entries(cur.traffic).filter(([k, v]) => k !== deployment && v > 0);
  const total = others.reduce((s, [, v]) => s + v, 0);
  const traffic: TrafficMap = {};
  for (const [k, v] of others) traffic[k] = v + Math.floor((freed * v) / total);
  const left = 100 - Object.values(traffic).reduce((s, v) => s + v, 0);
  if (others.length && left) traffic[others.sort((a, b) => b[1] - a[1])[0][0]] += left;
  const mirror = { ...cur.mirror };
  delete mirror[deployment];
  for (const k of Object.keys(mirror)) if (traffic[k] === 100) delete mirror[k];
  return { traffic, mirror };
}

export class AlertActions {
  private readonly servingStore: ServingStore;

  constructor(private readonly d: ActionDeps) {
    this.servingStore = new ServingStore(d.db);
  }

  /** Runs every action of the rule for this firing, in order; a failing one does not stop the next. */
  async run(workspace: string, rule: AlertRuleRow, spec: AlertRuleSpec, alert: AlertRow): Promise<void> {
    for (const action of spec.actions ?? []) {
      const audit = { action: 'alert.action', workspace, target: `alert/${alert.id}`, detail: { type: action.type, rule: rule.name } };
      const ctx = alertActor(rule.name, alert.id);
      try {
        const detail = await this.standalone(workspace, ctx, rule, spec, action, alert);
        if (detail !== null) {
          await this.d.authz.commit(ctx, { ...audit, detail: { ...audit.detail, ok: true } }, (tx) => this.record(tx, alert, action, true, detail));
        } else {
          await this.d.authz.commit(ctx, { ...audit, detail: { ...audit.detail, ok: true } }, async (tx) => {
            const detail = action.type === 'rollback' ? await this.rollback(tx, ctx, rule, spec, action, alert) : action.type === 'scale_to_zero' ? await this.scaleToZero(tx, ctx, spec, action, alert) : '';
            await this.record(tx, alert, action, true, detail);
          });
        }
      } catch (e) {
        const why = (e as Error).message;
        await this.d.authz.commit(ctx, { ...audit, detail: { ...audit.detail, ok: false, error: why } }, (tx) => this.record(tx, alert, action, false, why));
      }
    }
  }

  private async record(tx: Db, alert: AlertRow, action: AlertAction, ok: boolean, detail: string): Promise<void> {
    const cur = (await this.d.store.alert(alert.workspace_id, alert.id, tx, true))!;
    const actions = [...(JSON.parse(cur.actions) as ActionRecord[]), { type: action.type, at: new Date().toISOString(), ok, detail }];
    await this.d.store.updateAlert(tx, alert.id, { actions: JSON.stringify(actions) });
  }

  private endpointOf(spec: AlertRuleSpec, action: { endpoint?: string }): string {
    const s = sourceOf(spec);
    return action.endpoint ?? (s.kind === 'endpoint' ? s.endpoint : '');
  }

  /** Actions whose work commits on its own (a pipeline start, rollout aborts), answering their detail; null: the action runs inside the transaction that records it. */
  private async standalone(workspace: string, ctx: Ctx, rule: AlertRuleRow, spec: AlertRuleSpec, action: AlertAction, alert: AlertRow): Promise<string | null> {
    if (action.type === 'run_pipeline') return this.runPipeline(workspace, rule, action, alert);
    if (action.type === 'rollback') return this.abortRollouts(workspace, ctx, this.endpointOf(spec, action), alert, rule);
    return null;
  }

  /** Aborts the rollouts driving the endpoint, which puts its traffic back on their stable deployment; null when none is. */
  private async abortRollouts(workspace: string, ctx: Ctx, endpoint: string, alert: AlertRow, rule: AlertRuleRow): Promise<string | null> {
    if (!this.d.rollouts) return null;
    const live = (await this.d.rollouts.list(ctx, workspace)).filter((r) => r.endpoint === endpoint && (r.state === 'running' || r.state === 'paused'));
    for (const r of live) await this.d.rollouts.act(ctx, workspace, r.name, 'abort', `alert ${alert.id} (${rule.name})`);
    return live.length ? `aborted rollout ${live.map((r) => r.name).join(', ')} of ${endpoint}: traffic back on its stable deployment` : null;
  }

  /** Traffic and mirror back to the history row before the newest one (the endpoint's last change). */
  private async rollback(tx: Db, ctx: Ctx, rule: AlertRuleRow, spec: AlertRuleSpec, action: Extract<AlertAction, { type: 'rollback' }>, alert: AlertRow): Promise<string> {
    const name = this.endpointOf(spec, action);
    const e = await this.servingStore.endpoint(name, tx, true);
    if (!e || Number(e.workspace_id) !== rule.workspace_id) throw new NotFound('endpoint', name);
    const [last, before] = await this.servingStore.history(rule.workspace_id, name, 2, tx);
    if (!before) throw new Conflict(`endpoint '${name}' has no earlier traffic in its history to go back to`);
    // Undoing an alert's own rollback would put the failing traffic back.
    if (last.who.startsWith('alert:')) throw new Conflict(`the last traffic change of '${name}' was made by ${last.who} (${last.reason}); not undone`);
    const traffic = JSON.parse(before.traffic) as TrafficMap;
    const at = new Date(before.at).toISOString();
    await this.d.serving.endpoints.shift(tx, ctx, e.id, name, () => ({ traffic, mirror: JSON.parse(before.mirror) as TrafficMap, reason: `alert ${alert.id} (${rule.name}) rolled back to the traffic of ${at}` }));
    return `${name} traffic ${JSON.stringify(JSON.parse(last.traffic))} → ${JSON.stringify(traffic)} (as of ${at}, before ${last.who}'s change)`;
  }

  /** Deployments have at least one instance: "zero" is no live or mirrored traffic; the endpoint answers nothing when it was the only one. */
  private async scaleToZero(tx: Db, ctx: Ctx, spec: AlertRuleSpec, action: Extract<AlertAction, { type: 'scale_to_zero' }>, alert: AlertRow): Promise<string> {
    const name = this.endpointOf(spec, action);
    const e = await this.servingStore.endpoint(name, tx, true);
    if (!e || Number(e.workspace_id) !== alert.workspace_id) throw new NotFound('endpoint', name);
    let after: TrafficMap = {};
    await this.d.serving.endpoints.shift(tx, ctx, e.id, name, (cur) => {
      if (!cur.deployments.includes(action.deployment)) throw new NotFound('deployment', `${name}/${action.deployment}`);
      const next = withoutDeployment(cur, action.deployment);
      after = next.traffic;
      return { ...next, reason: `alert ${alert.id} (${alert.rule}) took ${action.deployment} out of traffic` };
    });
    return `${name}/${action.deployment} out of traffic; traffic now ${JSON.stringify(after)}`;
  }

  /** As whoever applied the rule last: their rights start the run, and the run names the alert as its cause. */
  private async runPipeline(workspace: string, rule: AlertRuleRow, action: Extract<AlertAction, { type: 'run_pipeline' }>, alert: AlertRow): Promise<string> {
    const ctx = await principalCtx(this.d.access, rule.principal_id, `alert-${alert.id}`);
    const run = await this.d.pipelines.start(ctx, workspace, action.pipeline, { params: action.params, cause: { kind: 'alert', id: String(alert.id) } });
    return `pipeline ${action.pipeline} run ${run.id} started as ${ctx.principal.name}`;
  }
}
