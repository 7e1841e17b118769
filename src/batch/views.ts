import type { BatchEndpointPut } from './schema.js';
import type { BatchEndpointRow, BatchRunRow } from './tables.js';

export interface BatchRunView {
  id: number;
  endpoint: string;
  workspace: string;
  state: BatchRunRow['state'];
  model: string;
  input: string;
  output: string | null;
  outputDataset: string;
  progress: {
    rows: { total: number | null; done: number; failed: number };
    miniBatches: { total: number | null; done: number; failed: number; running: number };
  };
  settings: { miniBatchRows: number; parallelism: number; errorThreshold: { rows?: number; fraction?: number }; resources: string; features: string[] | null };
  failures: Array<{ row: number; error: string }>;
  error: string;
  usage: { cpuSeconds: number; wallMs: number; busyMs: number; peakRssBytes: number; cost: number };
  jobId: number | null;
  createdBy: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface BatchEndpointView extends BatchEndpointPut {
  name: string;
  workspace: string;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  lastRun?: BatchRunView;
}

export function endpointView(e: BatchEndpointRow, workspace: string, lastRun?: BatchRunView): BatchEndpointView {
  return { name: e.name, workspace, ...(JSON.parse(e.spec) as BatchEndpointPut), createdBy: e.created_by, createdAt: e.created_at, updatedAt: e.updated_at, ...(lastRun ? { lastRun } : {}) };
}

export function runView(r: BatchRunRow, workspace: string, running = 0, now = Date.now()): BatchRunView {
  const threshold: { rows?: number; fraction?: number } = {};
  if (r.max_failed_rows !== null) threshold.rows = r.max_failed_rows;
  if (r.max_failed_fraction !== null) threshold.fraction = r.max_failed_fraction;
  return {
    id: r.id,
    endpoint: r.endpoint,
    workspace,
    state: r.state,
    model: `models:/${r.model_name}/${r.model_version}`,
    input: r.input_uri,
    output: r.output_version === null ? null : `datasets:/${r.output_dataset}/${r.output_version}`,
    outputDataset: r.output_dataset,
    progress: {
      rows: { total: r.total_rows, done: r.rows_done, failed: r.rows_failed },
      miniBatches: { total: r.batches_total, done: r.batches_done, failed: r.batches_failed, running },
    },
    settings: { miniBatchRows: r.mini_batch_rows, parallelism: r.parallelism, errorThreshold: threshold, resources: r.resource_class, features: r.features ? (JSON.parse(r.features) as string[]) : null },
    failures: JSON.parse(r.failures) as Array<{ row: number; error: string }>,
    error: r.error,
    usage: { cpuSeconds: Math.round(r.cpu_seconds * 1000) / 1000, wallMs: r.started_at === null ? 0 : (r.finished_at ?? now) - r.started_at, busyMs: r.busy_ms, peakRssBytes: r.peak_rss_bytes, cost: r.cost },
    jobId: r.job_id,
    createdBy: r.created_by,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}
