import { sql, type Insertable, type Kysely, type Selectable, type Updateable } from 'kysely';
import { tables, type Db } from '../store/db.js';
import type { DatasetTable, DatasetTables, DatasetVersionTable } from './tables.js';

export type DatasetRow = Selectable<DatasetTable> & { owner: string | null; latest_version: number | null };
export type VersionRow = Selectable<DatasetVersionTable>;
export type DatasetPatch = Pick<Updateable<DatasetTable>, 'owner_id' | 'source' | 'refresh_frequency' | 'description'>;

/** SQL for datasets and their versions. No rules here. */
export class DatasetStore {
  constructor(private readonly db: Db) {}

  private t(tx?: Db): Kysely<DatasetTables> {
    return tables<DatasetTables>(tx ?? this.db);
  }

  private datasets(tx?: Db) {
    return this.t(tx)
      .selectFrom('datasets as d')
      .leftJoin('principals as p', 'p.id', 'd.owner_id')
      .selectAll('d')
      .select('p.name as owner')
      .select((eb) => eb.selectFrom('dataset_versions as v').whereRef('v.dataset_id', '=', 'd.id').select(sql<number | null>`max(v.version)`.as('m')).as('latest_version'));
  }

  list(workspaceId: number): Promise<DatasetRow[]> {
    return this.datasets().where('d.workspace_id', '=', workspaceId).orderBy('d.name').execute();
  }

  get(workspaceId: number, name: string, tx?: Db): Promise<DatasetRow | undefined> {
    return this.datasets(tx).where('d.workspace_id', '=', workspaceId).where('d.name', '=', name).executeTakeFirst();
  }

  versions(datasetId: number): Promise<VersionRow[]> {
    return this.t().selectFrom('dataset_versions').selectAll().where('dataset_id', '=', datasetId).orderBy('version').execute();
  }

  version(datasetId: number, version: number | 'latest'): Promise<VersionRow | undefined> {
    const q = this.t().selectFrom('dataset_versions').selectAll().where('dataset_id', '=', datasetId);
    return (version === 'latest' ? q.orderBy('version', 'desc').limit(1) : q.where('version', '=', version)).executeTakeFirst();
  }

  /**
   * Takes the next version number for a dataset name in one atomic statement,
   * outside any long transaction: the file is stored under that number
   * before the version row is written.
   */
  async reserveVersion(workspaceId: number, name: string): Promise<number> {
    const r = await this.t()
      .insertInto('dataset_version_counters')
      .values({ workspace_id: workspaceId, name, last_version: 1 })
      .onConflict((oc) => oc.columns(['workspace_id', 'name']).doUpdateSet({ last_version: sql`dataset_version_counters.last_version + 1` }))
      .returning('last_version')
      .executeTakeFirstOrThrow();
    return r.last_version;
  }

  /** Inserts the dataset unless it exists; concurrent first uploads resolve to one row. */
  async ensureDataset(tx: Db, row: Insertable<DatasetTable>): Promise<{ id: number; created: boolean }> {
    const inserted = await this.t(tx)
      .insertInto('datasets')
      .values(row)
      .onConflict((oc) => oc.columns(['workspace_id', 'name']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) return { id: Number(inserted.id), created: true };
    const existing = await this.t(tx)
      .selectFrom('datasets')
      .select('id')
      .where('workspace_id', '=', row.workspace_id)
      .where('name', '=', row.name)
      .forUpdate()
      .executeTakeFirstOrThrow();
    return { id: Number(existing.id), created: false };
  }

  async update(tx: Db, id: number, patch: DatasetPatch): Promise<void> {
    await this.t(tx)
      .updateTable('datasets')
      .set({ ...patch, updated_at: new Date() })
      .where('id', '=', id)
      .execute();
  }

  async insertVersion(tx: Db, row: Insertable<DatasetVersionTable>): Promise<VersionRow> {
    return this.t(tx).insertInto('dataset_versions').values(row).returningAll().executeTakeFirstOrThrow();
  }

  /** Deletes the dataset and its versions; answers the artifact keys they used. */
  async delete(tx: Db, id: number): Promise<string[]> {
    const keys = await this.t(tx).selectFrom('dataset_versions').select('artifact_key').where('dataset_id', '=', id).execute();
    await this.t(tx).deleteFrom('datasets').where('id', '=', id).execute();
    return keys.map((k) => k.artifact_key);
  }

  /** Whether a principal (by name) exists, and its id: owners must be real principals. */
  principalId(name: string, tx?: Db): Promise<{ id: number } | undefined> {
    return this.t(tx).selectFrom('principals').select('id').where('name', '=', name).executeTakeFirst();
  }
}
