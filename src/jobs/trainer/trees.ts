import { createRequire } from 'node:module';
import { Invalid } from '../../shared/errors.js';
import { classifierOnnx, regressorOnnx, treeScores, type ExportTree } from './export.js';
import { argmax, classify, type Fit, type FitInput } from './model.js';
import { readParams } from './spec.js';

/**
 * Decision trees (ml-cart) and random forests (ml-random-forest), both of
 * the mljs family, pure JavaScript. The packages ship no usable TypeScript
 * types, so they are loaded through `require` and read through the narrow
 * shapes below: the fields of a fitted ml-cart node are its documented
 * `toJSON()` form (splitColumn, splitValue, left, right, distribution).
 */

const require = createRequire(import.meta.url);

/** A fitted ml-cart node: a split (`row[splitColumn] < splitValue` goes left) or a leaf. */
export interface CartNode {
  splitColumn?: number;
  splitValue?: number;
  left?: CartNode;
  right?: CartNode;
  /** Classifier leaf: class shares as an ml-matrix row vector, possibly shorter than the class count. Regression leaf: the mean. */
  distribution?: number | { to1DArray(): number[] };
  classify(row: number[]): CartNode['distribution'];
}

interface CartTree {
  root: CartNode;
  train(x: number[][], y: number[]): void;
  predict(x: number[][]): number[];
}

export interface CartOptions {
  maxDepth: number;
  minNumSamples: number;
  gainThreshold?: number;
}

interface Forest {
  estimators: CartTree[];
  /** Per tree: the original column of each column the tree was trained on. */
  indexes: number[][];
  train(x: number[][], y: number[]): void;
  predict(x: number[][]): number[];
  predictionValues(x: number[][]): { to2DArray(): number[][] };
}

const cart = require('ml-cart') as {
  DecisionTreeClassifier: new (options: CartOptions) => CartTree;
  DecisionTreeRegression: new (options: CartOptions) => CartTree;
};
const forests = require('ml-random-forest') as {
  RandomForestClassifier: new (options: object) => Forest;
  RandomForestRegression: new (options: object) => Forest;
};

export function newRegressionTree(options: CartOptions): CartTree {
  return new cart.DecisionTreeRegression(options);
}

const isSplit = (n: CartNode): n is CartNode & { left: CartNode; right: CartNode } => n.left !== undefined && n.right !== undefined;

/** Class shares of a classifier leaf, padded to the class count. */
function shares(distribution: CartNode['distribution'], classes: number): number[] {
  const got = typeof distribution === 'object' ? distribution.to1DArray() : [];
  return Array.from({ length: classes }, (_, c) => got[c] ?? 0);
}

/** An ml-cart tree as an ExportTree; `columns` maps the tree's columns to features, `leaf` says what a leaf adds. */
export function exportTree(node: CartNode, columns: number[] | undefined, leaf: (distribution: CartNode['distribution']) => ExportTree & { leaf: unknown }): ExportTree {
  if (!isSplit(node)) return leaf(node.distribution);
  return {
    feature: columns ? columns[node.splitColumn!] : node.splitColumn!,
    threshold: node.splitValue!,
    left: exportTree(node.left, columns, leaf),
    right: exportTree(node.right, columns, leaf),
  };
}

const treeRules = {
  maxDepth: { default: 10, min: 1, max: 64, integer: true },
  minSamples: { default: 3, min: 1, integer: true },
};

export const fitDecisionTree: Fit = ({ task, train, classes, params }) => {
  const p = readParams(params, treeRules);
  const options = { maxDepth: p.maxDepth, minNumSamples: p.minSamples };
  const features = train.x[0].length;
  if (task === 'regression') {
    const tree = new cart.DecisionTreeRegression(options);
    tree.train(train.x, train.y);
    const exported = exportTree(tree.root, undefined, (d) => ({ leaf: [[0, d as number]] }));
    return {
      native: tree,
      predict: (x) => ({ values: tree.predict(x) }),
      onnx: () => regressorOnnx(treeScores([exported], 1, [0]), features, 'DecisionTreeRegressor'),
    };
  }
  const tree = new cart.DecisionTreeClassifier(options);
  tree.train(train.x, train.y);
  const C = classes.length;
  const exported = exportTree(tree.root, undefined, (d) => ({ leaf: shares(d, C).map((s, c): [number, number] => [c, s]).filter(([, s]) => s > 0) }));
  return {
    native: tree,
    predict: (x) => ({ labels: tree.predict(x), probabilities: x.map((row) => shares(tree.root.classify(row), C)) }),
    onnx: () => classifierOnnx(treeScores([exported], C, new Array(C).fill(0)), 'identity', classes, features, 'DecisionTreeClassifier'),
  };
};

function forestOptions({ params, seed, train }: FitInput) {
  const p = readParams(params, {
    ...treeRules,
    nEstimators: { default: 25, min: 1, max: 1000, integer: true },
    maxFeatures: { default: 1, min: Number.MIN_VALUE },
  });
  const features = train.x[0].length;
  const perTree = p.maxFeatures <= 1 ? Math.floor(features * p.maxFeatures) : p.maxFeatures;
  if (!Number.isInteger(perTree) || perTree < 1 || perTree > features) {
    throw Invalid.field('spec.params.maxFeatures', `a share of the features (0 < share ≤ 1) leaving at least one, or a whole count from 1 to ${features}`);
  }
  return {
    nEstimators: p.nEstimators,
    // A share of the features (0 < f ≤ 1) or a count, drawn per tree without replacement.
    maxFeatures: p.maxFeatures,
    replacement: false,
    useSampleBagging: true,
    noOOB: true,
    seed,
    treeOptions: { maxDepth: p.maxDepth, minNumSamples: p.minSamples },
  };
}

/**
 * A forest classifier's probabilities are its trees' vote shares and its
 * label the class with most votes, the first on a tie (ONNX's ArgMax rule;
 * ml-random-forest's own `predict` takes the class that reached the tied
 * count first, the only place the two can differ).
 */
export const fitRandomForest: Fit = (input) => {
  const { task, train, classes } = input;
  const options = forestOptions(input);
  const features = train.x[0].length;
  const n = options.nEstimators;
  if (task === 'regression') {
    const forest = new forests.RandomForestRegression({ ...options, selectionMethod: 'mean' });
    forest.train(train.x, train.y);
    const trees = forest.estimators.map((t, i) => exportTree(t.root, forest.indexes[i], (d) => ({ leaf: [[0, (d as number) / n]] })));
    return {
      native: forest,
      predict: (x) => ({ values: forest.predict(x) }),
      onnx: () => regressorOnnx(treeScores(trees, 1, [0]), features, 'RandomForestRegressor'),
    };
  }
  const forest = new forests.RandomForestClassifier(options);
  forest.train(train.x, train.y);
  const C = classes.length;
  const trees = forest.estimators.map((t, i) => exportTree(t.root, forest.indexes[i], (d) => ({ leaf: [[argmax(shares(d, C)), 1]] })));
  return {
    native: forest,
    predict: (x) => classify(forest.predictionValues(x).to2DArray().map((votes) => voteShares(votes, C))),
    onnx: () => classifierOnnx(treeScores(trees, C, new Array(C).fill(0)), { votesOf: n }, classes, features, 'RandomForestClassifier'),
  };
};

function voteShares(votes: number[], classes: number): number[] {
  const counts = new Array(classes).fill(0);
  for (const v of votes) counts[v]++;
  return counts.map((c) => c / votes.length);
}
