import type { Format } from '../../datasets/infer.js';
import { fitGradientBoosting } from './boosting.js';
import { collectTable, readRows, splitTable, type ClassValue, type Table } from './data.js';
import { fitLinearRegression, fitLogisticRegression } from './linear.js';
import { classificationMetrics, regressionMetrics, type Metrics } from './metrics.js';
import type { Fit, Prediction, TrainedModel } from './model.js';
import { checkSpec, type Algorithm, type Task, type TrainSpec } from './spec.js';
import { fitDecisionTree, fitRandomForest } from './trees.js';

/**
 * The built-in trainer: tabular data in, an ONNX model out, with no Python
 * anywhere. Features are read as float32 (what the ONNX model takes), the
 * rows are split with a seed, the model is fitted on the training part and
 * measured on the held-out part. Same data + same spec = same bytes.
 */

export { checkSpec, TrainSpecSchema, algorithms, tasks, type TrainSpec } from './spec.js';
export type { Metrics } from './metrics.js';
export type { Prediction } from './model.js';

const fits: Record<Algorithm, Fit> = {
  logistic_regression: fitLogisticRegression,
  linear_regression: fitLinearRegression,
  decision_tree: fitDecisionTree,
  random_forest: fitRandomForest,
  gradient_boosting: fitGradientBoosting,
};

export interface TrainResult {
  algorithm: Algorithm;
  task: Task;
  /** Column order of the model's `input` tensor. */
  features: string[];
  /** Classification: the class values, in the order of the `probabilities` columns. */
  classes?: ClassValue[];
  /** ONNX bytes: input `input` float32 [N, F]; outputs `label` + `probabilities` or `variable`. */
  onnx: Buffer;
  /** Metrics on the held-out rows (on the training rows when testFraction is 0), plus row counts. */
  metrics: Metrics;
  /** The fitted model's own predictions (float64), for rows of feature values in `features` order. */
  predict(x: number[][]): Prediction;
  model: TrainedModel;
}

export const DEFAULT_SEED = 42;
export const DEFAULT_TEST_FRACTION = 0.2;

/** Trains on a table already collected (see trainFromFile for files). */
export function train(rawSpec: TrainSpec, table: Table): TrainResult {
  const spec = checkSpec(rawSpec);
  const seed = spec.seed ?? DEFAULT_SEED;
  const split = splitTable(table, spec.testFraction ?? DEFAULT_TEST_FRACTION, seed);
  const classes = table.classes ?? [];
  const model = fits[spec.algorithm]({ task: spec.task, train: split.train, classes, params: spec.params, seed });
  const test = model.predict(split.test.x);
  const measured = spec.task === 'classification' ? classificationMetrics(split.test.y, test) : regressionMetrics(split.test.y, test);
  return {
    algorithm: spec.algorithm,
    task: spec.task,
    features: [...spec.features],
    classes: table.classes,
    onnx: model.onnx(),
    metrics: { ...measured, train_rows: split.train.y.length, test_rows: split.holdout ? split.test.y.length : 0 },
    predict: (x) => model.predict(x.map((row) => row.map(Math.fround))),
    model,
  };
}

/** Trains on a local CSV, JSONL or Parquet file (format from the extension unless given). */
export async function trainFromFile(path: string, spec: TrainSpec, format?: Format): Promise<TrainResult> {
  const checked = checkSpec(spec);
  const { columns, rows } = await readRows(path, format);
  return train(checked, await collectTable(columns, rows, checked));
}
