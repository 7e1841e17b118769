import { Matrix, solve } from 'ml-matrix';
import MultivariateLinearRegression from 'ml-regression-multivariate-linear';
import { classifierOnnx, linearScores, regressorOnnx } from './export.js';
import { classify, marginProbabilities, type Fit } from './model.js';
import { readParams } from './spec.js';

/**
 * Linear models. Linear regression is ml-regression-multivariate-linear
 * (least squares with an intercept, through ml-matrix's SVD). Logistic
 * regression is fitted here, by Newton's method on ml-matrix: the npm
 * package of that name has no intercept, no probabilities and a fixed-step
 * gradient descent, so its predictions would be neither good nor exportable.
 */

export const fitLinearRegression: Fit = ({ train, params }) => {
  readParams(params, {});
  const mlr = new MultivariateLinearRegression(train.x, train.y.map((v) => [v]), { intercept: true, statistics: false });
  const features = train.x[0].length;
  const coef = mlr.weights.slice(0, features).map((w) => [w[0]]);
  const intercept = mlr.weights[features][0];
  return {
    native: mlr,
    predict: (x) => ({ values: (mlr.predict(x) as number[][]).map((r) => r[0]) }),
    onnx: () => regressorOnnx(linearScores(coef, [intercept]), features, 'LinearRegression'),
  };
};

/** Weights [F, K] and intercepts [K]: K = 1 (binary, sigmoid) or K = classes (softmax). */
interface Logistic {
  w: number[][];
  b: number[];
}

function scoresOf(m: Logistic, row: readonly number[]): number[] {
  return m.b.map((b, k) => row.reduce((s, v, f) => s + v * m.w[f][k], b));
}

function probabilitiesOf(m: Logistic, row: readonly number[]): number[] {
  return marginProbabilities(scoresOf(m, row));
}

export const fitLogisticRegression: Fit = ({ train, classes, params }) => {
  const p = readParams(params, {
    l2: { default: 1, min: 0 },
    maxIterations: { default: 100, min: 1, max: 10000, integer: true },
  });
  const m = newton(train.x, train.y, classes.length, p.l2, p.maxIterations);
  const features = train.x[0].length;
  return {
    predict: (x) => classify(x.map((row) => probabilitiesOf(m, row))),
    onnx: () => classifierOnnx(linearScores(m.w, m.b), m.b.length === 1 ? 'sigmoid' : 'softmax', classes, features, 'LogisticRegression'),
  };
};

/** Penalised negative log-likelihood: Σ −log p(yᵢ) + l2/2 · ‖w‖² (intercepts unpenalised, as scikit-learn). */
function loss(m: Logistic, x: number[][], y: number[], l2: number): number {
  let total = 0;
  for (let i = 0; i < x.length; i++) total -= Math.log(Math.max(probabilitiesOf(m, x[i])[y[i]], 1e-300));
  for (const row of m.w) for (const v of row) total += (l2 / 2) * v * v;
  return total;
}

/**
 * Newton's method with step halving. Parameters are laid out per target k
 * as [w₀ₖ … w_F−1,ₖ, bₖ]; the Hessian of the softmax loss has blocks
 * Aᵀ diag(pⱼ(δⱼₖ − pₖ)) A over A = [X 1]. A tiny ridge keeps the solve
 * defined along softmax's flat direction (all intercepts moved together).
 */
function newton(x: number[][], y: number[], classes: number, l2: number, maxIterations: number): Logistic {
  const F = x[0].length;
  const K = classes === 2 ? 1 : classes;
  const D = F + 1;
  let m: Logistic = { w: Array.from({ length: F }, () => new Array(K).fill(0)), b: new Array(K).fill(0) };
  let current = loss(m, x, y, l2);
  for (let iter = 0; iter < maxIterations; iter++) {
    const grad = new Array(K * D).fill(0);
    const hess = Array.from({ length: K * D }, () => new Array<number>(K * D).fill(0));
    for (let i = 0; i < x.length; i++) {
      const a = [...x[i], 1];
      const probs = probabilitiesOf(m, x[i]);
      const pk = K === 1 ? [probs[1]] : probs;
      for (let j = 0; j < K; j++) {
        const target = K === 1 ? Number(y[i] === 1) : Number(y[i] === j);
        for (let d = 0; d < D; d++) grad[j * D + d] += (pk[j] - target) * a[d];
        for (let k = 0; k < K; k++) {
          const h = pk[j] * ((j === k ? 1 : 0) - pk[k]);
          if (h === 0) continue;
          for (let d = 0; d < D; d++) {
            const row = hess[j * D + d];
            for (let e = 0; e < D; e++) row[k * D + e] += h * a[d] * a[e];
          }
        }
      }
    }
    for (let j = 0; j < K; j++) {
      for (let f = 0; f < F; f++) {
        grad[j * D + f] += l2 * m.w[f][j];
        hess[j * D + f][j * D + f] += l2;
      }
    }
    for (let d = 0; d < K * D; d++) hess[d][d] += 1e-9 * (1 + hess[d][d]);
    const step = solve(new Matrix(hess), Matrix.columnVector(grad)).to1DArray();
    let scale = 1;
    let accepted = false;
    for (let halvings = 0; halvings < 40 && !accepted; halvings++, scale /= 2) {
      const next: Logistic = {
        w: m.w.map((row, f) => row.map((v, j) => v - scale * step[j * D + f])),
        b: m.b.map((v, j) => v - scale * step[j * D + F]),
      };
      const l = loss(next, x, y, l2);
      if (l <= current) {
        accepted = true;
        const done = current - l <= 1e-12 * Math.max(1, Math.abs(current));
        m = next;
        current = l;
        if (done) return m;
      }
    }
    if (!accepted) return m;
  }
  return m;
}
