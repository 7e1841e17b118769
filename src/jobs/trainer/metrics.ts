import type { Prediction } from './model.js';

/** Holdout metrics: what `evaluate` will also report, named as MLflow and scikit-learn name them. */
export type Metrics = Record<string, number>;

export function classificationMetrics(y: number[], p: Prediction): Metrics {
  const labels = p.labels!;
  const probs = p.probabilities!;
  let correct = 0;
  let logLoss = 0;
  for (let i = 0; i < y.length; i++) {
    if (labels[i] === y[i]) correct++;
    // Clipped as scikit-learn clips, so one confident mistake costs a lot but not infinity.
    logLoss -= Math.log(Math.min(Math.max(probs[i][y[i]], 1e-15), 1 - 1e-15));
  }
  return { accuracy: correct / y.length, log_loss: logLoss / y.length };
}

export function regressionMetrics(y: number[], p: Prediction): Metrics {
  const values = p.values!;
  const n = y.length;
  const mean = y.reduce((a, v) => a + v, 0) / n;
  let abs = 0;
  let sq = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const e = y[i] - values[i];
    abs += Math.abs(e);
    sq += e * e;
    total += (y[i] - mean) ** 2;
  }
  return { mae: abs / n, rmse: Math.sqrt(sq / n), r2: total === 0 ? 0 : 1 - sq / total };
}
