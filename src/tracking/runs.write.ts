import { randomBytes, randomInt } from 'node:crypto';
import type { Authorizer } from '../access/authorizer.js';
import type { Ctx } from '../access/principal.js';
import type { WorkspaceRow } from '../access/tables.js';
import { Invalid, NotFound } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import type { ExperimentService } from './experiments.js';
import { LIMITS, LOGGED_MODELS_TAG, RUN_NAME_TAG, type DatasetInput, type KeyValue, type LogBatch, type RunInfo, type RunStatus } from './model.js';
import type { ExperimentStore } from './store.experiments.js';
import type { MetricStore } from './store.metrics.js';
import type { RunRef, RunStore } from './store.runs.js';
import { checkKey, checkParams, checkRunId, checkTags, checkValue, required } from './validate.js';

const ADJECTIVES = ['bold', 'brave', 'calm', 'clever', 'crisp', 'eager', 'gentle', 'lucky', 'merry', 'nimble', 'proud', 'quick', 'sharp', 'shiny', 'silent', 'sunny', 'swift', 'tidy', 'vivid', 'wise'];
const NOUNS = ['ant', 'bass', 'bear', 'crane', 'deer', 'finch', 'fox', 'gull', 'hare', 'hawk', 'lynx', 'mole', 'newt', 'owl', 'ram', 'seal', 'stork', 'toad', 'vole', 'wren'];

/** MLflow names unnamed runs `<adjective>-<animal>-<number>`. */
function randomRunName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
}

export interface CreateRunInput {
  experimentId?: unknown;
  userId?: string;
  runName?: string;
  startTime?: number;
  tags: KeyValue[];
}

/** Run writes: each call authorizes `tracking.write`, changes one run in one transaction and appends one audit record. */
export class RunWriter {
  constructor(
    private readonly authz: Authorizer,
    private readonly runs: RunStore,
    private readonly metrics: MetricStore,
    private readonly experiments: ExperimentStore,
    private readonly experimentService: ExperimentService,
  ) {}

  async create(ctx: Ctx, workspace: string, input: CreateRunInput): Promise<RunRef & { tags: KeyValue[] }> {
    const tags = checkTags(input.tags);
    const tagName = tags.find((t) => t.key === RUN_NAME_TAG)?.value;
    if (input.runName && tagName && input.runName !== tagName) {
      throw Invalid.field('run_name', `both 'run_name' ('${input.runName}') and the '${RUN_NAME_TAG}' tag ('${tagName}') are given, with different values`);
    }
    const name = checkValue(input.runName || tagName || randomRunName(), 'run_name', LIMITS.nameLength);
    const runUuid = randomBytes(16).toString('hex');
    return this.authz.mutate(ctx, { action: 'tracking.write', workspace, target: `run/${runUuid}` }, async (tx, ws) => {
      const expId = await this.experimentFor(tx, ws!, input.experimentId);
      const exp = await this.experiments.lock(tx, Number(ws!.id), expId);
      if (!exp) throw new NotFound('experiment', String(input.experimentId));
      if (exp.lifecycle_stage !== 'active') throw Invalid.field('experiment_id', `the experiment ${expId} must be in the 'active' state`);
      const info: RunInfo = {
        runId: runUuid,
        experimentId: String(expId),
        runName: name,
        userId: input.userId ?? '',
        status: 'RUNNING',
        startTime: input.startTime ?? Date.now(),
        endTime: null,
        artifactUri: `${exp.artifact_location}/${runUuid}/artifacts`,
        lifecycleStage: 'active',
      };
      const pk = await this.runs.insert(tx, { runUuid, experimentId: expId, name, userId: info.userId, status: info.status, startTime: info.startTime, artifactUri: info.artifactUri });
      const allTags = [...tags.filter((t) => t.key !== RUN_NAME_TAG), { key: RUN_NAME_TAG, value: name }];
      await this.runs.setTags(tx, pk, allTags);
      return { pk, info, tags: allTags };
    });
  }

