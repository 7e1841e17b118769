import { tables, type Db } from '../store/db.js';
import type { Condition } from './filter.js';
import type { KV } from './store.js';
import type { LoggedModelRow, RegistryTables } from './tables.js';

export type LoggedRow = Omit<LoggedModelRow, 'model_type' | 'source_run_id' | 'status' | 'status_message'> & {
  model_type: string;
  source_run_id: string;
  status: string;
  status_message: string;
};

const t = (db: Db) => tables<RegistryTables>(db);

/** SQL of MLflow 3 logged models, their tags, params and run outputs. */
export class LoggedModelStore {
  constructor(private readonly db: Db) {}

  async insert(db: Db, row: LoggedRow, params: KV[], tags: KV[]): Promise<void> {
    await t(db).insertInto('logged_models').values(row).execute();
    if (params.length) await t(db).insertInto('logged_model_params').values(params.map((p) => ({ model_id: row.id, ...p }))).execute();
    for (const tag of tags) await this.setTag(db, row.id, tag);
  }

  async get(workspaceId: number, id: string, db: Db = this.db): Promise<LoggedRow | null> {
    const r = await t(db).selectFrom('logged_models').selectAll().where('id', '=', id).where('workspace_id', '=', workspaceId).executeTakeFirst();
    return (r as LoggedRow | undefined) ?? null;
  }

  async setTag(db: Db, id: string, tag: KV): Promise<void> {
    await t(db)
      .insertInto('logged_model_tags')
      .values({ model_id: id, ...tag })
      .onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value: tag.value }))
      .execute();
  }

  async deleteTag(db: Db, id: string, key: string): Promise<number> {
    const r = await t(db).deleteFrom('logged_model_tags').where('model_id', '=', id).where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async update(db: Db, id: string, set: { status?: string; status_message?: string; updated_at: number }): Promise<void> {
    await t(db).updateTable('logged_models').set(set).where('id', '=', id).execute();
  }

  async delete(db: Db, id: string): Promise<void> {
    await t(db).deleteFrom('logged_models').where('id', '=', id).execute();
  }

  async tagsAndParams(ids: string[], db: Db = this.db): Promise<{ tags: Map<string, KV[]>; params: Map<string, KV[]> }> {
    const tags = new Map<string, KV[]>();
    const params = new Map<string, KV[]>();
    if (!ids.length) return { tags, params };
    for (const r of await t(db).selectFrom('logged_model_tags').selectAll().where('model_id', 'in', ids).orderBy('key').execute()) {
      tags.set(r.model_id, [...(tags.get(r.model_id) ?? []), { key: r.key, value: r.value }]);
    }
    for (const r of await t(db).selectFrom('logged_model_params').selectAll().where('model_id', 'in', ids).orderBy('key').execute()) {
      params.set(r.model_id, [...(params.get(r.model_id) ?? []), { key: r.key, value: r.value }]);
    }
    return { tags, params };
  }

  async search(workspaceId: number, experimentIds: string[], conds: Condition[], desc: boolean, offset: number, limit: number): Promise<LoggedRow[]> {
    let q = t(this.db).selectFrom('logged_models as l').selectAll('l').where('l.workspace_id', '=', workspaceId);
    if (experimentIds.length) q = q.where('l.experiment_id', 'in', experimentIds);
    for (const c of conds) {
      if (c.key === 'tag') {
        q = q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('logged_model_tags as tg')
              .select('tg.key')
              .whereRef('tg.model_id', '=', 'l.id')
              .where('tg.key', '=', c.tag!)
              .where('tg.value', opOf(c), c.value as string),
          ),
        );
      } else {
        const col = c.key === 'name' ? 'l.name' : c.key === 'status' ? 'l.status' : c.key === 'model_type' ? 'l.model_type' : 'l.source_run_id';
        q = q.where(col, opOf(c), c.value as never);
      }
    }
    return (await q.orderBy('l.created_at', desc ? 'desc' : 'asc').orderBy('l.id').offset(offset).limit(limit).execute()) as LoggedRow[];
  }

  async addOutputs(db: Db, runId: string, outputs: Array<{ modelId: string; step: number }>): Promise<void> {
    for (const o of outputs) {
      await t(db)
        .insertInto('run_model_outputs')
        .values({ run_id: runId, model_id: o.modelId, step: o.step })
        .onConflict((oc) => oc.columns(['run_id', 'model_id']).doUpdateSet({ step: o.step }))
        .execute();
    }
  }
}

function opOf(c: Condition): 'like' | 'ilike' | '=' | '!=' | 'in' {
  return c.op === 'LIKE' ? 'like' : c.op === 'ILIKE' ? 'ilike' : c.op === 'IN' ? 'in' : c.op;
}
