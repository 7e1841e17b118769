import { Ticker } from '../shared/ticker.js';
import type { Authorizer } from '../access/authorizer.js';
import type { Db } from '../store/db.js';
import { alertActor, type AlertActions } from './actions.js';
import type { Notifier } from './notification.js';
import type { Reading, Readings } from './readings.js';
import type { AlertRuleSpec } from './schema.js';
import { timing, type Timing } from './spec.js';
import type { AlertStore } from './store.js';
import type { AlertRow, AlertRuleRow } from './tables.js';
import { notification, silencedBy } from './views.js';

export interface EvaluatorOptions {
  /** Milliseconds between evaluations of every rule (SLIPWAY_ALERT_INTERVAL_MS, 15 s by default). */
  intervalMs?: number;
  /** Where people reach the API: notifications link to the alert there. */
  publicUrl?: string | null;
  now?: () => number;
  log?: (msg: string) => void;
  /** How long resolved alerts and ended silences are kept (SLIPWAY_TELEMETRY_RETENTION, 30 days by default). */
  retentionMs?: number;
}

export interface EvaluatorDeps {
  db: Db;
  authz: Authorizer;
  store: AlertStore;
  readings: Readings;
  notifier: Notifier;
  actions: AlertActions;
}

/** What one evaluation changes: nothing, or one transition of the rule's alert. */
export type Decision =
  | { kind: 'none' }
  | { kind: 'pend' }
  | { kind: 'fire' }
  | { kind: 'drop' }
  | { kind: 'resolve' }
  /** A firing alert not notified yet (its silence ended): notified now, and its actions run if they have not. */
  | { kind: 'notify' }
  | { kind: 'renotify' };

/** The state machine of one rule's alert: pending → firing → (acknowledged) → resolved. Pure. */
export function decide(open: AlertRow | null, r: Reading, t: Timing, silenced: boolean, now: number): Decision {
  if (!open) return !r.breached ? { kind: 'none' } : t.forMs === 0 ? { kind: 'fire' } : { kind: 'pend' };
  if (open.state === 'pending') return !r.breached ? { kind: 'drop' } : now - open.pending_since >= t.forMs ? { kind: 'fire' } : { kind: 'none' };
  if (!r.breached) return { kind: 'resolve' };
  if (open.state !== 'firing' || silenced) return { kind: 'none' };
  if (open.notified_at === null) return { kind: 'notify' };
  if (t.renotifyMs !== null && now - open.notified_at >= t.renotifyMs) return { kind: 'renotify' };
  return { kind: 'none' };
}

/** Thrown inside a decision's transaction when another worker holds or has moved the rule: nothing is written. */
class Skip extends Error {}

/**
 * Evaluates every alert rule each interval: reads its source outside any
 * transaction, decides, and commits a transition on the rule as read (`for
 * update skip locked` and its version), so two workers never fire one
 * reading twice. The transition, its audit record and its queued
 * notification commit together (the notifier writes to an outbox in the same
 * transaction). Actions run after the firing commits, once.
 */
export class AlertEvaluator {
  private readonly ticker: Ticker;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly log: (msg: string) => void;
  private readonly publicUrl: string | null;
  private readonly retentionMs: number;
  private trimmedAt = 0;

