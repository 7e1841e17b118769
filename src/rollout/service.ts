import type { Authorizer } from '../access/authorizer.js';
import type { Ctx } from '../access/principal.js';
import type { WorkspaceRow } from '../access/tables.js';
import { requireEndpoint } from '../serving/endpoints.js';
import type { Serving } from '../serving/service.js';
import { ServingStore } from '../serving/store.js';
import { Conflict, Invalid, NotFound } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import { RolloutController, type ControllerOptions } from './controller.js';
import type { WindowSource } from './gates.js';
import { checkRollout, type RolloutPlan } from './plan.js';
import type { RolloutAction, RolloutCreate } from './schema.js';
import { RolloutStore } from './store.js';
import type { RolloutRow } from './tables.js';
import { Transitions } from './transitions.js';
import { rolloutView, type RolloutView } from './views.js';

const ACTIVE = ['running', 'paused'];

/**
 * Rollouts as people drive them: create (and start), read, pause, resume,
 * promote, abort, delete. Changes need endpoint.deploy, reads
 * workspace.read; every change is audited with its routing change in one
 * transaction. The controller (worker role) does the stepping.
 */
export class RolloutService {
  readonly store: RolloutStore;
  readonly transitions: Transitions;
  private readonly servingStore: ServingStore;

  constructor(private readonly deps: { db: Db; authz: Authorizer; serving: Serving; now?: () => number }) {
    this.store = new RolloutStore(deps.db);
    this.transitions = new Transitions({ ...deps, store: this.store });
    this.servingStore = new ServingStore(deps.db);
  }

  private now() {
    return (this.deps.now ?? Date.now)();
  }

  /** A controller over this service's store; the worker role starts one. */
  controller(source: WindowSource, opts?: ControllerOptions): RolloutController {
    return new RolloutController({ ...this.deps, store: this.store, transitions: this.transitions }, source, { now: this.deps.now, ...opts });
  }

  private async view(db: Db, r: RolloutRow, workspace: string): Promise<RolloutView> {
    return rolloutView(r, workspace, await this.store.events(r.id, 200, db), this.now());
  }

  async create(ctx: Ctx, workspace: string, input: RolloutCreate): Promise<RolloutView> {
    const plan = checkRollout(input);
    return this.deps.authz.mutate(ctx, { action: 'endpoint.deploy', workspace, target: `rollout/${plan.name}`, detail: { op: 'create', endpoint: plan.endpoint, candidate: plan.candidate } }, async (tx, ws) => {
      const r = await this.insert(tx, ctx, ws!, plan);
      if (input.start !== false) await this.transitions.start(tx, ctx, r, this.now());
      return this.view(tx, (await this.store.get(Number(ws!.id), plan.name, tx))!, ws!.name);
    });
  }

  private async insert(tx: Db, ctx: Ctx, ws: WorkspaceRow, plan: RolloutPlan): Promise<RolloutRow> {
    const e = await requireEndpoint(this.servingStore, tx, Number(ws.id), plan.endpoint);
    const names = (await this.servingStore.deployments([e.id], tx)).map((d) => d.name);
    for (const [field, d] of [['candidate', plan.candidate], ['stable', plan.stable]] as const) {
      if (d !== null && !names.includes(d)) throw Invalid.field(field, `names no deployment of endpoint '${plan.endpoint}' (known: ${names.join(', ') || 'none'})`);
    }
    const now = this.now();
    const r = await this.store.insert(tx, {
      workspace_id: Number(ws.id),
      name: plan.name,
      endpoint: plan.endpoint,
      endpoint_id: e.id,
      candidate: plan.candidate,
      stable: plan.stable,
      steps: JSON.stringify(plan.steps),
      retire_stable: plan.retireStable,
      drain_ms: plan.drainMs,
      state: 'pending',
      step: 0,
      step_started_at: null,
      paused_ms: 0,
      paused_at: null,
      reason: '',
      readings: null,
      retire_at: null,
      created_by: ctx.principal.name,
      created_at: now,
      updated_at: now,
    });
    if (!r) throw new Conflict(`workspace '${ws.name}' already has a rollout named '${plan.name}'`);
    await this.store.addEvent(tx, { rollout_id: r.id, at: now, kind: 'created', message: `created by ${ctx.principal.name}` });
    return r;
  }

  async list(ctx: Ctx, workspace: string): Promise<RolloutView[]> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const rows = await this.store.list(Number(ws.id));
    return rows.map((r) => rolloutView(r, ws.name, [], this.now()));
  }

  async get(ctx: Ctx, workspace: string, name: string): Promise<RolloutView> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    return this.view(this.deps.db, await this.require(this.deps.db, Number(ws.id), name), ws.name);
  }

  /** The rollout if it exists, else null (apply plans use it). */
  async find(ctx: Ctx, workspace: string, name: string): Promise<RolloutView | null> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const r = await this.store.get(Number(ws.id), name);
    return r && this.view(this.deps.db, r, ws.name);
  }

  async act(ctx: Ctx, workspace: string, name: string, action: RolloutAction, reason?: string): Promise<RolloutView> {
    return this.mutate(ctx, workspace, name, action, async (tx, r) => {
      const now = this.now();
      const who = ctx.principal.name;
      const why = reason ? `${action} by ${who}: ${reason}` : `${action} by ${who}`;
      const t = this.transitions;
      if (action === 'start') return t.start(tx, ctx, r, now);
      if (!ACTIVE.includes(r.state)) throw new Conflict(`rollout '${name}' is ${r.state}; ${action} needs a running or paused one`);
      if (action === 'promote') return t.promote(tx, ctx, r, now, why);
      if (action === 'abort') return t.rollBack(tx, ctx, r, now, 'aborted', why);
      if (action === 'pause') {
        if (r.state === 'paused') return;
        await this.store.update(tx, r.id, { state: 'paused', paused_at: now, updated_at: now });
      } else {
        if (r.state === 'running') return;
        // The time paused does not count towards the step's duration.
        await this.store.update(tx, r.id, { state: 'running', paused_ms: r.paused_ms + (r.step_started_at === null ? 0 : now - (r.paused_at ?? now)), paused_at: null, updated_at: now });
      }
      await this.store.addEvent(tx, { rollout_id: r.id, at: now, kind: action === 'pause' ? 'paused' : 'resumed', message: why });
    });
  }

  /** Only a rollout that is not driving its endpoint may be deleted. */
  async delete(ctx: Ctx, workspace: string, name: string): Promise<void> {
    await this.deps.authz.mutate(ctx, { action: 'endpoint.deploy', workspace, target: `rollout/${name}`, detail: { op: 'delete' } }, async (tx, ws) => {
      const r = await this.require(tx, Number(ws!.id), name, true);
      if (ACTIVE.includes(r.state)) throw new Conflict(`rollout '${name}' is ${r.state}; abort it first`);
      await this.store.delete(tx, r.id);
    });
  }

  private async require(db: Db, wsId: number, name: string, lock = false): Promise<RolloutRow> {
    const r = await this.store.get(wsId, name, db, lock);
    if (!r) throw new NotFound('rollout', name);
    return r;
  }

  private mutate(ctx: Ctx, workspace: string, name: string, op: string, change: (tx: Db, r: RolloutRow) => Promise<void>): Promise<RolloutView> {
    return this.deps.authz.mutate(ctx, { action: 'endpoint.deploy', workspace, target: `rollout/${name}`, detail: { op } }, async (tx, ws) => {
      await change(tx, await this.require(tx, Number(ws!.id), name, true));
      return this.view(tx, await this.require(tx, Number(ws!.id), name), ws!.name);
    });
  }
}
