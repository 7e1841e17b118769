import type { Generated } from 'kysely';

/** Kysely types of the registry tables (migration 0003_registry). Timestamps are epoch ms. */
export interface RegisteredModelRow {
  id: Generated<number>;
  workspace_id: number;
  name: string;
  description: Generated<string>;
  created_by: Generated<string>;
  created_at: number;
  updated_at: number;
  next_version: Generated<number>;
}

export type VersionStatus = 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION' | 'READY';

export interface ModelVersionRow {
  id: Generated<number>;
  model_id: number;
  version: number;
  description: Generated<string>;
  created_by: Generated<string>;
  created_at: number;
  updated_at: number;
  current_stage: Generated<string>;
  source: string;
  run_id: Generated<string>;
  run_link: Generated<string>;
  logged_model_id: Generated<string>;
  status: Generated<VersionStatus>;
  status_message: Generated<string>;
  storage_prefix: Generated<string>;
  digest: string | null;
  size_bytes: Generated<number>;
  /** JSON of a Signature (onnx.ts), or null when the version holds no ONNX graph. */
  signature: string | null;
}

export interface TagRow {
  key: string;
  value: string;
}

export interface LoggedModelRow {
  id: string;
  workspace_id: number;
  experiment_id: string;
  name: string;
  model_type: Generated<string>;
  source_run_id: Generated<string>;
  status: Generated<string>;
  status_message: Generated<string>;
  artifact_uri: string;
  created_at: number;
  updated_at: number;
}

export interface RegistryTables {
  workspaces: { id: Generated<number>; name: string };
  registered_models: RegisteredModelRow;
  registered_model_tags: TagRow & { model_id: number };
  model_versions: ModelVersionRow;
  model_version_tags: TagRow & { version_id: number };
  model_version_files: { version_id: number; path: string; size: number; sha256: string };
  model_aliases: { model_id: number; alias: string; version_id: number };
  logged_models: LoggedModelRow;
  logged_model_tags: TagRow & { model_id: string };
  logged_model_params: TagRow & { model_id: string };
  run_model_outputs: { run_id: string; model_id: string; step: number };
}
