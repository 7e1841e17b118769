import { isSlipwayError } from '../shared/errors.js';
import { Ticker } from '../shared/ticker.js';
import type { Db } from '../store/db.js';
import { evidence, failure, readGates, type GateReadings, type WindowSource } from './gates.js';
import { parseDuration } from './plan.js';
import type { RolloutStore } from './store.js';
import type { RolloutRow } from './tables.js';
import { actor, stepsOf, type RolloutDeps, type Transitions } from './transitions.js';

export interface ControllerOptions {
  /** Milliseconds between ticks (1 s in production, less in tests). */
  intervalMs?: number;
  /** Candidate requests a window needs before a failing gate rolls back mid-step (at step end it always counts). */
  minGateRequests?: number;
  now?: () => number;
  log?: (msg: string) => void;
}

type Decision =
  | { kind: 'enter' }
  | { kind: 'observe'; readings: GateReadings }
  | { kind: 'advance'; readings: GateReadings }
  | { kind: 'rollback'; readings: GateReadings; why: string }
  | { kind: 'retire' }
  | { kind: 'wait' }
  | { kind: 'unready'; why: string };

const FATAL = ['not_found', 'invalid', 'conflict'];

/** Thrown inside a decision's transaction when another worker holds or has moved the row: nothing is written. */
class Skip extends Error {}

/**
 * Advances running rollouts: every tick reads each one, measures its current
 * step's window (outside any transaction), then applies the decision on the
 * row exactly as read (`for update skip locked` and the same version), so two
 * workers never advance one rollout twice. Everything it knows is in the
 * store: a new controller on the same store resumes at the same step.
 */
export class RolloutController {
  private readonly ticker: Ticker;
  private readonly intervalMs: number;
  private readonly minGateRequests: number;
  private readonly now: () => number;
  private readonly log: (msg: string) => void;

  constructor(
    private readonly deps: RolloutDeps & { store: RolloutStore; transitions: Transitions },
    private readonly source: WindowSource,
    opts: ControllerOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.minGateRequests = opts.minGateRequests ?? 20;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => undefined);
    this.ticker = new Ticker(this.intervalMs, () => this.tick());
  }

  start(): void {
    this.ticker.start();
  }

  /** Stops the loop and waits for a tick in progress. */
  stop(): Promise<void> {
    return this.ticker.stop();
  }

  /** One pass over every rollout that may need a decision. Never throws: a failure is retried next tick. */
  async tick(): Promise<void> {
    let due: RolloutRow[];
    try {
      due = await this.deps.store.due(this.now());
    } catch (e) {
      this.log(`rollout controller: ${(e as Error).message}`);
      return;
    }
    for (const r of due) {
      try {
        await this.advance(r);
      } catch (e) {
        this.log(`rollout ${r.name}: ${(e as Error).message}`);
      }
    }
  }

  private async advance(r: RolloutRow): Promise<void> {
    const now = this.now();
    const d = await this.decide(r, now);
    if (d.kind === 'wait') return;
    if (d.kind === 'observe') return this.deps.store.setReadings(r.id, r.version, JSON.stringify(d.readings));
    try {
      await this.commit(r, d.kind, async (tx, cur) => {
        const t = this.deps.transitions;
        const ctx = actor(cur);
        if (d.kind === 'enter') return t.enterStep(tx, ctx, cur, cur.step, now);
        if (d.kind === 'retire') return t.retire(tx, ctx, cur, now);
        if (d.kind === 'unready') return t.rollBack(tx, ctx, cur, now, 'rolled_back', d.why);
        await this.deps.store.update(tx, cur.id, { readings: JSON.stringify(d.readings) });
        if (d.kind === 'advance') return t.enterStep(tx, ctx, cur, cur.step + 1, now);
        return t.rollBack(tx, ctx, cur, now, 'rolled_back', `step ${cur.step + 1} ${d.why}`);
      });
    } catch (e) {
      // Retrying would fail the same way every tick: the endpoint or a deployment vanished, or routing was changed by hand.
      if (!isSlipwayError(e) || !FATAL.includes(e.code)) throw e;
      await this.commit(r, 'fail', (tx, cur) => this.deps.transitions.fail(tx, cur, now, `stopped: ${e.message}`));
    }
  }

  private async decide(r: RolloutRow, now: number): Promise<Decision> {
    if (r.state === 'succeeded') return { kind: 'retire' };
    if (r.step_started_at === null) {
      // A candidate that is gone is refused by the routing change itself (and the rollout stops).
      const state = await this.deps.transitions.candidateState(this.deps.db, r);
      if (state?.startsWith('Failed')) return { kind: 'unready', why: `${r.candidate} did not start: ${state}` };
      return state === null || state === 'Ready' ? { kind: 'enter' } : { kind: 'wait' };
    }
    const step = stepsOf(r)[r.step];
    if (!step) return { kind: 'enter' };
    const window = { from: r.step_started_at, to: now };
    const [cand, stab] = await Promise.all([
      this.source.deploymentWindow(r.endpoint_id, r.candidate, window.from, window.to),
      this.source.deploymentWindow(r.endpoint_id, r.stable!, window.from, window.to),
    ]);
    const readings = readGates(step.gates ?? {}, step.shadow !== undefined, cand, stab, window);
    const seen = evidence(readings);
    const elapsed = now - r.step_started_at - r.paused_ms;
    const done = (step.duration === undefined || elapsed >= parseDuration(step.duration, 'duration')) && (step.minRequests === undefined || seen >= step.minRequests);
    const why = failure(readings);
    if (why && (done || seen >= this.minGateRequests)) return { kind: 'rollback', readings, why };
    return done ? { kind: 'advance', readings } : { kind: 'observe', readings };
  }

  /** Runs one decision on the row as read, audited as the rollout's own change; skipped when another worker got there first. */
  private async commit(r: RolloutRow, op: string, change: (tx: Db, cur: RolloutRow) => Promise<void>): Promise<void> {
    const workspace = await this.deps.store.workspaceName(r.workspace_id);
    try {
      await this.deps.authz.commit(actor(r), { action: 'endpoint.deploy', workspace, target: `rollout/${r.name}`, detail: { op, step: r.step } }, async (tx) => {
        const cur = await this.deps.store.claim(tx, r.id, r.version);
        if (!cur) throw new Skip();
        await change(tx, cur);
      });
    } catch (e) {
      if (!(e instanceof Skip)) throw e;
    }
  }
}
