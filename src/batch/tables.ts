import type { Generated } from 'kysely';

/** Kysely types of the batch tables (migration 0015_batch). Timestamps are epoch ms; JSON is stored as text. */
export interface BatchEndpointTable {
  id: Generated<number>;
  workspace_id: number;
  name: string;
  /** The checked BatchEndpointSpec without its name, as JSON. */
  spec: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export type RunState = 'queued' | 'running' | 'finalizing' | 'succeeded' | 'failed' | 'cancelled';

export interface BatchRunTable {
  id: Generated<number>;
  workspace_id: number;
  endpoint_id: number;
  endpoint: string;
  /** Who started it: the output version is written with this principal's rights. */
  principal_id: number;
  created_by: string;
  /** The pipeline step job that started it, so a retried attempt finds its run again. */
  job_id: number | null;
  model_ref: string;
  model_name: string;
  model_version: number;
  model_digest: string;
  /** ArtifactStore key of the pinned ONNX graph. */
  model_key: string;
  input_uri: string;
  input_dataset: string;
  input_version: number;
  input_format: string;
  /** JSON list of feature columns, or null for every column. */
  features: string | null;
  output_dataset: string;
  output_version: number | null;
  mini_batch_rows: number;
  parallelism: number;
  max_failed_rows: number | null;
  max_failed_fraction: number | null;
  resource_class: string;
  state: RunState;
  /** Held while one worker plans or finalizes the run. */
  lease_owner: string | null;
  lease_expires_at: number | null;
  /** JSON list of the input's columns (set by planning). */
  columns: string | null;
  /** JSON list of the prediction columns (set by the first scored mini-batch). */
  prediction_columns: string | null;
  total_rows: number | null;
  rows_done: Generated<number>;
  rows_failed: Generated<number>;
  batches_total: number | null;
  batches_done: Generated<number>;
  batches_failed: Generated<number>;
  /** JSON list of the first failures: {row, error}. */
  failures: Generated<string>;
  error: Generated<string>;
  cpu_seconds: Generated<number>;
  busy_ms: Generated<number>;
  peak_rss_bytes: Generated<number>;
  cost: Generated<number>;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

export type MiniBatchState = 'pending' | 'running' | 'done' | 'failed';

export interface MiniBatchTable {
  run_id: number;
  seq: number;
  first_row: number;
  row_count: number;
  state: MiniBatchState;
  attempt: Generated<number>;
  lease_owner: string | null;
  lease_expires_at: number | null;
  /** JSON rows (lists of cell values in column order); cleared when the run ends. */
  input: string | null;
  /** The output lines of the scored rows, serialised for the output file; cleared when the run ends. */
  output: string | null;
  rows_failed: Generated<number>;
  error: Generated<string>;
}

export interface BatchTables {
  batch_endpoints: BatchEndpointTable;
  batch_runs: BatchRunTable;
  batch_minibatches: MiniBatchTable;
}

type Selected<R> = { [K in keyof R]: R[K] extends Generated<infer S> ? S : R[K] };
export type BatchEndpointRow = Selected<BatchEndpointTable>;
export type BatchRunRow = Selected<BatchRunTable>;
export type MiniBatchRow = Selected<MiniBatchTable>;
