import type { Db } from '../store/db.js';

/**
 * What a rule's state change hands to its channels. The evaluator writes one
 * per transition (firing, resolved, re-notify) inside the transaction that
 * records the transition, so a notification is queued exactly when the state
 * change commits; the delivery worker sends it afterwards, with retries.
 */
export interface AlertNotification {
  status: 'firing' | 'resolved';
  /** A re-notification of an alert that is still firing (after `renotify`). */
  repeat: boolean;
  alert: {
    id: number;
    workspace: string;
    rule: string;
    state: 'firing' | 'acknowledged' | 'resolved';
    severity: 'critical' | 'warning' | 'info';
    labels: Record<string, string>;
    /** One line a person reads in a chat message: what crossed what. */
    summary: string;
    /** The observed value and the rule's threshold, where the rule has numbers. */
    value: number | null;
    threshold: number | null;
    startsAt: string;
    endsAt: string | null;
    /** Markdown: what the operator does. */
    runbook: string;
    /** Where a person sees the alert (`<public url>/api/v1/workspaces/ws/alerts/id`), when the server knows its URL. */
    url: string | null;
  };
}

/** Queues notifications for delivery; `db` is the caller's transaction. */
export interface Notifier {
  enqueue(db: Db, workspace: string, channels: string[], notification: AlertNotification): Promise<void>;
}
