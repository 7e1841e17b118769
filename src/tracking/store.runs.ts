import { sql } from 'kysely';
import { tables, type Db } from '../store/db.js';
import type { Condition, OrderTerm } from './filter.js';
import type { DatasetInput, KeyValue, Lifecycle, Metric, Run, RunInfo, RunStatus, ViewType } from './model.js';
import { lifecycleIn } from './store.experiments.js';
import { compileRunCondition, runOrderExpressions } from './store.search.js';
import type { TrackingTables } from './tables.js';

const t = (db: Db) => tables<TrackingTables>(db);

/** A run's row as the service needs it to decide (internal key, lifecycle, workspace). */
export interface RunRef {
  pk: number;
  info: RunInfo;
}

const INFO_COLUMNS = ['r.id', 'r.run_uuid', 'r.experiment_id', 'r.name', 'r.user_id', 'r.status', 'r.start_time', 'r.end_time', 'r.artifact_uri', 'r.lifecycle_stage'] as const;
type InfoRow = { id: number; run_uuid: string; experiment_id: number; name: string; user_id: string; status: string; start_time: number | null; end_time: number | null; artifact_uri: string; lifecycle_stage: string };

function toInfo(r: InfoRow): RunInfo {
  return {
    runId: r.run_uuid,
    experimentId: String(r.experiment_id),
    runName: r.name,
    userId: r.user_id,
    status: r.status as RunStatus,
    startTime: r.start_time === null ? null : Number(r.start_time),
    endTime: r.end_time === null ? null : Number(r.end_time),
    artifactUri: r.artifact_uri,
    lifecycleStage: r.lifecycle_stage as Lifecycle,
  };
}

function group<T>(rows: Array<{ run_id: number }>, map: (r: never) => T): Map<number, T[]> {
  const by = new Map<number, T[]>();
  for (const r of rows) {
    const k = Number(r.run_id);
    let list = by.get(k);
    if (!list) by.set(k, (list = []));
    list.push(map(r as never));
  }
  return by;
}

/** Runs, params, tags and inputs. Lookups join experiments so that a run is only found in its own workspace. */
export class RunStore {
  constructor(readonly db: Db) {}

  private base(db: Db, workspaceId: number) {
    return t(db)
      .selectFrom('runs as r')
      .innerJoin('experiments as e', 'e.id', 'r.experiment_id')
      .where('e.workspace_id', '=', workspaceId)
      .select([...INFO_COLUMNS]);
  }

  /**
   * Looks a run up by its 32-hex id. `update` holds its row exclusively until
   * the transaction ends; `share` only keeps it from being changed, so batches
   * of metrics to one run still go in concurrently. Only the run row is
   * locked (`OF r`): locking the joined experiment would serialise every
   * writer of the experiment.
   */
  async ref(db: Db, workspaceId: number, runUuid: string, lock?: 'update' | 'share'): Promise<RunRef | undefined> {
    let q = this.base(db, workspaceId).where('r.run_uuid', '=', runUuid);
    if (lock === 'update') q = q.forUpdate('r');
    if (lock === 'share') q = q.forShare('r');
    const row = await q.executeTakeFirst();
    return row ? { pk: Number(row.id), info: toInfo(row as InfoRow) } : undefined;
  }

