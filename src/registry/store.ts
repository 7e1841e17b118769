import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import { tables, type Db } from '../store/db.js';
import type { Condition, OrderTerm } from './filter.js';
import type { ModelVersionRow, RegisteredModelRow, RegistryTables, VersionStatus } from './tables.js';

export type ModelRow = Omit<RegisteredModelRow, 'id' | 'description' | 'created_by' | 'next_version'> & {
  id: number;
  description: string;
  created_by: string;
  next_version: number;
};
export type VersionRow = {
  [K in keyof ModelVersionRow]: K extends 'id' ? number : ModelVersionRow[K] extends import('kysely').ColumnType<infer S, unknown, unknown> ? S : ModelVersionRow[K];
};
export interface KV {
  key: string;
  value: string;
}
export interface FileRow {
  path: string;
  size: number;
  sha256: string;
}

type T = RegistryTables;
const t = (db: Db): Kysely<T> => tables<T>(db);

/** SQL of the registry: models, versions, tags, aliases, files. No rules here. */
export class RegistryStore {
  constructor(private readonly db: Db) {}

  async workspaceId(name: string, db: Db = this.db): Promise<number | null> {
    const row = await t(db).selectFrom('workspaces').select('id').where('name', '=', name).executeTakeFirst();
    return row ? Number(row.id) : null;
  }

  async model(workspaceId: number, name: string, db: Db = this.db, lock = false): Promise<ModelRow | null> {
    let q = t(db).selectFrom('registered_models').selectAll().where('workspace_id', '=', workspaceId).where('name', '=', name);
    if (lock) q = q.forUpdate();
    return ((await q.executeTakeFirst()) as ModelRow | undefined) ?? null;
  }

  async modelById(id: number, db: Db = this.db): Promise<ModelRow | null> {
    return ((await t(db).selectFrom('registered_models').selectAll().where('id', '=', id).executeTakeFirst()) as ModelRow | undefined) ?? null;
  }

  /** Inserts the model, or answers null when the name is taken (also by a concurrent creator). */
  async insertModel(db: Db, m: { workspaceId: number; name: string; description: string; createdBy: string; now: number }): Promise<ModelRow | null> {
    const row = await t(db)
      .insertInto('registered_models')
      .values({ workspace_id: m.workspaceId, name: m.name, description: m.description, created_by: m.createdBy, created_at: m.now, updated_at: m.now })
      .onConflict((oc) => oc.columns(['workspace_id', 'name']).doNothing())
      .returningAll()
      .executeTakeFirst();
    return (row as ModelRow | undefined) ?? null;
  }

  async updateModel(db: Db, id: number, set: { name?: string; description?: string; updated_at: number }): Promise<void> {
    await t(db).updateTable('registered_models').set(set).where('id', '=', id).execute();
  }

  async deleteModel(db: Db, id: number): Promise<void> {
    await t(db).deleteFrom('registered_models').where('id', '=', id).execute();
  }

  /** Takes the next version number; the row lock serialises concurrent creators. */
  async nextVersion(db: Db, modelId: number): Promise<number> {
    const r = await t(db)
      .updateTable('registered_models')
      .set((eb) => ({ next_version: eb('next_version', '+', 1) }))
      .where('id', '=', modelId)
      .returning('next_version')
      .executeTakeFirstOrThrow();
    return Number(r.next_version) - 1;
  }

  async modelTags(db: Db, modelIds: number[]): Promise<Map<number, KV[]>> {
    const out = new Map<number, KV[]>();
    if (!modelIds.length) return out;
    const rows = await t(db).selectFrom('registered_model_tags').selectAll().where('model_id', 'in', modelIds).orderBy('key').execute();
    for (const r of rows) push(out, Number(r.model_id), { key: r.key, value: r.value });
    return out;
  }

