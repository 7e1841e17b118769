import type { PipelineSpec } from './spec.js';
import { describeCause, type Cause, type PipelineRow, type RunRow, type StepRow } from './tables.js';

export interface StepView {
  name: string;
  uses: string;
  needs: string[];
  state: StepRow['state'];
  jobId: number | null;
  outputs: Record<string, unknown>;
  error: string;
  startedAt: number | null;
  finishedAt: number | null;
  durationMs: number | null;
}

export interface RunView {
  id: number;
  pipeline: string;
  workspace: string;
  state: RunRow['state'];
  cause: Cause;
  /** What started it, in words: `manual by alice`, `schedule …`, `model registered churn/3`, `alert 17`, `dataset sales/4`. */
  startedBy: string;
  params: Record<string, unknown>;
  error: string;
  createdBy: string;
  createdAt: number;
  finishedAt: number | null;
  steps?: StepView[];
}

export interface PipelineView extends PipelineSpec {
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  lastRun?: RunView;
}

export function pipelineView(p: PipelineRow, workspace: string, lastRun?: RunRow): PipelineView {
  const spec = JSON.parse(p.spec) as PipelineSpec;
  return { ...spec, workspace, createdBy: p.created_by, createdAt: p.created_at, updatedAt: p.updated_at, ...(lastRun ? { lastRun: runView(lastRun, spec.name, workspace) } : {}) };
}

export function runView(r: RunRow, pipeline: string, workspace: string, steps?: StepRow[]): RunView {
  const cause = JSON.parse(r.cause) as Cause;
  const needs = new Map((JSON.parse(r.spec) as PipelineSpec).steps.map((s) => [s.name, s.needs]));
  return {
    id: r.id,
    pipeline,
    workspace,
    state: r.state,
    cause,
    startedBy: describeCause(cause),
    params: JSON.parse(r.params) as Record<string, unknown>,
    error: r.error,
    createdBy: r.created_by,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    ...(steps
      ? {
          steps: steps.map((s) => ({
            name: s.name,
            uses: s.uses,
            needs: needs.get(s.name) ?? [],
            state: s.state,
            jobId: s.job_id,
            outputs: JSON.parse(s.outputs) as Record<string, unknown>,
            error: s.error,
            startedAt: s.started_at,
            finishedAt: s.finished_at,
            durationMs: s.started_at !== null && s.finished_at !== null ? s.finished_at - s.started_at : null,
          })),
        }
      : {}),
  };
}