  async insert(tx: Db, r: { runUuid: string; experimentId: number; name: string; userId: string; status: RunStatus; startTime: number | null; artifactUri: string }): Promise<number> {
    const { id } = await t(tx)
      .insertInto('runs')
      .values({ run_uuid: r.runUuid, experiment_id: r.experimentId, name: r.name, user_id: r.userId, status: r.status, start_time: r.startTime, end_time: null, artifact_uri: r.artifactUri, deleted_time: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(id);
  }

  async update(tx: Db, pk: number, set: Partial<{ status: RunStatus; end_time: number; name: string; lifecycle_stage: Lifecycle; deleted_time: number | null }>): Promise<void> {
    if (Object.keys(set).length) await t(tx).updateTable('runs').set(set).where('id', '=', pk).execute();
  }

  async params(tx: Db, pk: number, keys: string[]): Promise<Map<string, string>> {
    if (!keys.length) return new Map();
    const rows = await t(tx).selectFrom('run_params').select(['key', 'value']).where('run_id', '=', pk).where('key', 'in', keys).execute();
    return new Map(rows.map((r) => [r.key, r.value]));
  }

  /** Inserts params; existing keys are left alone (the service has checked they hold the same value). */
  async insertParams(tx: Db, pk: number, params: KeyValue[]): Promise<void> {
    if (!params.length) return;
    await t(tx).insertInto('run_params').values(params.map((p) => ({ run_id: pk, key: p.key, value: p.value }))).onConflict((oc) => oc.doNothing()).execute();
  }

  async setTags(tx: Db, pk: number, tags: KeyValue[]): Promise<void> {
    if (!tags.length) return;
    // The last value for a key wins, as in MLflow; one statement cannot touch a row twice.
    const last = new Map(tags.map((x) => [x.key, x.value]));
    await t(tx)
      .insertInto('run_tags')
      .values([...last].map(([key, value]) => ({ run_id: pk, key, value })))
      .onConflict((oc) => oc.columns(['run_id', 'key']).doUpdateSet({ value: (eb) => eb.ref('excluded.value') }))
      .execute();
  }

  async deleteTag(tx: Db, pk: number, key: string): Promise<boolean> {
    const r = await t(tx).deleteFrom('run_tags').where('run_id', '=', pk).where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async tag(tx: Db, pk: number, key: string): Promise<string | undefined> {
    return (await t(tx).selectFrom('run_tags').select('value').where('run_id', '=', pk).where('key', '=', key).executeTakeFirst())?.value;
  }

  async addDatasetInputs(tx: Db, pk: number, inputs: DatasetInput[]): Promise<void> {
    if (!inputs.length) return;
    await t(tx)
      .insertInto('run_dataset_inputs')
      .values(
        inputs.map((i) => ({
          run_id: pk,
          name: i.dataset.name,
          digest: i.dataset.digest,
          source_type: i.dataset.sourceType,
          source: i.dataset.source,
          schema: i.dataset.schema ?? null,
          profile: i.dataset.profile ?? null,
          tags: JSON.stringify(i.tags),
        })),
      )
      .onConflict((oc) => oc.columns(['run_id', 'name', 'digest']).doUpdateSet({ tags: (eb) => eb.ref('excluded.tags') }))
      .execute();
  }

  async addModelInputs(tx: Db, pk: number, modelIds: string[]): Promise<void> {
    if (!modelIds.length) return;
    await t(tx).insertInto('run_model_inputs').values(modelIds.map((m) => ({ run_id: pk, model_id: m }))).onConflict((oc) => oc.doNothing()).execute();
  }

  /** Full runs (info, latest metrics, params, tags, inputs) for these internal keys, in the given order. */
  async hydrate(refs: RunRef[], db: Db = this.db): Promise<Run[]> {
    if (!refs.length) return [];
    const pks = refs.map((r) => r.pk);
    const [metrics, params, tags, datasets, models] = await Promise.all([
      t(db).selectFrom('run_latest_metrics').select(['run_id', 'key', 'value', 'timestamp', 'step']).where('run_id', 'in', pks).orderBy('key').execute(),
      t(db).selectFrom('run_params').select(['run_id', 'key', 'value']).where('run_id', 'in', pks).orderBy('key').execute(),
      t(db).selectFrom('run_tags').select(['run_id', 'key', 'value']).where('run_id', 'in', pks).orderBy('key').execute(),
      t(db).selectFrom('run_dataset_inputs').selectAll().where('run_id', 'in', pks).orderBy('name').execute(),
      t(db).selectFrom('run_model_inputs').selectAll().where('run_id', 'in', pks).orderBy('model_id').execute(),
    ]);
    const m = group<Metric>(metrics, (r: { key: string; value: number; timestamp: number; step: number }) => ({ key: r.key, value: Number(r.value), timestamp: Number(r.timestamp), step: Number(r.step) }));
    const p = group<KeyValue>(params, (r: KeyValue) => ({ key: r.key, value: r.value }));
    const g = group<KeyValue>(tags, (r: KeyValue) => ({ key: r.key, value: r.value }));
    const d = group<DatasetInput>(datasets, (r: { name: string; digest: string; source_type: string; source: string; schema: string | null; profile: string | null; tags: unknown }) => ({
      tags: (typeof r.tags === 'string' ? JSON.parse(r.tags) : r.tags) as KeyValue[],
      dataset: { name: r.name, digest: r.digest, sourceType: r.source_type, source: r.source, schema: r.schema, profile: r.profile },
    }));
    const mi = group<string>(models, (r: { model_id: string }) => r.model_id);
    return refs.map((ref) => ({
      info: ref.info,
      data: { metrics: m.get(ref.pk) ?? [], params: p.get(ref.pk) ?? [], tags: g.get(ref.pk) ?? [] },
      inputs: { datasetInputs: d.get(ref.pk) ?? [], modelInputs: mi.get(ref.pk) ?? [] },
    }));
  }

  async search(workspaceId: number, q: { experimentIds: number[]; conditions: Condition[]; view: ViewType; order: OrderTerm[]; offset: number; limit: number }): Promise<RunRef[]> {
    let query = this.base(this.db, workspaceId).where('r.experiment_id', 'in', q.experimentIds).where('r.lifecycle_stage', 'in', lifecycleIn(q.view));
    for (const c of q.conditions) query = query.where((eb) => compileRunCondition(eb, c));
    for (const o of q.order) {
      query = query
        .orderBy((eb) => runOrderExpressions(eb, o)[0].expr as never, 'asc')
        .orderBy((eb) => runOrderExpressions(eb, o)[1].expr as never, o.desc ? 'desc' : 'asc');
    }
    // MLflow's tiebreak (and default order): newest start first, then run id.
    const rows = await query.orderBy('r.start_time', (ob) => ob.desc().nullsLast()).orderBy('r.run_uuid', 'asc').offset(q.offset).limit(q.limit).execute();
    return rows.map((row) => ({ pk: Number(row.id), info: toInfo(row as InfoRow) }));
  }

  /** Internal keys of these runs in a workspace (bulk-interval reads), keyed by run id. */
  async pks(workspaceId: number, runUuids: string[]): Promise<Map<string, number>> {
    if (!runUuids.length) return new Map();
    const rows = await this.base(this.db, workspaceId).where('r.run_uuid', 'in', runUuids).execute();
    return new Map(rows.map((r) => [r.run_uuid, Number(r.id)]));
  }
}
