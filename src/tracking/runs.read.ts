import type { Authorizer } from '../access/authorizer.js';
import type { Ctx } from '../access/principal.js';
import type { ArtifactStore } from '../artifacts/store.js';
import { Invalid, NotFound } from '../shared/errors.js';
import { artifactKey, pathOfUri } from './artifacts.js';
import type { ExperimentService } from './experiments.js';
import { parseFilter, parseOrderBy } from './filter.js';
import { LIMITS, type Metric, type MetricWithRunId, type Page, type Run, type RunSearch } from './model.js';
import type { HistoryCursor, MetricStore } from './store.metrics.js';
import type { RunStore } from './store.runs.js';
import { checkRunId, decodeToken, encodeToken, isOffsetToken, required } from './validate.js';
import { validatePrefix } from '../artifacts/keys.js';

export interface ArtifactListing {
  rootUri: string;
  files: Array<{ path: string; isDir: boolean; fileSize?: number }>;
}

// The cursor keeps NaN as a string: JSON has no NaN.
const isHistoryToken = (v: unknown): v is { s: number; t: number; v: number | string } =>
  typeof v === 'object' && v !== null && Number.isSafeInteger((v as { s?: unknown }).s) && Number.isSafeInteger((v as { t?: unknown }).t) &&
  (Number.isFinite((v as { v?: unknown }).v) || (v as { v?: unknown }).v === 'NaN');

/** Run reads: get, search, metric history, bulk intervals and artifact listings. Readers need `workspace.read`. */
export class RunReader {
  constructor(
    private readonly authz: Authorizer,
    private readonly runs: RunStore,
    private readonly metrics: MetricStore,
    private readonly experiments: ExperimentService,
    private readonly artifacts: ArtifactStore,
  ) {}

  private async run(ctx: Ctx, workspace: string, rawRunId: unknown) {
    const ws = await this.authz.authorize(ctx, 'workspace.read', workspace);
    const runId = checkRunId(rawRunId);
    const ref = await this.runs.ref(this.runs.db, Number(ws.id), runId);
    if (!ref) throw new NotFound('run', runId);
    return { ws, ref };
  }

  async get(ctx: Ctx, workspace: string, runId: unknown): Promise<Run> {
    const { ref } = await this.run(ctx, workspace, runId);
    return (await this.runs.hydrate([ref]))[0];
  }

  async getMany(ctx: Ctx, workspace: string, runIds: string[]): Promise<Run[]> {
    const ws = await this.authz.authorize(ctx, 'workspace.read', workspace);
    const refs = [];
    for (const id of runIds) {
      const ref = await this.runs.ref(this.runs.db, Number(ws.id), id);
      if (!ref) throw new NotFound('run', id);
      refs.push(ref);
    }
    return this.runs.hydrate(refs);
  }

  async search(ctx: Ctx, workspace: string, q: RunSearch): Promise<Page<Run>> {
    const ws = await this.authz.authorize(ctx, 'workspace.read', workspace);
    const conditions = parseFilter(q.filter);
    const order = parseOrderBy(q.orderBy);
    const offset = decodeToken(q.pageToken, 'page_token', isOffsetToken)?.offset ?? 0;
    const ids: number[] = [];
    for (const raw of q.experimentIds) {
      const id = await this.experiments.resolveId(ws, raw, undefined, 'experiment_ids');
      if (id !== undefined) ids.push(id);
    }
    if (!ids.length) return { items: [] };
    const refs = await this.runs.search(Number(ws.id), { experimentIds: ids, conditions, view: q.viewType, order, offset, limit: q.maxResults + 1 });
    const more = refs.length > q.maxResults;
    const items = await this.runs.hydrate(refs.slice(0, q.maxResults));
    return { items, nextPageToken: more ? encodeToken({ offset: offset + q.maxResults }) : undefined };
  }

