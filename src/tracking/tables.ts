import type { Generated } from 'kysely';

/** Kysely types of the tracking tables (migration 0002_tracking). */
export interface ExperimentRow {
  id: Generated<number>;
  workspace_id: number;
  name: string;
  artifact_location: string;
  lifecycle_stage: Generated<string>;
  creation_time: number;
  last_update_time: number;
}

export interface RunRow {
  id: Generated<number>;
  run_uuid: string;
  experiment_id: number;
  name: string;
  user_id: Generated<string>;
  status: string;
  start_time: number | null;
  end_time: number | null;
  artifact_uri: string;
  lifecycle_stage: Generated<string>;
  deleted_time: number | null;
}

export interface KeyValueRow {
  run_id: number;
  key: string;
  value: string;
}

export interface MetricRow {
  run_id: number;
  key: string;
  step: number;
  timestamp: number;
  value: number;
}

export interface DatasetInputRow {
  run_id: number;
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: string | null;
  profile: string | null;
  tags: string;
}

export interface TrackingTables {
  workspaces: { id: Generated<number>; name: string };
  experiments: ExperimentRow;
  experiment_tags: { experiment_id: number; key: string; value: string };
  runs: RunRow;
  run_params: KeyValueRow;
  run_tags: KeyValueRow;
  run_metrics: MetricRow;
  run_latest_metrics: MetricRow;
  run_dataset_inputs: DatasetInputRow;
  run_model_inputs: { run_id: number; model_id: string };
}
