import type { Authorizer } from '../access/authorizer.js';
import type { Ctx } from '../access/principal.js';
import type { RoutingNow } from '../serving/endpoints.js';
import type { TrafficMap } from '../serving/schema.js';
import type { Serving } from '../serving/service.js';
import { ServingStore } from '../serving/store.js';
import { Conflict, Invalid } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import { describeStep } from './plan.js';
import type { Step } from './schema.js';
import type { RolloutStore } from './store.js';
import type { RolloutRow, RolloutState } from './tables.js';

export interface RolloutDeps {
  db: Db;
  authz: Authorizer;
  store: RolloutStore;
  serving: Serving;
}

export const stepsOf = (r: RolloutRow) => JSON.parse(r.steps) as Step[];

/** Who changes traffic when the controller does: `rollout:NAME` in the endpoint history and the audit trail. */
export function actor(r: RolloutRow): Ctx {
  const name = `rollout:${r.name}`;
  return { principal: { id: 0, name, kind: 'service', isAdmin: true, groupIds: [] }, requestId: name };
}

/** The maps of a step: shadow mirrors to the candidate with live traffic on the stable; traffic splits live traffic. */
function stepRouting(r: RolloutRow, cur: RoutingNow, index: number): { traffic: TrafficMap; mirror: TrafficMap } {
  const stable = r.stable!;
  const mirror = { ...cur.mirror };
  delete mirror[r.candidate];
  const steps = stepsOf(r);
  if (index >= steps.length) {
    // The stable is about to be retired, or stays idle: nothing should copy traffic to it.
    delete mirror[stable];
    return { traffic: { [r.candidate]: 100 }, mirror };
  }
  const s = steps[index];
  if (s.shadow !== undefined) return { traffic: { [stable]: 100 }, mirror: { ...mirror, [r.candidate]: s.shadow } };
  return { traffic: { [stable]: 100 - s.traffic!, [r.candidate]: s.traffic! }, mirror };
}

function rollbackRouting(r: RolloutRow, cur: RoutingNow): { traffic: TrafficMap; mirror: TrafficMap } {
  const mirror = { ...cur.mirror };
  delete mirror[r.candidate];
  return { traffic: { [r.stable!]: 100 }, mirror };
}

/**
 * The state changes of a rollout, each inside the caller's transaction on a
 * locked row: the routing change (with its history row) and the rollout's
 * own state commit together or not at all.
 */
export class Transitions {
  private readonly servingStore: ServingStore;

  constructor(private readonly deps: RolloutDeps) {
    this.servingStore = new ServingStore(deps.db);
  }

  private async event(tx: Db, r: RolloutRow, now: number, kind: string, message: string) {
    await this.deps.store.addEvent(tx, { rollout_id: r.id, at: now, kind, message });
  }

  /**
   * Pending → running: checks the endpoint as it is now (the candidate
   * exists, live traffic only on stable and candidate, no other rollout
   * driving it), fixes the stable, and enters the first step.
   */
  async start(tx: Db, ctx: Ctx, r: RolloutRow, now: number): Promise<void> {
    if (r.state !== 'pending') throw new Conflict(`rollout '${r.name}' is ${r.state}; only a pending rollout starts`);
    const e = await this.servingStore.endpoint(r.endpoint, tx, true);
    if (!e || e.id !== r.endpoint_id) throw new Conflict(`endpoint '${r.endpoint}' of rollout '${r.name}' no longer exists`);
    const names = (await this.servingStore.deployments([e.id], tx)).map((d) => d.name);
    const traffic = JSON.parse(e.traffic) as TrafficMap;
    if (!names.includes(r.candidate)) throw Invalid.field('candidate', `names no deployment of endpoint '${r.endpoint}' (known: ${names.join(', ') || 'none'})`);
    const stable = r.stable ?? Object.keys(traffic).find((k) => traffic[k] === 100);
    if (!stable) throw Invalid.field('stable', `endpoint '${r.endpoint}' has no deployment taking 100% of traffic; name the stable deployment`);
    if (!names.includes(stable)) throw Invalid.field('stable', `names no deployment of endpoint '${r.endpoint}' (known: ${names.join(', ')})`);
    if (stable === r.candidate) throw Invalid.field('candidate', `'${r.candidate}' already takes 100% of traffic: it is the stable deployment`);
    const others = Object.keys(traffic).filter((k) => traffic[k] > 0 && k !== stable && k !== r.candidate);
    if (others.length) throw new Conflict(`endpoint '${r.endpoint}' sends traffic to ${others.join(', ')} besides '${stable}' and '${r.candidate}'; a rollout moves traffic between two deployments`);
    const busy = (await this.deps.store.activeOn(e.id, tx)).filter((x) => x.id !== r.id);
    if (busy.length) throw new Conflict(`rollout '${busy[0].name}' is ${busy[0].state} on endpoint '${r.endpoint}'; finish or abort it first`);
    await this.deps.store.update(tx, r.id, { stable, state: 'running', updated_at: now });
    await this.event(tx, r, now, 'started', `started by ${ctx.principal.name}: ${r.candidate} replaces ${stable}`);
    // Live requests never go to a deployment that cannot answer yet: the controller enters step 1 once it is Ready.
    if ((await this.candidateState(tx, r)) !== 'Ready') return this.event(tx, r, now, 'waiting', `waiting for ${r.candidate} to be Ready`);
    // Steps are the rollout's own changes, whoever started it: the history names rollout:NAME.
    const started = { ...r, stable, state: 'running' as const };
    await this.enterStep(tx, actor(started), started, 0, now);
  }