  private async experimentFor(tx: Db, ws: WorkspaceRow, raw: unknown): Promise<number> {
    const id = await this.experimentService.resolveId(ws, raw ?? '0', tx);
    if (id !== undefined) return id;
    return this.experimentService.ensureDefault(tx, ws);
  }

  /**
   * Runs `change` on a run of the workspace, locked, with one audit record.
   * Writes to a deleted run are refused unless `allowDeleted` (restore).
   */
  private onRun<T>(ctx: Ctx, workspace: string, rawRunId: unknown, audit: { detail?: Record<string, unknown>; lock?: 'update' | 'share' }, change: (tx: Db, run: RunRef) => Promise<T>, allowDeleted = false): Promise<T> {
    const runId = checkRunId(rawRunId);
    return this.authz.mutate(ctx, { action: 'tracking.write', workspace, target: `run/${runId}`, detail: audit.detail }, async (tx, ws) => {
      const run = await this.runs.ref(tx, Number(ws!.id), runId, audit.lock ?? 'update');
      if (!run) throw new NotFound('run', runId);
      if (!allowDeleted && run.info.lifecycleStage !== 'active') throw Invalid.field('run_id', `the run ${runId} must be in the 'active' state; its current state is ${run.info.lifecycleStage}`);
      return change(tx, run);
    });
  }

  async update(ctx: Ctx, workspace: string, runId: unknown, set: { status?: RunStatus; endTime?: number; runName?: string }): Promise<RunInfo> {
    if (set.runName) checkValue(set.runName, 'run_name', LIMITS.nameLength);
    return this.onRun(ctx, workspace, runId, { detail: { ...set } }, async (tx, run) => {
      const info = { ...run.info };
      if (set.status) info.status = set.status;
      if (set.endTime !== undefined) info.endTime = set.endTime;
      if (set.runName) info.runName = set.runName;
      await this.runs.update(tx, run.pk, {
        ...(set.status ? { status: set.status } : {}),
        ...(set.endTime !== undefined ? { end_time: set.endTime } : {}),
        ...(set.runName ? { name: set.runName } : {}),
      });
      if (set.runName) await this.runs.setTags(tx, run.pk, [{ key: RUN_NAME_TAG, value: set.runName }]);
      return info;
    });
  }

  async setLifecycle(ctx: Ctx, workspace: string, runId: unknown, stage: 'active' | 'deleted'): Promise<void> {
    await this.onRun(ctx, workspace, runId, { detail: { lifecycle: stage } }, async (tx, run) => {
      if (stage === 'active' && run.info.lifecycleStage === 'active') return; // restoring an active run is a no-op, as in MLflow
      await this.runs.update(tx, run.pk, { lifecycle_stage: stage, deleted_time: stage === 'deleted' ? Date.now() : null });
    }, true);
  }

  /**
   * The batch primitive every single write goes through (log-metric,
   * log-parameter and set-tag are batches of one), like MLflow's log_batch.
   */
  async logBatch(ctx: Ctx, workspace: string, runId: unknown, batch: LogBatch): Promise<void> {
    checkBatchLimits(batch);
    const params = checkParams(batch.params);
    const tags = checkTags(batch.tags);
    const metricKeys = new Set<string>();
    for (let i = 0; i < batch.metrics.length; i++) {
      const key = batch.metrics[i].key;
      if (!metricKeys.has(key)) metricKeys.add(checkKey(key, `metrics[${i}].key`));
    }
    const seen = new Set<string>();
    const dup = params.filter((p) => (seen.has(p.key) ? true : (seen.add(p.key), false))).map((p) => p.key);
    if (dup.length) throw Invalid.field('params', `duplicate parameter keys have been submitted: ${[...new Set(dup)].join(', ')}; send one value per key`);
    const detail = { metrics: batch.metrics.length, params: params.length, tags: tags.length };
    // Metrics alone cannot conflict (points are idempotent, the latest-value
    // upsert is atomic), so such batches share the run; params and tags
    // (read-then-write rules) take it exclusively.
    const lock = params.length || tags.length ? 'update' : 'share';
    await this.onRun(ctx, workspace, runId, { detail, lock }, async (tx, run) => {
      await this.checkParamsUnchanged(tx, run, params);
      await this.metrics.insert(tx, run.pk, batch.metrics);
      await this.runs.insertParams(tx, run.pk, params);
      await this.runs.setTags(tx, run.pk, tags);
      const name = tags.filter((t) => t.key === RUN_NAME_TAG).pop();
      if (name) await this.runs.update(tx, run.pk, { name: name.value });
    });
  }

