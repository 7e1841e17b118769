import { sql } from 'kysely';
import { tables, type Db } from '../store/db.js';
import type { Condition, OrderTerm } from './filter.js';
import type { Experiment, KeyValue, Lifecycle, ViewType } from './model.js';
import { compileExperimentCondition, experimentOrderColumn } from './store.search.js';
import type { ExperimentRow, TrackingTables } from './tables.js';

type Row = { id: number; name: string; artifact_location: string; lifecycle_stage: string; creation_time: number; last_update_time: number; workspace: string };

const t = (db: Db) => tables<TrackingTables>(db);

function toExperiment(r: Row, tags: KeyValue[]): Experiment {
  return {
    experimentId: String(r.id),
    workspace: r.workspace,
    name: r.name,
    artifactLocation: r.artifact_location,
    lifecycleStage: r.lifecycle_stage as Lifecycle,
    creationTime: Number(r.creation_time),
    lastUpdateTime: Number(r.last_update_time),
    tags,
  };
}

export function lifecycleIn(view: ViewType): Lifecycle[] {
  return view === 'ALL' ? ['active', 'deleted'] : view === 'DELETED_ONLY' ? ['deleted'] : ['active'];
}

/** Experiments and their tags; every lookup is scoped to one workspace. */
export class ExperimentStore {
  constructor(private readonly db: Db) {}

  private base(db: Db) {
    return t(db)
      .selectFrom('experiments as e')
      .innerJoin('workspaces as w', 'w.id', 'e.workspace_id')
      .select(['e.id', 'e.name', 'e.artifact_location', 'e.lifecycle_stage', 'e.creation_time', 'e.last_update_time', 'w.name as workspace']);
  }

  private async withTags(rows: Row[], db: Db): Promise<Experiment[]> {
    if (!rows.length) return [];
    const tags = await t(db).selectFrom('experiment_tags').selectAll().where('experiment_id', 'in', rows.map((r) => r.id)).orderBy('key').execute();
    const by = new Map<number, KeyValue[]>();
    for (const tag of tags) {
      const list = by.get(Number(tag.experiment_id)) ?? [];
      list.push({ key: tag.key, value: tag.value });
      by.set(Number(tag.experiment_id), list);
    }
    return rows.map((r) => toExperiment(r, by.get(Number(r.id)) ?? []));
  }

  async byId(workspaceId: number, id: number, db: Db = this.db): Promise<Experiment | undefined> {
    const row = await this.base(db).where('e.workspace_id', '=', workspaceId).where('e.id', '=', id).executeTakeFirst();
    return row ? (await this.withTags([row as Row], db))[0] : undefined;
  }

  /** Prefers the active experiment when an active and a deleted one share the name, like MLflow. */
  async byName(workspaceId: number, name: string, db: Db = this.db): Promise<Experiment | undefined> {
    const row = await this.base(db).where('e.workspace_id', '=', workspaceId).where('e.name', '=', name).executeTakeFirst();
    return row ? (await this.withTags([row as Row], db))[0] : undefined;
  }

  async insert(tx: Db, row: { workspaceId: number; name: string; artifactLocation: (id: number) => string; now: number }): Promise<number> {
    const { id } = await t(tx)
      .insertInto('experiments')
      .values({ workspace_id: row.workspaceId, name: row.name, artifact_location: '', creation_time: row.now, last_update_time: row.now })
      .returning('id')
      .executeTakeFirstOrThrow();
    await t(tx).updateTable('experiments').set({ artifact_location: row.artifactLocation(Number(id)) }).where('id', '=', id).execute();
    return Number(id);
  }

  /** Locks the experiment row for the rest of the transaction (renames, deletes, run creation). */
  async lock(tx: Db, workspaceId: number, id: number): Promise<Pick<ExperimentRow, 'name' | 'artifact_location'> & { lifecycle_stage: string } | undefined> {
    return t(tx)
      .selectFrom('experiments')
      .select(['name', 'artifact_location', 'lifecycle_stage'])
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
  }

  async nameTaken(tx: Db, workspaceId: number, name: string): Promise<boolean> {
    return !!(await t(tx).selectFrom('experiments').select('id').where('workspace_id', '=', workspaceId).where('name', '=', name).executeTakeFirst());
  }

  async update(tx: Db, id: number, set: Partial<{ name: string; lifecycle_stage: Lifecycle; last_update_time: number }>): Promise<void> {
    await t(tx).updateTable('experiments').set(set).where('id', '=', id).execute();
  }

  /** Deleting or restoring an experiment does the same to its runs, as MLflow does. */
  async setRunsLifecycle(tx: Db, experimentId: number, stage: Lifecycle, now: number): Promise<void> {
    await t(tx)
      .updateTable('runs')
      .set({ lifecycle_stage: stage, deleted_time: stage === 'deleted' ? now : null })
      .where('experiment_id', '=', experimentId)
      .execute();
  }

  async setTags(tx: Db, experimentId: number, tags: KeyValue[]): Promise<void> {
    if (!tags.length) return;
    await t(tx)
      .insertInto('experiment_tags')
      .values(tags.map((x) => ({ experiment_id: experimentId, key: x.key, value: x.value })))
      .onConflict((oc) => oc.columns(['experiment_id', 'key']).doUpdateSet({ value: (eb) => eb.ref('excluded.value') }))
      .execute();
  }

  async deleteTag(tx: Db, experimentId: number, key: string): Promise<boolean> {
    const r = await t(tx).deleteFrom('experiment_tags').where('experiment_id', '=', experimentId).where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async search(workspaceId: number, q: { conditions: Condition[]; view: ViewType; order: OrderTerm[]; offset: number; limit: number }): Promise<Experiment[]> {
    let query = this.base(this.db).where('e.workspace_id', '=', workspaceId).where('e.lifecycle_stage', 'in', lifecycleIn(q.view));
    for (const c of q.conditions) query = query.where((eb) => compileExperimentCondition(eb, c));
    for (const o of q.order) query = query.orderBy(sql.ref(experimentOrderColumn(o.key)), o.desc ? 'desc' : 'asc');
    // MLflow's tiebreak: experiment id, descending.
    const rows = await query.orderBy('e.id', 'desc').offset(q.offset).limit(q.limit).execute();
    return this.withTags(rows as Row[], this.db);
  }
}
