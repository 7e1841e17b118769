/**
 * The tracking domain's own types and limits, independent of HTTP and SQL.
 * Numbers that MLflow fixes (batch limits, key sizes, max_results) live here.
 */
export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type Lifecycle = 'active' | 'deleted';
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

export const LIMITS = {
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  batchTotal: 1000,
  keyLength: 250,
  nameLength: 500,
  paramValueLength: 6000,
  tagValueLength: 8000,
  searchDefault: 1000,
  searchMax: 50_000,
  bulkIntervalRuns: 100,
  bulkIntervalDefault: 2500,
  historyPageMax: 25_000,
} as const;

/** MLflow stores ±Infinity as ±DBL_MAX so every backend can hold it. */
export const DOUBLE_MAX = 1.7976931348623157e308;

export const RUN_NAME_TAG = 'mlflow.runName';
export const LOGGED_MODELS_TAG = 'mlflow.log-model.history';

export interface KeyValue {
  key: string;
  value: string;
}

export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface Experiment {
  experimentId: string;
  workspace: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: Lifecycle;
  creationTime: number;
  lastUpdateTime: number;
  tags: KeyValue[];
}

export interface RunInfo {
  runId: string;
  experimentId: string;
  runName: string;
  userId: string;
  status: RunStatus;
  startTime: number | null;
  endTime: number | null;
  artifactUri: string;
  lifecycleStage: Lifecycle;
}

export interface Dataset {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema?: string | null;
  profile?: string | null;
}

export interface DatasetInput {
  tags: KeyValue[];
  dataset: Dataset;
}

export interface Run {
  info: RunInfo;
  data: { metrics: Metric[]; params: KeyValue[]; tags: KeyValue[] };
  inputs: { datasetInputs: DatasetInput[]; modelInputs: string[] };
}

export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

export interface LogBatch {
  metrics: Metric[];
  params: KeyValue[];
  tags: KeyValue[];
}

export interface RunSearch {
  experimentIds: string[];
  filter?: string;
  viewType: ViewType;
  maxResults: number;
  orderBy: string[];
  pageToken?: string;
}

export interface ExperimentSearch {
  filter?: string;
  viewType: ViewType;
  maxResults: number;
  orderBy: string[];
  pageToken?: string;
}

export interface MetricWithRunId extends Metric {
  runId: string;
}
