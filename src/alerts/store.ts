import { sql, type Insertable, type Kysely, type Updateable } from 'kysely';
import { tables, type Db } from '../store/db.js';
import type { AlertRow, AlertRuleRow, AlertTable, AlertTables, SilenceRow } from './tables.js';

const t = (db: Db): Kysely<AlertTables> => tables<AlertTables>(db);
const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** int8 and double columns leave the store as numbers whichever driver read them. */
const ruleRow = (r: AlertRuleRow): AlertRuleRow => ({ ...r, id: Number(r.id), workspace_id: Number(r.workspace_id), principal_id: Number(r.principal_id), version: Number(r.version), created_at: Number(r.created_at), updated_at: Number(r.updated_at) });
const alertRow = (r: AlertRow): AlertRow => ({
  ...r,
  id: Number(r.id),
  workspace_id: Number(r.workspace_id),
  rule_id: Number(r.rule_id),
  value: n(r.value),
  threshold: n(r.threshold),
  pending_since: Number(r.pending_since),
  fired_at: n(r.fired_at),
  resolved_at: n(r.resolved_at),
  acked_at: n(r.acked_at),
  notified_at: n(r.notified_at),
  acted_at: n(r.acted_at),
  updated_at: Number(r.updated_at),
});
const silenceRow = (r: SilenceRow): SilenceRow => ({ ...r, id: Number(r.id), workspace_id: Number(r.workspace_id), until: Number(r.until), created_at: Number(r.created_at) });

/** SQL of alert rules, alerts and silences. No rules here. */
export class AlertStore {
  constructor(private readonly db: Db) {}

  async rule(workspaceId: number, name: string, db: Db = this.db): Promise<AlertRuleRow | null> {
    const r = await t(db).selectFrom('alert_rules').selectAll().where('workspace_id', '=', workspaceId).where('name', '=', name).executeTakeFirst();
    return r ? ruleRow(r) : null;
  }

  async ruleById(id: number, db: Db = this.db): Promise<AlertRuleRow | null> {
    const r = await t(db).selectFrom('alert_rules').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? ruleRow(r) : null;
  }

  async rules(workspaceId: number): Promise<AlertRuleRow[]> {
    return (await t(this.db).selectFrom('alert_rules').selectAll().where('workspace_id', '=', workspaceId).orderBy('name').execute()).map(ruleRow);
  }

  /** Every rule of every workspace, for the evaluator. */
  async allRules(): Promise<AlertRuleRow[]> {
    return (await t(this.db).selectFrom('alert_rules').selectAll().orderBy('id').execute()).map(ruleRow);
  }

  async upsertRule(db: Db, r: { workspace_id: number; name: string; spec: string; principal_id: number; created_by: string; now: number }): Promise<AlertRuleRow> {
    const out = await t(db)
      .insertInto('alert_rules')
      .values({ workspace_id: r.workspace_id, name: r.name, spec: r.spec, principal_id: r.principal_id, created_by: r.created_by, created_at: r.now, updated_at: r.now })
      .onConflict((oc) => oc.columns(['workspace_id', 'name']).doUpdateSet({ spec: r.spec, principal_id: r.principal_id, updated_at: r.now }))
      .returningAll()
      .executeTakeFirstOrThrow();
    return ruleRow(out);
  }

  async deleteRule(db: Db, id: number): Promise<void> {
    await t(db).deleteFrom('alert_rules').where('id', '=', id).execute();
  }

  /**
   * Locks the rule as read for one decision and moves its version on; null
   * when another worker holds it or has already decided since (`skip locked`
   * and the version: one reading fires once, however many workers read it).
   */
  async claimRule(tx: Db, id: number, version: number): Promise<AlertRuleRow | null> {
    const r = await t(tx).selectFrom('alert_rules').selectAll().where('id', '=', id).where('version', '=', version).forUpdate().skipLocked().executeTakeFirst();
    if (!r) return null;
    await t(tx).updateTable('alert_rules').set({ version: sql`version + 1` }).where('id', '=', id).execute();
    return ruleRow(r);
  }

