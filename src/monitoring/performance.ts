/**
 * Model performance from ground truth: binary classification metrics (as
 * scikit-learn computes them, positive class 1) and regression errors; and,
 * without labels, NannyML's confidence-based performance estimation (CBPE)
 * for calibrated binary classifiers.
 */

export interface Classification {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number | null;
}

/** sklearn's zero_division=0 convention for empty denominators. */
const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

function fromConfusion(tp: number, fp: number, fn: number, tn: number): Omit<Classification, 'rocAuc'> {
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  return { accuracy: ratio(tp + tn, tp + fp + fn + tn), precision, recall, f1: ratio(2 * precision * recall, precision + recall) };
}

/** labels in {0, 1}; scores are the positive class's probability; predicted = score >= threshold. */
export function classification(labels: number[], scores: number[], threshold: number): Classification {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = scores[i] >= threshold;
    if (labels[i] === 1) p ? tp++ : fn++;
    else p ? fp++ : tn++;
  }
  return { ...fromConfusion(tp, fp, fn, tn), rocAuc: rocAuc(labels, scores) };
}

/**
 * ROC AUC as the Mann–Whitney statistic with tied scores at their average
 * rank — equal to sklearn's roc_auc_score (trapezoids over distinct
 * thresholds). Null when only one class is present (sklearn raises).
 */
export function rocAuc(labels: number[], scores: number[]): number | null {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]] === 1) {
        positives++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (!positives || !negatives) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function regression(actual: number[], predicted: number[]): { mae: number; rmse: number } {
  let abs = 0;
  let sq = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = predicted[i] - actual[i];
    abs += Math.abs(d);
    sq += d * d;
  }
  return { mae: abs / actual.length, rmse: Math.sqrt(sq / actual.length) };
}

/**
 * CBPE: with calibrated scores, a row predicted positive is a true positive
 * with probability p and a false positive with 1 − p (and likewise for the
 * predicted negatives), so the expected confusion matrix, and the metrics
 * from it, follow from the scores alone.
 */
export function estimatedClassification(scores: number[], threshold: number): Omit<Classification, 'rocAuc'> {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const p of scores) {
    if (p >= threshold) {
      tp += p;
      fp += 1 - p;
    } else {
      fn += p;
      tn += 1 - p;
    }
  }
  return fromConfusion(tp, fp, fn, tn);
}
