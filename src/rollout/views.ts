import type { GateReadings } from './gates.js';
import { describeStep } from './plan.js';
import type { Step } from './schema.js';
import type { RolloutEventRow, RolloutRow, RolloutState } from './tables.js';

export interface StepView extends Step {
  index: number;
  description: string;
  status: 'done' | 'current' | 'pending';
}

export interface RolloutView {
  name: string;
  workspace: string;
  endpoint: string;
  candidate: string;
  stable: string | null;
  state: RolloutState;
  /** Index of the current step; equal to steps.length once promoted. */
  step: number;
  steps: StepView[];
  stepStartedAt: number | null;
  /** Time the current step has counted so far (time paused excluded). */
  stepElapsedMs: number | null;
  retireStable: boolean;
  drainMs: number;
  retireAt: number | null;
  reason: string;
  readings: GateReadings | null;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  events: Array<{ at: number; kind: string; message: string }>;
}

function elapsed(r: RolloutRow, now: number): number | null {
  if (r.step_started_at === null) return null;
  const until = r.state === 'paused' && r.paused_at !== null ? r.paused_at : r.state === 'running' ? now : r.updated_at;
  return Math.max(0, until - r.step_started_at - r.paused_ms);
}

function stepStatus(r: RolloutRow, i: number): StepView['status'] {
  if (i < r.step || r.state === 'succeeded') return 'done';
  if (i === r.step && r.state !== 'pending') return 'current';
  return 'pending';
}

export function rolloutView(r: RolloutRow, workspace: string, events: RolloutEventRow[], now = Date.now()): RolloutView {
  const steps = JSON.parse(r.steps) as Step[];
  return {
    name: r.name,
    workspace,
    endpoint: r.endpoint,
    candidate: r.candidate,
    stable: r.stable,
    state: r.state,
    step: r.step,
    steps: steps.map((s, index) => ({ index, description: describeStep(s), status: stepStatus(r, index), ...s })),
    stepStartedAt: r.step_started_at,
    stepElapsedMs: elapsed(r, now),
    retireStable: r.retire_stable,
    drainMs: r.drain_ms,
    retireAt: r.retire_at,
    reason: r.reason,
    readings: r.readings === null ? null : (JSON.parse(r.readings) as GateReadings),
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    events: events.map((e) => ({ at: e.at, kind: e.kind, message: e.message })),
  };
}
