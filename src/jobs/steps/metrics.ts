/**
 * Classification metrics of `evaluate`, named as scikit-learn names them:
 * binary problems take the second class as positive; more classes are
 * macro-averaged (ROC AUC one-vs-rest).
 */
export function classification(y: number[], labels: number[], probs: number[][], k: number): Record<string, number> {
  const n = y.length;
  let correct = 0;
  let logLoss = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] === y[i]) correct++;
    logLoss -= Math.log(Math.min(Math.max(probs[i][y[i]], 1e-15), 1 - 1e-15));
  }
  const positives = k === 2 ? [1] : Array.from({ length: k }, (_, c) => c);
  const per = positives.map((c) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < n; i++) {
      if (labels[i] === c && y[i] === c) tp++;
      else if (labels[i] === c) fp++;
      else if (y[i] === c) fn++;
    }
    const precision = tp + fp ? tp / (tp + fp) : 0;
    const recall = tp + fn ? tp / (tp + fn) : 0;
    return { precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, auc: rocAuc(y.map((v) => v === c), probs.map((p) => p[c])) };
  });
  const mean = (f: (x: (typeof per)[number]) => number) => per.reduce((a, x) => a + f(x), 0) / per.length;
  return { accuracy: correct / n, precision: mean((x) => x.precision), recall: mean((x) => x.recall), f1: mean((x) => x.f1), roc_auc: mean((x) => x.auc), log_loss: logLoss / n };
}

/** Area under the ROC curve as the Mann-Whitney statistic (ties count half); 0.5 when one side is empty. */
export function rocAuc(positive: boolean[], score: number[]): number {
  const order = score.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(score.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let t = i; t <= j; t++) ranks[order[t][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  const nPos = positive.filter(Boolean).length;
  const nNeg = positive.length - nPos;
  if (!nPos || !nNeg) return 0.5;
  const sum = positive.reduce((a, p, i) => a + (p ? ranks[i] : 0), 0);
  return (sum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Metrics where lower is better; the rest are better higher. */
export const LOWER_IS_BETTER = new Set(['log_loss', 'mae', 'rmse', 'mse']);
