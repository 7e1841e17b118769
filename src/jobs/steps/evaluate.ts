import { Tensor } from 'onnxruntime-node';
import type { Value } from '../../datasets/infer.js';
import { Invalid } from '../../shared/errors.js';
import { regressionMetrics } from '../trainer/metrics.js';
import { dataset, logDatasetInput, modelSession, modelVersion, str, tagOf } from './inputs.js';
import { classification } from './metrics.js';
import { TRAIN_TAGS } from './train.js';
import type { StepContext, StepOutputs } from './index.js';

/** Version tags holding evaluation results: `slipway.metrics.<name>` and the dataset they were measured on. */
export const METRIC_TAG = 'slipway.metrics.';
export const METRIC_DATASET_TAG = 'slipway.metrics.dataset';

function json<T>(text: string | undefined, field: string): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw Invalid.field(field, `JSON in the version tag; got '${text}'`);
  }
}

const classKey = (v: Value) => (typeof v === 'boolean' ? String(Number(v)) : String(v));

/**
 * `evaluate`: a model version's metrics on a labelled dataset version, the
 * ONNX graph run in onnxruntime. Classifiers: accuracy, precision, recall,
 * F1, ROC AUC, log loss; regressors: MAE, RMSE, R². Stored on the version as
 * tags `slipway.metrics.<name>` (what `compare` reads and `model show` lists).
 */
export async function evaluateStep(s: StepContext): Promise<StepOutputs> {
  const v = await modelVersion(s, str(s, 'model'), 'with.model');
  const data = await dataset(s, 'dataset');
  const features = (s.with.features as string[] | undefined) ?? json<string[]>(tagOf(v, TRAIN_TAGS.features), 'features');
  const label = (s.with.label as string | undefined) ?? tagOf(v, TRAIN_TAGS.label);
  const task = (s.with.task as string | undefined) ?? tagOf(v, TRAIN_TAGS.task);
  if (!Array.isArray(features) || !features.length) throw Invalid.field('with.features', `the model's input columns in order (or a version trained by the train step, tagged ${TRAIN_TAGS.features})`);
  if (!label) throw Invalid.field('with.label', 'the column holding the true values');
  if (task !== 'classification' && task !== 'regression') throw Invalid.field('with.task', "'classification' or 'regression'");
  const x: number[] = [];
  const truth: Value[] = [];
  let n = 0;
  for await (const row of data.rows()) {
    n++;
    for (const f of features) {
      const val = row[f];
      const num = typeof val === 'boolean' ? Number(val) : val;
      if (typeof num !== 'number' || !Number.isFinite(num)) throw Invalid.field('with.dataset', `a number in every feature; row ${n} has ${val === null ? 'none' : JSON.stringify(val)} in '${f}'`);
      x.push(num);
    }
    if (row[label] === null || row[label] === undefined) throw Invalid.field('with.dataset', `a value in '${label}' in every row; row ${n} has none`);
    truth.push(row[label]);
  }
  if (!n) throw Invalid.field('with.dataset', 'at least one row');
  const session = await modelSession(s, v);
  const out = await session.run({ [session.inputNames[0]]: new Tensor('float32', Float32Array.from(x), [n, features.length]) });
  let metrics: Record<string, number>;
  if (task === 'regression') {
    const values = Array.from(out[session.outputNames.find((o) => o === 'variable') ?? session.outputNames[0]].data as Float32Array, Number);
    metrics = regressionMetrics(truth.map(Number), { values });
  } else {
    const classes = json<Array<string | number>>(tagOf(v, TRAIN_TAGS.classes), 'classes') ?? (s.with.classes as Array<string | number> | undefined);
    if (!classes) throw Invalid.field('with.classes', `the class values in the order of the probabilities (or a version tagged ${TRAIN_TAGS.classes})`);
    const index = new Map(classes.map((c, i) => [classKey(c), i]));
    const y = truth.map((t, i) => {
      const k = index.get(classKey(t));
      if (k === undefined) throw Invalid.field('with.dataset', `labels among the model's classes (${classes.join(', ')}); row ${i + 1} has ${JSON.stringify(t)}`);
      return k;
    });
    const labels = Array.from(out.label.data as ArrayLike<unknown>, (l) => index.get(classKey(typeof l === 'bigint' ? Number(l) : (l as Value)))!);
    const p = out.probabilities.data as Float32Array;
    const k = classes.length;
    const probs = Array.from({ length: n }, (_, i) => Array.from(p.subarray(i * k, (i + 1) * k), Number));
    metrics = classification(y, labels, probs, k);
  }
  await session.release();
  for (const [name, value] of Object.entries(metrics)) {
    s.log(`${name} = ${value}`);
    await s.deps.registry.versions.setTag(s.ctx, s.workspace, v.name, v.version, METRIC_TAG + name, String(value));
  }
  await s.deps.registry.versions.setTag(s.ctx, s.workspace, v.name, v.version, METRIC_DATASET_TAG, data.meta.uri);
  await logDatasetInput(s, data, 'evaluation');
  if (s.job.run_id) {
    const now = Date.now();
    await s.deps.tracking.runs.logBatch(s.ctx, s.workspace, s.job.run_id, { metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp: now, step: 0 })), params: [{ key: 'model', value: `models:/${v.name}/${v.version}` }, { key: 'dataset', value: data.meta.uri }], tags: [] });
  }
  return { model: `models:/${v.name}/${v.version}`, dataset: data.meta.uri, rows: n, ...metrics };
}
