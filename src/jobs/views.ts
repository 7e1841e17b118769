import type { JobSpec } from './spec.js';
import type { AttemptRow, JobRow } from './tables.js';

export interface AttemptView {
  attempt: number;
  worker: string;
  host: string;
  outcome: string;
  exitCode: number | null;
  error: string;
  startedAt: number;
  finishedAt: number | null;
  cpuSeconds: number;
  wallMs: number;
  peakRssBytes: number;
  cost: number;
}

export interface JobView {
  id: number;
  name: string;
  workspace: string;
  kind: string;
  state: JobRow['state'];
  command: string[];
  experiment: string;
  inputs: Record<string, string>;
  outputs: JobSpec['outputs'];
  priority: number;
  retries: number;
  timeoutMs: number | null;
  resources: string;
  attempt: number;
  failures: number;
  cancelRequested: boolean;
  exitCode: number | null;
  error: string;
  runId: string | null;
  experimentId: string | null;
  createdBy: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Compute use summed over attempts; cost from the resource class's price. */
  usage: { cpuSeconds: number; wallMs: number; peakRssBytes: number; cost: number };
  attempts?: AttemptView[];
}

export function attemptView(a: AttemptRow): AttemptView {
  return {
    attempt: a.attempt,
    worker: a.worker,
    host: a.host,
    outcome: a.outcome,
    exitCode: a.exit_code,
    error: a.error,
    startedAt: a.started_at,
    finishedAt: a.finished_at,
    cpuSeconds: a.cpu_seconds,
    wallMs: a.wall_ms,
    peakRssBytes: a.peak_rss_bytes,
    cost: a.cost,
  };
}

export function jobView(j: JobRow, workspace: string, attempts?: AttemptRow[]): JobView {
  const spec = JSON.parse(j.spec) as JobSpec;
  return {
    id: j.id,
    name: j.name,
    workspace,
    kind: j.kind,
    state: j.state,
    command: spec.command,
    experiment: spec.experiment,
    inputs: spec.inputs,
    outputs: spec.outputs,
    priority: j.priority,
    retries: j.max_retries,
    timeoutMs: j.timeout_ms,
    resources: j.resource_class,
    attempt: j.attempt,
    failures: j.failures,
    cancelRequested: j.cancel_requested,
    exitCode: j.exit_code,
    error: j.error,
    runId: j.run_id,
    experimentId: j.experiment_id === null ? null : String(j.experiment_id),
    createdBy: j.created_by,
    createdAt: j.created_at,
    startedAt: j.started_at,
    finishedAt: j.finished_at,
    usage: { cpuSeconds: j.cpu_seconds, wallMs: j.wall_ms, peakRssBytes: j.peak_rss_bytes, cost: j.cost },
    ...(attempts ? { attempts: attempts.map(attemptView) } : {}),
  };
}
