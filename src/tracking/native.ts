import type { Ctx } from '../access/principal.js';
import { NotFound } from '../shared/errors.js';
import { LIMITS, type Experiment, type Run, type ViewType } from './model.js';
import type { Tracking } from './service.js';

/** The native API's view of tracking: the same services, camelCase shapes, names accepted for experiments. */
export interface ExperimentView {
  id: string;
  workspace: string;
  name: string;
  artifactLocation: string;
  lifecycle: string;
  createdAt: number;
  updatedAt: number;
  tags: Record<string, string>;
}

type MetricCell = number | 'NaN';

export function experimentView(e: Experiment): ExperimentView {
  return {
    id: e.experimentId,
    workspace: e.workspace,
    name: e.name,
    artifactLocation: e.artifactLocation,
    lifecycle: e.lifecycleStage,
    createdAt: e.creationTime,
    updatedAt: e.lastUpdateTime,
    tags: Object.fromEntries(e.tags.map((t) => [t.key, t.value])),
  };
}

const cell = (v: number): MetricCell => (Number.isNaN(v) ? 'NaN' : v);

export function runView(r: Run) {
  return {
    id: r.info.runId,
    name: r.info.runName,
    experimentId: r.info.experimentId,
    status: r.info.status,
    lifecycle: r.info.lifecycleStage,
    user: r.info.userId,
    startTime: r.info.startTime,
    endTime: r.info.endTime,
    artifactUri: r.info.artifactUri,
    params: Object.fromEntries(r.data.params.map((p) => [p.key, p.value])),
    metrics: Object.fromEntries(r.data.metrics.map((m) => [m.key, { value: cell(m.value), step: m.step, timestamp: m.timestamp }])),
    tags: Object.fromEntries(r.data.tags.map((t) => [t.key, t.value])),
    datasets: r.inputs.datasetInputs.map((d) => ({
      name: d.dataset.name,
      digest: d.dataset.digest,
      source: d.dataset.source,
      ...(d.tags.find((t) => t.key === 'mlflow.data.context') ? { context: d.tags.find((t) => t.key === 'mlflow.data.context')!.value } : {}),
    })),
  };
}

export class NativeTracking {
  constructor(private readonly t: Tracking) {}

  async listExperiments(ctx: Ctx, ws: string, q: { filter?: string; view?: ViewType; limit?: number; pageToken?: string }) {
    const page = await this.t.experiments.search(ctx, ws, { filter: q.filter, viewType: q.view ?? 'ACTIVE_ONLY', maxResults: q.limit ?? 100, orderBy: [], pageToken: q.pageToken });
    return { experiments: page.items.map(experimentView), ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
  }

  /** By id, or by name when the value is not a number. */
  async getExperiment(ctx: Ctx, ws: string, idOrName: string): Promise<ExperimentView> {
    if (/^\d+$/.test(idOrName)) return experimentView(await this.t.experiments.get(ctx, ws, idOrName));
    return experimentView(await this.t.experiments.getByName(ctx, ws, idOrName));
  }

  private async experimentIds(ctx: Ctx, ws: string, given: string[] | undefined): Promise<string[]> {
    if (given?.length) {
      const out: string[] = [];
      for (const g of given) out.push((await this.getExperiment(ctx, ws, g)).id);
      return out;
    }
    const all = await this.t.experiments.search(ctx, ws, { viewType: 'ALL', maxResults: LIMITS.searchMax, orderBy: [] });
    return all.items.map((e) => e.experimentId);
  }

  async listRuns(ctx: Ctx, ws: string, q: { experiment?: string[]; filter?: string; orderBy?: string[]; view?: ViewType; limit?: number; pageToken?: string }) {
    const experimentIds = await this.experimentIds(ctx, ws, q.experiment);
    const page = await this.t.reads.search(ctx, ws, { experimentIds, filter: q.filter, viewType: q.view ?? 'ACTIVE_ONLY', maxResults: q.limit ?? 100, orderBy: q.orderBy ?? [], pageToken: q.pageToken });
    return { runs: page.items.map(runView), ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
  }

  async getRun(ctx: Ctx, ws: string, runId: string) {
    return runView(await this.t.reads.get(ctx, ws, runId));
  }

  /** Params and latest metrics of several runs side by side: one row per key, one column per run. */
  async compare(ctx: Ctx, ws: string, runIds: string[]) {
    const runs = await this.t.reads.getMany(ctx, ws, runIds);
    if (!runs.length) throw new NotFound('runs');
    const paramKeys = [...new Set(runs.flatMap((r) => r.data.params.map((p) => p.key)))].sort();
    const metricKeys = [...new Set(runs.flatMap((r) => r.data.metrics.map((m) => m.key)))].sort();
    return {
      runs: runs.map((r) => ({ id: r.info.runId, name: r.info.runName, status: r.info.status })),
      params: paramKeys.map((key) => ({ key, values: runs.map((r) => r.data.params.find((p) => p.key === key)?.value ?? null) })),
      metrics: metricKeys.map((key) => ({
        key,
        values: runs.map((r) => {
          const m = r.data.metrics.find((x) => x.key === key);
          return m ? cell(m.value) : null;
        }),
      })),
    };
  }
}