  /**
   * A metric's history in step order. Pages are keyset pages over the
   * (run, key, step, timestamp, value) primary key, so page N costs the same
   * as page 1 however long the history.
   */
  async history(ctx: Ctx, workspace: string, runId: unknown, key: string | undefined, maxResults: number | undefined, pageToken: string | undefined): Promise<Page<Metric>> {
    const metricKey = required(key, 'metric_key');
    if (maxResults !== undefined && (!Number.isInteger(maxResults) || maxResults < 1)) throw Invalid.field('max_results', `a positive integer, got ${maxResults}`);
    const tok = decodeToken(pageToken, 'page_token', isHistoryToken);
    const { ref } = await this.run(ctx, workspace, runId);
    const after: HistoryCursor | undefined = tok && { step: tok.s, timestamp: tok.t, value: tok.v === 'NaN' ? NaN : Number(tok.v) };
    const rows = await this.metrics.history(ref.pk, metricKey, after, maxResults === undefined ? undefined : maxResults + 1);
    if (maxResults === undefined || rows.length <= maxResults) return { items: rows };
    const items = rows.slice(0, maxResults);
    const last = items[items.length - 1];
    return { items, nextPageToken: encodeToken({ s: last.step, t: last.timestamp, v: Number.isNaN(last.value) ? 'NaN' : last.value }) };
  }

  /**
   * MLflow's sampled history across runs: the distinct steps in range, thinned
   * evenly to `max_results` keeping the first and last, then every run's
   * points at those steps.
   */
  async bulkInterval(ctx: Ctx, workspace: string, q: { runIds: string[]; metricKey?: string; startStep?: number; endStep?: number; maxResults?: number }): Promise<MetricWithRunId[]> {
    if (!q.runIds.length) throw Invalid.field('run_ids', 'at least one run_id is required');
    if (q.runIds.length > LIMITS.bulkIntervalRuns) throw Invalid.field('run_ids', `at most ${LIMITS.bulkIntervalRuns} run_ids, got ${q.runIds.length}`);
    const key = required(q.metricKey, 'metric_key');
    if ((q.startStep === undefined) !== (q.endStep === undefined)) throw Invalid.field('start_step', 'if either start_step or end_step is given, both must be');
    if (q.startStep !== undefined && q.startStep > q.endStep!) throw Invalid.field('end_step', `end_step must be at least start_step (${q.startStep}), got ${q.endStep}`);
    const max = q.maxResults ?? LIMITS.bulkIntervalDefault;
    if (!Number.isInteger(max) || max < 1) throw Invalid.field('max_results', `a positive integer, got ${max}`);
    if (max > LIMITS.bulkIntervalDefault) throw Invalid.field('max_results', `at most ${LIMITS.bulkIntervalDefault}, got ${max}`);
    const ws = await this.authz.authorize(ctx, 'workspace.read', workspace);
    const pks = await this.runs.pks(Number(ws.id), q.runIds);
    const runs = q.runIds.map((runId) => {
      const pk = pks.get(runId);
      if (pk === undefined) throw new NotFound('run', runId);
      return { pk, runId };
    });
    const range = q.startStep === undefined ? undefined : { start: q.startStep, end: q.endStep! };
    const steps = sampleSteps(await this.metrics.steps(runs.map((r) => r.pk), key, range), max);
    return this.metrics.atSteps(runs, key, steps);
  }

  /** The run's artifacts directly under `path` (MLflow's artifacts/list), paths relative to the run root. */
  async listArtifacts(ctx: Ctx, workspace: string, runId: unknown, path: string | undefined): Promise<ArtifactListing> {
    const { ref } = await this.run(ctx, workspace, runId);
    const rootUri = ref.info.artifactUri;
    const root = pathOfUri(rootUri);
    if (root === null) return { rootUri, files: [] };
    const sub = validatePrefix(path ?? '');
    const base = artifactKey(root);
    const entries = await this.artifacts.list(sub ? `${base}/${sub}` : base);
    const files = entries.map((e) => {
      const rel = e.key.slice(base.length + 1);
      return e.isDir ? { path: rel, isDir: true } : { path: rel, isDir: false, fileSize: e.size };
    });
    return { rootUri, files };
  }
}

/** Evenly spaced steps from a sorted list, always keeping the first and the last. */
export function sampleSteps(steps: number[], max: number): number[] {
  if (steps.length <= max) return steps;
  if (max === 1) return [steps[0]];
  const out = new Set<number>();
  for (let i = 0; i < max; i++) out.add(steps[Math.round((i * (steps.length - 1)) / (max - 1))]);
  return [...out];
}