  /** A logged param is immutable: the same value again is fine, a different one is refused. */
  private async checkParamsUnchanged(tx: Db, run: RunRef, params: KeyValue[]) {
    if (!params.length) return;
    const existing = await this.runs.params(tx, run.pk, params.map((p) => p.key));
    for (const p of params) {
      const old = existing.get(p.key);
      if (old !== undefined && old !== p.value) {
        throw Invalid.field(
          'params',
          `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${old}' for run ID='${run.info.runId}'. Attempted logging new value '${p.value}'.`,
        );
      }
    }
  }

  async deleteTag(ctx: Ctx, workspace: string, runId: unknown, key: unknown): Promise<void> {
    const k = required(key as string, 'key');
    await this.onRun(ctx, workspace, runId, { detail: { tag: k } }, async (tx, run) => {
      if (!(await this.runs.deleteTag(tx, run.pk, k))) throw new NotFound(`tag '${k}' in run`, run.info.runId);
    });
  }

  async logInputs(ctx: Ctx, workspace: string, runId: unknown, datasets: DatasetInput[], modelIds: string[]): Promise<void> {
    await this.onRun(ctx, workspace, runId, { detail: { datasets: datasets.length, models: modelIds.length } }, async (tx, run) => {
      await this.runs.addDatasetInputs(tx, run.pk, datasets);
      await this.runs.addModelInputs(tx, run.pk, modelIds);
    });
  }

  /** Appends an MLmodel (as JSON) to the run's `mlflow.log-model.history` tag, as MLflow 2.x does. */
  async logModel(ctx: Ctx, workspace: string, runId: unknown, model: Record<string, unknown>): Promise<void> {
    await this.onRun(ctx, workspace, runId, { detail: { artifactPath: model.artifact_path } }, async (tx, run) => {
      const prev = await this.runs.tag(tx, run.pk, LOGGED_MODELS_TAG);
      let history: unknown[] = [];
      try {
        history = prev ? (JSON.parse(prev) as unknown[]) : [];
      } catch {
        history = [];
      }
      if (!Array.isArray(history)) history = [];
      history.push(model);
      await this.runs.setTags(tx, run.pk, [{ key: LOGGED_MODELS_TAG, value: JSON.stringify(history) }]);
    });
  }
}

export function checkBatchLimits(b: LogBatch) {
  const n = b.metrics.length + b.params.length + b.tags.length;
  if (b.metrics.length > LIMITS.batchMetrics) throw Invalid.field('metrics', `a batch logging request can contain at most ${LIMITS.batchMetrics} metrics, got ${b.metrics.length}; split them across requests`);
  if (b.params.length > LIMITS.batchParams) throw Invalid.field('params', `a batch logging request can contain at most ${LIMITS.batchParams} params, got ${b.params.length}; split them across requests`);
  if (b.tags.length > LIMITS.batchTags) throw Invalid.field('tags', `a batch logging request can contain at most ${LIMITS.batchTags} tags, got ${b.tags.length}; split them across requests`);
  if (n > LIMITS.batchTotal) throw Invalid.field('metrics', `a batch logging request can contain at most ${LIMITS.batchTotal} metrics, params and tags in total, got ${n}`);
}
