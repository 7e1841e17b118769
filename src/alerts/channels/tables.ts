import type { Generated } from 'kysely';

/** Kysely types of the alert channel tables (migration 0014_alert_delivery). Timestamps are epoch ms. */
export interface AlertChannelTable {
  id: Generated<number>;
  workspace_id: number;
  name: string;
  type: 'webhook' | 'slack' | 'alertmanager';
  url: string;
  /** The webhook's HMAC key; never leaves the server. */
  secret: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface AlertDeliveryTable {
  id: Generated<number>;
  workspace_id: number;
  /** Null when the channel named was unknown at enqueue, or deleted since. */
  channel_id: number | null;
  channel: string;
  alert_id: number | null;
  test: boolean;
  /** The AlertNotification, as JSON. */
  notification: string;
  state: DeliveryState;
  /** Attempts started so far (a claim takes the next number). */
  attempts: number;
  /** When the next attempt is due; while an attempt is in flight, when its claim lapses. */
  next_attempt_at: number;
  error: string;
  created_at: number;
  finished_at: number | null;
}

export interface AlertDeliveryAttemptTable {
  delivery_id: number;
  attempt: number;
  at: number;
  status_code: number | null;
  error: string;
  duration_ms: number;
  /** The backoff chosen after a failed attempt that will be retried. */
  retry_in_ms: number | null;
}

export interface AlertChannelTables {
  alert_channels: AlertChannelTable;
  alert_deliveries: AlertDeliveryTable;
  alert_delivery_attempts: AlertDeliveryAttemptTable;
  workspaces: { id: number; name: string };
}

type Selected<R> = { [K in keyof R]: R[K] extends Generated<infer S> ? S : R[K] };
export type ChannelRow = Selected<AlertChannelTable>;
export type DeliveryRow = Selected<AlertDeliveryTable>;
export type AttemptRow = AlertDeliveryAttemptTable;
