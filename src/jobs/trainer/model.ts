import type { ClassValue, Table } from './data.js';
import type { Params, Task } from './spec.js';

/** What a trained model answers for rows of float32 feature values, in float64, before any export. */
export interface Prediction {
  /** Classification: the index into the classes of the first most probable class, per row. */
  labels?: number[];
  /** Classification: one probability per class, per row. */
  probabilities?: number[][];
  /** Regression: the predicted value, per row. */
  values?: number[];
}

export interface TrainedModel {
  /** The library's own fitted object, when a library fitted the model (tests compare against its predictions). */
  native?: unknown;
  predict(x: number[][]): Prediction;
  /** The ONNX bytes computing the same predictions in float32. */
  onnx(): Buffer;
}

/** Everything an algorithm needs to fit: the training rows and how to read its parameters. */
export interface FitInput {
  task: Task;
  train: Table;
  classes: ClassValue[];
  params: Params | undefined;
  seed: number;
}

export type Fit = (input: FitInput) => TrainedModel;

/** Index of the first largest value: the tie rule of ONNX ArgMax (select_last_index = 0). */
export function argmax(row: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** Probabilities → labels, with ONNX's tie rule. */
export function classify(probabilities: number[][]): Prediction {
  return { probabilities, labels: probabilities.map(argmax) };
}

/** Margins → probabilities: one margin is a binary sigmoid (the second class's log-odds), more are a softmax. */
export function marginProbabilities(margin: readonly number[]): number[] {
  if (margin.length === 1) {
    const p1 = 1 / (1 + Math.exp(-margin[0]));
    return [1 - p1, p1];
  }
  const top = Math.max(...margin);
  const e = margin.map((v) => Math.exp(v - top));
  const sum = e.reduce((a, v) => a + v, 0);
  return e.map((v) => v / sum);
}
