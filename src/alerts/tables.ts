import type { Generated } from 'kysely';

/** Kysely types of the alert tables (migration 0013_alerts). Timestamps are epoch ms; spec, labels, matchers and actions are JSON text. */
export interface AlertRuleTable {
  id: Generated<number>;
  workspace_id: number;
  name: string;
  spec: string;
  /** Who applied the rule last: a run_pipeline action starts its run as this principal. */
  principal_id: number;
  created_by: string;
  /** Moves on every change of the rule's alert: a decision commits only on the version it read. */
  version: Generated<number>;
  created_at: number;
  updated_at: number;
}

export type AlertState = 'pending' | 'firing' | 'acknowledged' | 'resolved';

export interface AlertTable {
  id: Generated<number>;
  workspace_id: number;
  rule_id: number;
  rule: string;
  state: AlertState;
  severity: 'critical' | 'warning' | 'info';
  labels: string;
  summary: string;
  value: number | null;
  threshold: number | null;
  pending_since: number;
  fired_at: number | null;
  resolved_at: number | null;
  acked_at: number | null;
  acked_by: string | null;
  /** Last time a firing notification was queued (null: none yet, e.g. silenced). */
  notified_at: number | null;
  /** When the actions ran (null: not yet, e.g. silenced). */
  acted_at: number | null;
  actions: Generated<string>;
  updated_at: number;
}

export interface SilenceTable {
  id: Generated<number>;
  workspace_id: number;
  matchers: string;
  until: number;
  comment: string;
  created_by: string;
  created_at: number;
}

export interface AlertTables {
  alert_rules: AlertRuleTable;
  alerts: AlertTable;
  alert_silences: SilenceTable;
  workspaces: { id: Generated<number>; name: string };
}

type Selected<R> = { [K in keyof R]: R[K] extends Generated<infer S> ? S : R[K] };
export type AlertRuleRow = Selected<AlertRuleTable>;
export type AlertRow = Selected<AlertTable>;
export type SilenceRow = Selected<SilenceTable>;
