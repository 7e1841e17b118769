import type { Generated } from 'kysely';

export type RolloutState = 'pending' | 'running' | 'paused' | 'succeeded' | 'rolled_back' | 'aborted';

/** Kysely types of the rollout tables (migration 0008_rollouts). Timestamps are epoch ms; steps and readings are JSON text. */
export interface RolloutTable {
  id: Generated<number>;
  workspace_id: number;
  name: string;
  endpoint: string;
  /** The endpoint row at creation: a recreated endpoint of the same name is another one. */
  endpoint_id: number;
  candidate: string;
  /** Null until start, when it defaults to the deployment taking 100% of traffic. */
  stable: string | null;
  steps: string;
  retire_stable: boolean;
  drain_ms: number;
  state: RolloutState;
  /** Index of the current step; steps.length is the final promotion. */
  step: number;
  /** When the current step's routing was written; null while it is still to be applied. */
  step_started_at: number | null;
  /** Time paused during the current step: it does not count towards the duration. */
  paused_ms: number;
  paused_at: number | null;
  reason: string;
  /** JSON GateReadings of the current step's window, as last evaluated. */
  readings: string | null;
  /** When the stable deployment is due to be deleted (after promotion and drain). */
  retire_at: number | null;
  version: Generated<number>;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface RolloutEventTable {
  id: Generated<number>;
  rollout_id: number;
  at: number;
  kind: string;
  message: string;
}

export interface RolloutTables {
  rollouts: RolloutTable;
  rollout_events: RolloutEventTable;
}

type Selected<R> = { [K in keyof R]: R[K] extends Generated<infer S> ? S : R[K] };
export type RolloutRow = Selected<RolloutTable>;
export type RolloutEventRow = Selected<RolloutEventTable>;