  /** The rule's alert that is not resolved, if any; `lock` holds its row until `db`'s transaction ends. */
  async openAlert(ruleId: number, db: Db = this.db, lock = false): Promise<AlertRow | null> {
    let q = t(db).selectFrom('alerts').selectAll().where('rule_id', '=', ruleId).where('state', '<>', 'resolved');
    if (lock) q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r ? alertRow(r) : null;
  }

  async insertAlert(db: Db, a: Insertable<AlertTable>): Promise<AlertRow> {
    return alertRow(await t(db).insertInto('alerts').values(a).returningAll().executeTakeFirstOrThrow());
  }

  async updateAlert(db: Db, id: number, set: Updateable<AlertTable>): Promise<AlertRow> {
    return alertRow(await t(db).updateTable('alerts').set(set).where('id', '=', id).returningAll().executeTakeFirstOrThrow());
  }

  async deleteAlert(db: Db, id: number): Promise<void> {
    await t(db).deleteFrom('alerts').where('id', '=', id).execute();
  }

  async alert(workspaceId: number, id: number, db: Db = this.db, lock = false): Promise<AlertRow | null> {
    let q = t(db).selectFrom('alerts').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id);
    if (lock) q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r ? alertRow(r) : null;
  }

  async alerts(workspaceId: number, q: { state?: string; rule?: string; limit: number }): Promise<AlertRow[]> {
    let query = t(this.db).selectFrom('alerts').selectAll().where('workspace_id', '=', workspaceId).orderBy('id', 'desc').limit(q.limit);
    if (q.state === 'open') query = query.where('state', '<>', 'resolved');
    else if (q.state) query = query.where('state', '=', q.state as AlertRow['state']);
    if (q.rule) query = query.where('rule', '=', q.rule);
    return (await query.execute()).map(alertRow);
  }

  async insertSilence(db: Db, s: Omit<SilenceRow, 'id'>): Promise<SilenceRow> {
    return silenceRow(await t(db).insertInto('alert_silences').values(s).returningAll().executeTakeFirstOrThrow());
  }

  /** Silences of a workspace still in force at `now` (all of them with `all`). */
  async silences(workspaceId: number, now: number, all = false, db: Db = this.db): Promise<SilenceRow[]> {
    let q = t(db).selectFrom('alert_silences').selectAll().where('workspace_id', '=', workspaceId).orderBy('id');
    if (!all) q = q.where('until', '>', now);
    return (await q.execute()).map(silenceRow);
  }

  async deleteSilence(db: Db, workspaceId: number, id: number): Promise<boolean> {
    const r = await t(db).deleteFrom('alert_silences').where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Resolved alerts and silences that ended before `before` (retention); open alerts and live silences stay whatever their age. */
  async trim(before: number): Promise<void> {
    await t(this.db).deleteFrom('alerts').where('state', '=', 'resolved').where('resolved_at', '<', before).execute();
    await t(this.db).deleteFrom('alert_silences').where('until', '<', before).execute();
  }

  /** Which of `names` the workspace has no alert channel by (the channels side owns the table; rules only name channels). */
  async missingChannels(db: Db, workspaceId: number, names: string[]): Promise<string[]> {
    if (!names.length) return [];
    const { rows } = await sql<{ name: string }>`select name from alert_channels where workspace_id = ${workspaceId} and name in (${sql.join(names)})`.execute(db);
    const found = new Set(rows.map((r) => r.name));
    return names.filter((n) => !found.has(n));
  }

  async pipelineExists(db: Db, workspaceId: number, name: string): Promise<boolean> {
    const { rows } = await sql`select 1 from pipelines where workspace_id = ${workspaceId} and name = ${name}`.execute(db);
    return rows.length > 0;
  }

  async workspaceName(id: number, db: Db = this.db): Promise<string> {
    return (await t(db).selectFrom('workspaces').select('name').where('id', '=', id).executeTakeFirstOrThrow()).name;
  }
}
