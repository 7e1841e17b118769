import { classifierOnnx, regressorOnnx, treeScores, type ExportTree } from './export.js';
import { seededRandom } from './data.js';
import { classify, marginProbabilities, type Fit } from './model.js';
import { readParams } from './spec.js';
import { exportTree, newRegressionTree } from './trees.js';

/**
 * Gradient boosting over ml-cart regression trees (npm has no maintained
 * pure-JS gradient-boosting package): each round fits a tree to the
 * negative gradient of the loss (the residuals) and adds it, shrunk by the
 * learning rate. Squared error for regression; log-loss (one margin, sigmoid)
 * for two classes; softmax with one tree per class and round for more.
 * With `subsample` < 1 each round fits on a seeded share of the rows.
 */

interface Round {
  /** The target (margin) the tree adds to. */
  target: number;
  tree: ReturnType<typeof newRegressionTree>;
}

interface Boosted {
  base: number[];
  rounds: Round[];
  rate: number;
}

function margins(m: Boosted, x: number[][]): number[][] {
  const out = x.map(() => [...m.base]);
  for (const { target, tree } of m.rounds) {
    const step = tree.predict(x);
    for (let i = 0; i < x.length; i++) out[i][target] += m.rate * step[i];
  }
  return out;
}

/** Starting margins: the mean (regression), the log-odds (two classes) or the log-priors (more). */
function initialMargins(y: number[], classes: number): number[] {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  if (classes === 0) return [mean(y)];
  const prior = (c: number) => Math.min(Math.max(mean(y.map((v) => Number(v === c))), 1e-6), 1 - 1e-6);
  if (classes === 2) return [Math.log(prior(1) / (1 - prior(1)))];
  return Array.from({ length: classes }, (_, c) => Math.log(prior(c)));
}

/** Negative gradient of the loss for target k at row i. */
function residual(y: number, margin: number[], k: number, classes: number): number {
  if (classes === 0) return y - margin[0];
  const p = marginProbabilities(margin);
  return classes === 2 ? Number(y === 1) - p[1] : Number(y === k) - p[k];
}

/** A seeded sample of `size` row indices without replacement, in row order. */
function sampleRows(n: number, size: number, random: () => number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(random() * (n - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, size).sort((a, b) => a - b);
}

export const fitGradientBoosting: Fit = ({ task, train, classes, params, seed }) => {
  const p = readParams(params, {
    nEstimators: { default: 50, min: 1, max: 2000, integer: true },
    learningRate: { default: 0.1, min: Number.MIN_VALUE, max: 1 },
    maxDepth: { default: 3, min: 1, max: 32, integer: true },
    minSamples: { default: 3, min: 1, integer: true },
    subsample: { default: 1, min: Number.MIN_VALUE, max: 1 },
  });
  const C = task === 'regression' ? 0 : classes.length;
  const targets = C > 2 ? C : 1;
  const m: Boosted = { base: initialMargins(train.y, C), rounds: [], rate: p.learningRate };
  const current = train.x.map(() => [...m.base]);
  // Stochastic boosting: each round fits on a share of the rows, which also cuts ml-cart's quadratic cost.
  const n = train.y.length;
  const size = Math.max(2, Math.round(n * p.subsample));
  const random = seededRandom(seed);
  for (let round = 0; round < p.nEstimators; round++) {
    // All targets of a round see the margins as they were when the round began, as the softmax gradient asks.
    const snapshot = current.map((row) => [...row]);
    const rows = size < n ? sampleRows(n, size, random) : undefined;
    for (let k = 0; k < targets; k++) {
      const tree = newRegressionTree({ maxDepth: p.maxDepth, minNumSamples: p.minSamples });
      const gradient = train.y.map((y, i) => residual(y, snapshot[i], k, C));
      tree.train(rows ? rows.map((i) => train.x[i]) : train.x, rows ? rows.map((i) => gradient[i]) : gradient);
      const step = tree.predict(train.x);
      for (let i = 0; i < step.length; i++) current[i][k] += m.rate * step[i];
      m.rounds.push({ target: k, tree });
    }
  }
  const features = train.x[0].length;
  const trees: ExportTree[] = m.rounds.map(({ target, tree }) => exportTree(tree.root, undefined, (d) => ({ leaf: [[target, m.rate * (d as number)]] })));
  const scores = () => treeScores(trees, targets, m.base);
  if (C === 0) {
    return {
      predict: (x) => ({ values: margins(m, x).map((r) => r[0]) }),
      onnx: () => regressorOnnx(scores(), features, 'GradientBoostingRegressor'),
    };
  }
  return {
    predict: (x) => classify(margins(m, x).map(marginProbabilities)),
    onnx: () => classifierOnnx(scores(), C === 2 ? 'sigmoid' : 'softmax', classes, features, 'GradientBoostingClassifier'),
  };
};
