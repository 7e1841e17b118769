import type { Generated } from 'kysely';

/** Kysely types of the pipeline tables (migration 0010_pipelines). Timestamps are epoch ms; JSON as text. */
export interface PipelineTable {
  id: Generated<number>;
  workspace_id: number;
  name: string;
  /** The checked PipelineSpec. */
  spec: string;
  /** Who applied it last: scheduled and triggered runs act with their rights. */
  principal_id: number;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export type RunState = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'skipped';
export type StepState = 'pending' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cached' | 'skipped';

export interface PipelineRunTable {
  id: Generated<number>;
  workspace_id: number;
  pipeline_id: number;
  /** The pipeline as it was when the run started. */
  spec: string;
  params: string;
  state: RunState;
  cause_kind: string;
  /** JSON of the Cause. */
  cause: string;
  schedule_tick: number | null;
  principal_id: number;
  created_by: string;
  error: Generated<string>;
  /** A scheduler advancing the run holds it until then. */
  advancing_until: number | null;
  created_at: number;
  finished_at: number | null;
}

export interface PipelineStepTable {
  run_id: number;
  name: string;
  position: number;
  uses: string;
  state: StepState;
  job_id: number | null;
  cache_key: string | null;
  outputs: Generated<string>;
  error: Generated<string>;
  started_at: number | null;
  finished_at: number | null;
}

export interface StepCacheTable {
  workspace_id: number;
  cache_key: string;
  outputs: string;
  job_id: number | null;
  created_at: number;
}

export interface PipelineTables {
  pipelines: PipelineTable;
  pipeline_runs: PipelineRunTable;
  pipeline_steps: PipelineStepTable;
  pipeline_step_cache: StepCacheTable;
}

type Selected<R> = { [K in keyof R]: R[K] extends Generated<infer S> ? S : R[K] };
export type PipelineRow = Selected<PipelineTable>;
export type RunRow = Selected<PipelineRunTable>;
export type StepRow = Selected<PipelineStepTable>;

/** What started a run. */
export type Cause =
  | { kind: 'manual'; by: string }
  | { kind: 'schedule'; schedule: string; timezone: string; tick: number }
  | { kind: 'model'; model: string; version: number }
  | { kind: 'dataset'; dataset: string; version: number }
  | { kind: 'alert'; id: string; by: string };

export function describeCause(c: Cause): string {
  switch (c.kind) {
    case 'manual':
      return `manual by ${c.by}`;
    case 'schedule':
      return `schedule ${c.schedule} (${c.timezone}) at ${new Date(c.tick).toISOString()}`;
    case 'model':
      return `model registered ${c.model}/${c.version}`;
    case 'dataset':
      return `dataset ${c.dataset}/${c.version}`;
    case 'alert':
      return `alert ${c.id}`;
  }
}
