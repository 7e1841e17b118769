import type { Db } from '../../store/db.js';
import type { AlertNotification, Notifier } from '../notification.js';
import { ChannelStore, type NewDelivery } from './store.js';

/**
 * The outbox side of the alerts seam: one `alert_deliveries` row per channel,
 * written with the caller's transaction (so a rolled-back state change sends
 * nothing). A channel name the workspace does not have becomes a failed
 * delivery naming it, visible in the delivery log, rather than an error that
 * would roll back the alert's state change.
 */
export function createNotifier(db: Db): Notifier {
  const store = new ChannelStore(db);
  return {
    async enqueue(tx: Db, workspace: string, channels: string[], n: AlertNotification): Promise<void> {
      const names = [...new Set(channels)];
      if (!names.length) return;
      const wsId = await store.workspaceId(workspace, tx);
      if (wsId === null) throw new Error(`alert notification for unknown workspace '${workspace}'`);
      const found = new Map((await store.byNames(tx, wsId, names)).map((c) => [c.name, c]));
      const now = Date.now();
      const notification = JSON.stringify(n);
      const rows: NewDelivery[] = names.map((name) => {
        const c = found.get(name);
        return {
          workspace_id: wsId,
          channel_id: c?.id ?? null,
          channel: name,
          alert_id: n.alert.id,
          test: false,
          notification,
          state: c ? 'pending' : 'failed',
          next_attempt_at: now,
          error: c ? '' : `no alert channel '${name}' in workspace '${workspace}'`,
          created_at: now,
          finished_at: c ? null : now,
        };
      });
      await store.insertDeliveries(tx, rows);
    },
  };
}
