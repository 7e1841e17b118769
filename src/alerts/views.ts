import type { AlertNotification } from './notification.js';
import type { AlertAction, AlertRuleSpec } from './schema.js';
import type { AlertRow, AlertRuleRow, SilenceRow } from './tables.js';

/** What an action did, as recorded on its alert. */
export interface ActionRecord {
  type: AlertAction['type'];
  at: string;
  ok: boolean;
  detail: string;
}

export interface AlertView {
  id: number;
  workspace: string;
  rule: string;
  state: AlertRow['state'];
  severity: AlertRow['severity'];
  labels: Record<string, string>;
  summary: string;
  value: number | null;
  threshold: number | null;
  pendingSince: string;
  firedAt: string | null;
  resolvedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  lastNotifiedAt: string | null;
  /** Whether a silence in force matches it now. */
  silenced: boolean;
  actions: ActionRecord[];
  runbook?: string;
}

export interface RuleView extends AlertRuleSpec {
  workspace: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface SilenceView {
  id: number;
  workspace: string;
  matchers: Record<string, string>;
  until: string;
  comment: string;
  createdBy: string;
  createdAt: string;
  active: boolean;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const ruleView = (workspace: string, r: AlertRuleRow): RuleView => ({
  ...(JSON.parse(r.spec) as AlertRuleSpec),
  workspace,
  createdBy: r.created_by,
  createdAt: iso(r.created_at)!,
  updatedAt: iso(r.updated_at)!,
});

export const silenceView = (workspace: string, s: SilenceRow, now: number): SilenceView => ({
  id: s.id,
  workspace,
  matchers: JSON.parse(s.matchers) as Record<string, string>,
  until: iso(s.until)!,
  comment: s.comment,
  createdBy: s.created_by,
  createdAt: iso(s.created_at)!,
  active: s.until > now,
});

/** A silence matches an alert when every matcher does: `rule` the rule's name, any other key a label. */
export function silencedBy(a: Pick<AlertRow, 'rule' | 'labels'>, silences: SilenceRow[]): SilenceRow | undefined {
  const labels = JSON.parse(a.labels) as Record<string, string>;
  return silences.find((s) => Object.entries(JSON.parse(s.matchers) as Record<string, string>).every(([k, v]) => (k === 'rule' ? a.rule === v : labels[k] === v)));
}

export function alertView(workspace: string, a: AlertRow, silenced: boolean, runbook?: string): AlertView {
  return {
    id: a.id,
    workspace,
    rule: a.rule,
    state: a.state,
    severity: a.severity,
    labels: JSON.parse(a.labels) as Record<string, string>,
    summary: a.summary,
    value: a.value,
    threshold: a.threshold,
    pendingSince: iso(a.pending_since)!,
    firedAt: iso(a.fired_at),
    resolvedAt: iso(a.resolved_at),
    acknowledgedAt: iso(a.acked_at),
    acknowledgedBy: a.acked_by,
    lastNotifiedAt: iso(a.notified_at),
    silenced,
    actions: JSON.parse(a.actions) as ActionRecord[],
    ...(runbook !== undefined ? { runbook } : {}),
  };
}

/** The notification of a firing, re-sent or resolved alert for its channels. */
export function notification(workspace: string, a: AlertRow, spec: AlertRuleSpec, repeat: boolean, publicUrl: string | null): AlertNotification {
  return {
    status: a.state === 'resolved' ? 'resolved' : 'firing',
    repeat,
    alert: {
      id: a.id,
      workspace,
      rule: a.rule,
      state: a.state === 'pending' ? 'firing' : a.state,
      severity: a.severity,
      labels: JSON.parse(a.labels) as Record<string, string>,
      summary: a.summary,
      value: a.value,
      threshold: a.threshold,
      startsAt: iso(a.fired_at ?? a.pending_since)!,
      endsAt: iso(a.resolved_at),
      runbook: spec.runbook ?? '',
      url: publicUrl ? `${publicUrl.replace(/\/$/, '')}/api/v1/workspaces/${workspace}/alerts/${a.id}` : null,
    },
  };
}