  async setModelTag(db: Db, modelId: number, key: string, value: string): Promise<void> {
    await t(db)
      .insertInto('registered_model_tags')
      .values({ model_id: modelId, key, value })
      .onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value }))
      .execute();
  }

  async deleteModelTag(db: Db, modelId: number, key: string): Promise<number> {
    const r = await t(db).deleteFrom('registered_model_tags').where('model_id', '=', modelId).where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async insertVersion(db: Db, v: { modelId: number; version: number; source: string; runId: string; runLink: string; loggedModelId: string; description: string; createdBy: string; now: number; storagePrefix: string }): Promise<VersionRow> {
    return (await t(db)
      .insertInto('model_versions')
      .values({
        model_id: v.modelId,
        version: v.version,
        source: v.source,
        run_id: v.runId,
        run_link: v.runLink,
        logged_model_id: v.loggedModelId,
        description: v.description,
        created_by: v.createdBy,
        created_at: v.now,
        updated_at: v.now,
        storage_prefix: v.storagePrefix,
        digest: null,
        signature: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow()) as VersionRow;
  }

  async version(db: Db, modelId: number, version: number): Promise<VersionRow | null> {
    return ((await t(db).selectFrom('model_versions').selectAll().where('model_id', '=', modelId).where('version', '=', version).executeTakeFirst()) as VersionRow | undefined) ?? null;
  }

  async versionsOf(db: Db, modelIds: number[]): Promise<VersionRow[]> {
    if (!modelIds.length) return [];
    return (await t(db).selectFrom('model_versions').selectAll().where('model_id', 'in', modelIds).orderBy('version').execute()) as VersionRow[];
  }

  async updateVersion(db: Db, id: number, set: Partial<{ description: string; current_stage: string; status: VersionStatus; status_message: string; digest: string; size_bytes: number; signature: string | null }> & { updated_at: number }): Promise<void> {
    await t(db).updateTable('model_versions').set(set).where('id', '=', id).execute();
  }

  /** Moves every other version of the model in `stage` to Archived. */
  async archiveStage(db: Db, modelId: number, stage: string, exceptId: number, now: number): Promise<void> {
    await t(db)
      .updateTable('model_versions')
      .set({ current_stage: 'Archived', updated_at: now })
      .where('model_id', '=', modelId)
      .where('current_stage', '=', stage)
      .where('id', '!=', exceptId)
      .execute();
  }

  async deleteVersion(db: Db, id: number): Promise<void> {
    await t(db).deleteFrom('model_versions').where('id', '=', id).execute();
  }

  async touchModel(db: Db, modelId: number, now: number): Promise<void> {
    await t(db).updateTable('registered_models').set({ updated_at: now }).where('id', '=', modelId).execute();
  }

  async versionTags(db: Db, versionIds: number[]): Promise<Map<number, KV[]>> {
    const out = new Map<number, KV[]>();
    if (!versionIds.length) return out;
    const rows = await t(db).selectFrom('model_version_tags').selectAll().where('version_id', 'in', versionIds).orderBy('key').execute();
    for (const r of rows) push(out, Number(r.version_id), { key: r.key, value: r.value });
    return out;
  }

  async setVersionTag(db: Db, versionId: number, key: string, value: string): Promise<void> {
    await t(db)
      .insertInto('model_version_tags')
      .values({ version_id: versionId, key, value })
      .onConflict((oc) => oc.columns(['version_id', 'key']).doUpdateSet({ value }))
      .execute();
  }

  async setVersionTags(db: Db, versionId: number, tags: KV[]): Promise<void> {
    for (const tag of tags) await this.setVersionTag(db, versionId, tag.key, tag.value);
  }

  async deleteVersionTag(db: Db, versionId: number, key: string): Promise<number> {
    const r = await t(db).deleteFrom('model_version_tags').where('version_id', '=', versionId).where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** alias → version number, per model. */
  async aliases(db: Db, modelIds: number[]): Promise<Map<number, Array<{ alias: string; version: number; versionId: number }>>> {
    const out = new Map<number, Array<{ alias: string; version: number; versionId: number }>>();
    if (!modelIds.length) return out;
    const rows = await t(db)
      .selectFrom('model_aliases as a')
      .innerJoin('model_versions as v', 'v.id', 'a.version_id')
      .select(['a.model_id', 'a.alias', 'v.version', 'v.id'])
      .where('a.model_id', 'in', modelIds)
      .orderBy('a.alias')
      .execute();
    for (const r of rows) push(out, Number(r.model_id), { alias: r.alias, version: Number(r.version), versionId: Number(r.id) });
    return out;
  }

  async setAlias(db: Db, modelId: number, alias: string, versionId: number): Promise<void> {
    await t(db)
      .insertInto('model_aliases')
      .values({ model_id: modelId, alias, version_id: versionId })
      .onConflict((oc) => oc.columns(['model_id', 'alias']).doUpdateSet({ version_id: versionId }))
      .execute();
  }

  async deleteAlias(db: Db, modelId: number, alias: string): Promise<number> {
    const r = await t(db).deleteFrom('model_aliases').where('model_id', '=', modelId).where('alias', '=', alias).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async aliasTarget(db: Db, modelId: number, alias: string): Promise<number | null> {
    const r = await t(db).selectFrom('model_aliases').select('version_id').where('model_id', '=', modelId).where('alias', '=', alias).executeTakeFirst();
    return r ? Number(r.version_id) : null;
  }

  async insertFiles(db: Db, versionId: number, files: FileRow[]): Promise<void> {
    for (let i = 0; i < files.length; i += 500) {
      const chunk = files.slice(i, i + 500).map((f) => ({ version_id: versionId, path: f.path, size: f.size, sha256: f.sha256 }));
      await t(db).insertInto('model_version_files').values(chunk).execute();
    }
  }

  async files(db: Db, versionId: number): Promise<FileRow[]> {
    const rows = await t(db).selectFrom('model_version_files').select(['path', 'size', 'sha256']).where('version_id', '=', versionId).orderBy('path').execute();
    return rows.map((r) => ({ path: r.path, size: Number(r.size), sha256: r.sha256 }));
  }

  async searchModels(workspaceId: number, conds: Condition[], order: OrderTerm[], offset: number, limit: number): Promise<ModelRow[]> {
    let q = t(this.db).selectFrom('registered_models as m').selectAll('m').where('m.workspace_id', '=', workspaceId);
    for (const c of conds) q = q.where((eb) => modelCondition(eb, c));
    for (const o of order) q = q.orderBy(`m.${o.key}` as 'm.name', o.desc ? 'desc' : 'asc');
    q = q.orderBy('m.name', 'asc');
    return (await q.offset(offset).limit(limit).execute()) as ModelRow[];
  }

  async searchVersions(workspaceId: number, conds: Condition[], order: OrderTerm[], offset: number, limit: number): Promise<Array<VersionRow & { model_name: string }>> {
    let q = t(this.db)
      .selectFrom('model_versions as v')
      .innerJoin('registered_models as m', 'm.id', 'v.model_id')
      .selectAll('v')
      .select('m.name as model_name')
      .where('m.workspace_id', '=', workspaceId);
    for (const c of conds) q = q.where((eb) => versionCondition(eb, c));
    for (const o of order) q = q.orderBy((o.key === 'name' ? 'm.name' : `v.${o.key}`) as 'm.name', o.desc ? 'desc' : 'asc');
    q = q.orderBy('m.name', 'asc').orderBy('v.version', 'desc');
    return (await q.offset(offset).limit(limit).execute()) as Array<VersionRow & { model_name: string }>;
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V) {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

type EB = ExpressionBuilder<T & { m: T['registered_models']; v: T['model_versions'] }, 'm' | 'v'>;

function compare(eb: EB, col: Expression<unknown>, c: Condition): Expression<SqlBool> {
  const v = c.value;
  switch (c.op) {
    case '=':
      return eb(col as never, '=', v as never);
    case '!=':
      return eb(col as never, '!=', v as never);
    case 'LIKE':
      return eb(col as never, 'like', v as never);
    case 'ILIKE':
      return eb(col as never, 'ilike', v as never);
    case 'IN':
      return eb(col as never, 'in', v as never);
  }
}

function tagCondition(eb: EB, table: 'registered_model_tags' | 'model_version_tags', owner: Expression<unknown>, c: Condition): Expression<SqlBool> {
  const ownerCol = table === 'registered_model_tags' ? 'model_id' : 'version_id';
  return eb.exists(
    eb
      .selectFrom(`${table} as tg` as 'registered_model_tags')
      .select(sql<number>`1`.as('one'))
      .where(`tg.${ownerCol}` as 'model_id', '=', owner as never)
      .where('key' as never, '=', c.tag as never)
      .where((inner) => compare(inner as unknown as EB, sql.ref('tg.value'), c)),
  );
}

function modelCondition(eb: EB, c: Condition): Expression<SqlBool> {
  if (c.key === 'tag') return tagCondition(eb, 'registered_model_tags', sql.ref('m.id'), c);
  return compare(eb, sql.ref('m.name'), c);
}

function versionCondition(eb: EB, c: Condition): Expression<SqlBool> {
  if (c.key === 'tag') return tagCondition(eb, 'model_version_tags', sql.ref('v.id'), c);
  const col = { name: 'm.name', run_id: 'v.run_id', source_path: 'v.source', version_number: 'v.version' }[c.key] ?? 'm.name';
  return compare(eb, sql.ref(col), c);
}
