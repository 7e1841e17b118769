import type { Generated } from 'kysely';

/** Kysely types of the serving tables (migration 0005_serving). Timestamps are epoch ms; maps are JSON text. */
export interface EndpointTable {
  id: Generated<number>;
  workspace_id: number;
  name: string;
  description: string;
  auth: 'key' | 'token';
  primary_key: string;
  secondary_key: string;
  traffic: string;
  mirror: string;
  rate_limit: string | null;
  capture: string | null;
  generation: Generated<number>;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface DeploymentTable {
  id: Generated<number>;
  endpoint_id: number;
  name: string;
  model_ref: string;
  model_id: number;
  model_name: string;
  model_version: number;
  model_digest: string;
  storage_prefix: string;
  model_file: string;
  runtime: 'onnx' | 'process' | 'http';
  /** JSON array of argv, for the process runtime. */
  command: string | null;
  url: string | null;
  instances: number;
  max_concurrent: number;
  timeout_ms: number;
  batching: string | null;
  state: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface TrafficHistoryTable {
  id: Generated<number>;
  workspace_id: number;
  endpoint: string;
  at: number;
  who: string;
  reason: string;
  traffic: string;
  mirror: string;
}

export interface ServingTables {
  workspaces: { id: Generated<number>; name: string };
  endpoints: EndpointTable;
  deployments: DeploymentTable;
  traffic_history: TrafficHistoryTable;
  serving_config: { id: number; version: number };
}

type Selected<R> = { [K in keyof R]: R[K] extends Generated<infer S> ? S : R[K] };
export type EndpointRow = Selected<EndpointTable>;
export type DeploymentRow = Selected<DeploymentTable>;
export type TrafficHistoryRow = Selected<TrafficHistoryTable>;
