import type { ColumnType as KyselyColumn, Generated } from 'kysely';
import type { Column, Format } from './infer.js';

type Stamp = KyselyColumn<Date, Date | undefined, Date>;

export interface DatasetTable {
  id: Generated<number>;
  workspace_id: number;
  name: string;
  owner_id: number | null;
  source: Generated<string>;
  refresh_frequency: string | null;
  description: Generated<string>;
  created_at: Stamp;
  updated_at: Stamp;
}

export interface DatasetVersionTable {
  dataset_id: number;
  version: number;
  format: Format;
  filename: string;
  artifact_key: string;
  sha256: string;
  size_bytes: number;
  row_count: number;
  /** jsonb: written as JSON text, read back parsed by both drivers. */
  columns: KyselyColumn<Column[], string, string>;
  created_by: string;
  created_at: KyselyColumn<Date, Date | undefined, never>;
}

export interface DatasetVersionCounterTable {
  workspace_id: number;
  name: string;
  last_version: number;
}

/** The only column of `principals` this domain reads: owners are shown by name. */
interface PrincipalNameTable {
  id: number;
  name: string;
}

export interface DatasetTables {
  datasets: DatasetTable;
  dataset_versions: DatasetVersionTable;
  dataset_version_counters: DatasetVersionCounterTable;
  principals: PrincipalNameTable;
}