  /** The candidate's runtime state as the gateways report it (Pending, Ready, Failed: …); null when it is gone. */
  async candidateState(db: Db, r: RolloutRow): Promise<string | null> {
    return (await this.servingStore.deployments([r.endpoint_id], db)).find((d) => d.name === r.candidate)?.state ?? null;
  }

  /** Writes the routing of step `index` and restarts its clock; past the last step it promotes. */
  async enterStep(tx: Db, ctx: Ctx, r: RolloutRow, index: number, now: number): Promise<void> {
    const steps = stepsOf(r);
    if (index >= steps.length) return this.promote(tx, ctx, r, now, 'all steps passed');
    const what = `step ${index + 1}/${steps.length}: ${describeStep(steps[index])}`;
    await this.deps.serving.endpoints.shift(tx, ctx, r.endpoint_id, r.endpoint, (cur) => ({ ...stepRouting(r, cur, index), reason: `rollout ${r.name} ${what}` }));
    await this.deps.store.update(tx, r.id, { step: index, step_started_at: now, paused_ms: 0, paused_at: r.state === 'paused' ? now : null, readings: null, updated_at: now });
    await this.event(tx, r, now, 'step', what);
  }

  /** All live traffic to the candidate; the stable is retired after the drain when asked. */
  async promote(tx: Db, ctx: Ctx, r: RolloutRow, now: number, why: string): Promise<void> {
    const steps = stepsOf(r);
    await this.deps.serving.endpoints.shift(tx, ctx, r.endpoint_id, r.endpoint, (cur) => ({ ...stepRouting(r, cur, steps.length), reason: `rollout ${r.name} promoted ${r.candidate} to 100%: ${why}` }));
    const retireAt = r.retire_stable ? now + r.drain_ms : null;
    await this.deps.store.update(tx, r.id, { state: 'succeeded', step: steps.length, step_started_at: now, paused_at: null, reason: why, retire_at: retireAt, updated_at: now });
    await this.event(tx, r, now, 'promoted', `${r.candidate} takes 100% (${why})${retireAt ? `; ${r.stable} retires after ${r.drain_ms} ms` : ''}`);
  }

  /** All live traffic back to the stable and the mirror off, at once. */
  async rollBack(tx: Db, ctx: Ctx, r: RolloutRow, now: number, state: Extract<RolloutState, 'rolled_back' | 'aborted'>, why: string): Promise<void> {
    await this.deps.serving.endpoints.shift(tx, ctx, r.endpoint_id, r.endpoint, (cur) => ({ ...rollbackRouting(r, cur), reason: `rollout ${r.name} ${state === 'aborted' ? 'aborted' : 'rolled back'}: ${why}` }));
    await this.deps.store.update(tx, r.id, { state, reason: why, paused_at: null, updated_at: now });
    await this.event(tx, r, now, state === 'aborted' ? 'aborted' : 'rolled_back', why);
  }

  /** Deletes the old stable deployment once the drain after promotion is over. */
  async retire(tx: Db, ctx: Ctx, r: RolloutRow, now: number): Promise<void> {
    await this.deps.serving.deployments.retire(tx, ctx, r.endpoint, r.stable!, `rollout ${r.name}: ${r.stable} retired after promotion`);
    await this.deps.store.update(tx, r.id, { retire_at: null, updated_at: now });
    await this.event(tx, r, now, 'retired', `${r.stable} deleted after the drain`);
  }

  /**
   * A decision that cannot be carried out (the endpoint or a deployment is
   * gone, or traffic was moved by hand so the stable cannot be deleted): a
   * running rollout stops without touching routing; a promoted one keeps its
   * stable deployment. Either way it is said why, once.
   */
  async fail(tx: Db, r: RolloutRow, now: number, why: string): Promise<void> {
    if (r.state === 'succeeded') {
      await this.deps.store.update(tx, r.id, { retire_at: null, updated_at: now });
      return this.event(tx, r, now, 'retire_failed', `${r.stable} kept: ${why}`);
    }
    await this.deps.store.update(tx, r.id, { state: 'aborted', reason: why, updated_at: now });
    await this.event(tx, r, now, 'aborted', why);
  }
}