  constructor(
    private readonly d: EvaluatorDeps,
    opts: EvaluatorOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 15_000;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => undefined);
    this.publicUrl = opts.publicUrl ?? null;
    this.retentionMs = opts.retentionMs ?? 30 * 86_400_000;
    this.ticker = new Ticker(this.intervalMs, () => this.tick());
  }

  start(): void {
    this.ticker.start();
  }

  /** Stops the loop and waits for an evaluation in progress. */
  stop(): Promise<void> {
    return this.ticker.stop();
  }

  /** One pass over every rule. Never throws: a failure is retried at the next pass. */
  async tick(): Promise<void> {
    await this.trim();
    let rules: AlertRuleRow[];
    try {
      rules = await this.d.store.allRules();
    } catch (e) {
      this.log(`alert evaluator: ${(e as Error).message}`);
      return;
    }
    for (const rule of rules) {
      try {
        await this.evaluate(rule);
      } catch (e) {
        this.log(`alert rule ${rule.name}: ${(e as Error).message}`);
      }
    }
  }

  /** Housekeeping at most every ten minutes per evaluator: resolved alerts and ended silences past the retention. */
  private async trim(): Promise<void> {
    const now = this.now();
    if (now - this.trimmedAt < 600_000) return;
    this.trimmedAt = now;
    await this.d.store.trim(now - this.retentionMs).catch((e: Error) => this.log(`alert history trim: ${e.message}`));
  }

  private async evaluate(rule: AlertRuleRow): Promise<void> {
    const spec = JSON.parse(rule.spec) as AlertRuleSpec;
    const t = timing(spec);
    const now = this.now();
    const reading = await this.d.readings.read(rule.workspace_id, spec, t.windowMs, now);
    const open = await this.d.store.openAlert(rule.id);
    const silences = await this.d.store.silences(rule.workspace_id, now);
    const silenced = !!silencedBy({ rule: rule.name, labels: JSON.stringify(spec.labels ?? {}) }, silences);
    const decision = decide(open, reading, t, silenced, now);
    if (decision.kind === 'none') return;
    const acted = await this.commit(rule, spec, open, decision, reading, silenced, now);
    if (acted) await this.d.actions.run(await this.d.store.workspaceName(rule.workspace_id), rule, spec, acted);
  }

  /** Applies a decision on the rule and alert as read; answers the alert whose actions are now due, if any. */
  private async commit(rule: AlertRuleRow, spec: AlertRuleSpec, open: AlertRow | null, d: Decision, r: Reading, silenced: boolean, now: number): Promise<AlertRow | null> {
    const workspace = await this.d.store.workspaceName(rule.workspace_id);
    const audit = { action: 'alert.evaluate', workspace, target: `alert-rule/${rule.name}`, detail: { op: d.kind, alert: open?.id ?? null, summary: r.summary, silenced } };
    try {
      return await this.d.authz.commit(alertActor(rule.name), audit, async (tx) => {
        if (!(await this.d.store.claimRule(tx, rule.id, rule.version))) throw new Skip();
        // Locked: an acknowledgement (which locks the row too) either commits before this read, and the decision is skipped, or waits for it.
        const cur = await this.d.store.openAlert(rule.id, tx, true);
        if ((cur?.id ?? null) !== (open?.id ?? null) || cur?.updated_at !== open?.updated_at) throw new Skip();
        return this.transition(tx, workspace, rule, spec, cur, d, r, silenced, now);
      });
    } catch (e) {
      if (e instanceof Skip) return null;
      throw e;
    }
  }

  private async transition(tx: Db, workspace: string, rule: AlertRuleRow, spec: AlertRuleSpec, open: AlertRow | null, d: Decision, r: Reading, silenced: boolean, now: number): Promise<AlertRow | null> {
    const s = this.d.store;
    const reading = { summary: r.summary, value: r.value, threshold: r.threshold, updated_at: now };
    const notify = async (a: AlertRow, repeat: boolean) => {
      if (spec.channels?.length) await this.d.notifier.enqueue(tx, workspace, spec.channels, notification(workspace, a, spec, repeat, this.publicUrl));
    };
    if (d.kind === 'drop') {
      await s.deleteAlert(tx, open!.id);
      return null;
    }
    if (d.kind === 'pend' || (d.kind === 'fire' && !open)) {
      const base = { workspace_id: rule.workspace_id, rule_id: rule.id, rule: rule.name, severity: spec.severity ?? 'warning', labels: JSON.stringify(spec.labels ?? {}), pending_since: now, ...reading };
      const a = await s.insertAlert(tx, { ...base, state: 'pending', fired_at: null, resolved_at: null, acked_at: null, acked_by: null, notified_at: null, acted_at: null });
      if (d.kind === 'pend') return null;
      open = a;
    }
    if (d.kind === 'fire' || d.kind === 'notify') {
      // A silenced firing keeps its state; notification and actions wait for the silence to end.
      const actNow = !silenced && open!.acted_at === null;
      const a = await s.updateAlert(tx, open!.id, { ...reading, state: 'firing', fired_at: open!.fired_at ?? now, notified_at: silenced ? null : now, acted_at: actNow ? now : open!.acted_at });
      if (!silenced) await notify(a, false);
      return actNow && spec.actions?.length ? a : null;
    }
    if (d.kind === 'renotify') {
      await notify(await s.updateAlert(tx, open!.id, { ...reading, notified_at: now }), true);
      return null;
    }
    // resolve: channels that heard of the firing hear of its end.
    const a = await s.updateAlert(tx, open!.id, { ...reading, state: 'resolved', resolved_at: now });
    if (open!.notified_at !== null && !silenced) await notify(a, false);
    return null;
  }
}
