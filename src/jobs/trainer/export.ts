import type { ClassValue } from './data.js';
import { attr, ElemType, floatInitializer, int64Initializer, model, node, stringInitializer, valueInfo, type Field } from './onnx-writer.js';

/**
 * ONNX graphs for the trained models, shaped as skl2onnx shapes scikit-learn's
 * (zipmap off): one float32 input `input` [N, F] in feature order;
 * classifiers answer `label` [N] (the dataset's class values, int64 or
 * string) and `probabilities` float32 [N, C]; regressors answer `variable`
 * float32 [N, 1]. A model is built from a "scores" part (MatMul + Add, or an
 * ONNX-ML tree ensemble) and a tail that turns scores into the outputs.
 */

export const INPUT = 'input';
const ML = 'ai.onnx.ml';

/** Graph pieces that compute `scores` float32 [N, targets] from `input`. */
export interface Scores {
  graph: Field[];
  targets: number;
  usesMl: boolean;
}

/** scores = input · W + b, W being [F, targets]. */
export function linearScores(weights: number[][], bias: number[]): Scores {
  const targets = bias.length;
  return {
    graph: [
      node('MatMul', [INPUT, 'coef'], ['xw'], 'matmul'),
      node('Add', ['xw', 'intercept'], ['scores'], 'add'),
      floatInitializer('coef', [weights.length, targets], weights.flat()),
      floatInitializer('intercept', [targets], bias),
    ],
    targets,
    usesMl: false,
  };
}

/** A binary tree as exported: `feature < threshold` goes left. */
export type ExportTree = { feature: number; threshold: number; left: ExportTree; right: ExportTree } | { leaf: Array<[target: number, weight: number]> };

/**
 * The smallest float32 at or above `t`. For a float32 x, `x < t` holds
 * exactly when `x < ceil32(t)`, so a float64 split of the library decides
 * every float32 input the same way in the float32 ONNX tree.
 */
export function ceil32(t: number): number {
  const f = Math.fround(t);
  if (f >= t) return f;
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, f);
  const bits = view.getInt32(0);
  if (f === 0) view.setInt32(0, 1); // the smallest positive subnormal
  else view.setInt32(0, f > 0 ? bits + 1 : bits - 1);
  return view.getFloat32(0);
}

interface EnsembleAttributes {
  treeIds: number[];
  nodeIds: number[];
  featureIds: number[];
  values: number[];
  modes: string[];
  trueIds: number[];
  falseIds: number[];
  targetTreeIds: number[];
  targetNodeIds: number[];
  targetIds: number[];
  targetWeights: number[];
}

function flatten(tree: ExportTree, treeId: number, a: EnsembleAttributes): void {
  let next = 0;
  const visit = (t: ExportTree): number => {
    const id = next++;
    const at = a.nodeIds.length;
    a.treeIds.push(treeId);
    a.nodeIds.push(id);
    if ('leaf' in t) {
      a.featureIds.push(0);
      a.values.push(0);
      a.modes.push('LEAF');
      a.trueIds.push(0);
      a.falseIds.push(0);
      for (const [target, weight] of t.leaf) {
        a.targetTreeIds.push(treeId);
        a.targetNodeIds.push(id);
        a.targetIds.push(target);
        a.targetWeights.push(weight);
      }
      return id;
    }
    a.featureIds.push(t.feature);
    a.values.push(ceil32(t.threshold));
    a.modes.push('BRANCH_LT');
    a.trueIds.push(0);
    a.falseIds.push(0);
    a.trueIds[at] = visit(t.left);
    a.falseIds[at] = visit(t.right);
    return id;
  };
  visit(tree);
}

/**
 * scores = base + Σ over trees of the reached leaf's weights, per target,
 * with ONNX-ML TreeEnsembleRegressor (aggregate SUM, no post transform).
 * Classifiers use it too: their leaves hold class scores, and the tail
 * picks the label, which keeps every class count on one code path.
 */
export function treeScores(trees: ExportTree[], targets: number, base: number[]): Scores {
  const a: EnsembleAttributes = { treeIds: [], nodeIds: [], featureIds: [], values: [], modes: [], trueIds: [], falseIds: [], targetTreeIds: [], targetNodeIds: [], targetIds: [], targetWeights: [] };
  trees.forEach((t, i) => flatten(t, i, a));
  const ensemble = node(
    'TreeEnsembleRegressor',
    [INPUT],
    ['scores'],
    'trees',
    [
      attr.int('n_targets', targets),
      attr.string('aggregate_function', 'SUM'),
      attr.string('post_transform', 'NONE'),
      attr.floats('base_values', base),
      attr.ints('nodes_treeids', a.treeIds),
      attr.ints('nodes_nodeids', a.nodeIds),
      attr.ints('nodes_featureids', a.featureIds),
      attr.floats('nodes_values', a.values),
      attr.strings('nodes_modes', a.modes),
      attr.ints('nodes_truenodeids', a.trueIds),
      attr.ints('nodes_falsenodeids', a.falseIds),
      attr.ints('target_treeids', a.targetTreeIds),
      attr.ints('target_nodeids', a.targetNodeIds),
      attr.ints('target_ids', a.targetIds),
      attr.floats('target_weights', a.targetWeights),
    ],
    ML,
  );
  return { graph: [ensemble], targets, usesMl: true };
}

/**
 * How scores become probabilities: a sigmoid of one margin, a softmax, the
 * scores themselves, or vote counts times 1 / trees (counts are whole
 * numbers, exact in float32, so equal votes stay equal and tie the same way).
 */
export type Link = 'sigmoid' | 'softmax' | 'identity' | { votesOf: number };

function wrap(scores: Scores, features: number, tail: Field[], name: string): Buffer {
  return model({
    graphName: name,
    graph: [...scores.graph, ...tail, valueInfo(11, INPUT, ElemType.FLOAT, ['N', features])],
    opsets: scores.usesMl ? { [ML]: 3 } : {},
  });
}

/** A regressor: `variable` float32 [N, 1]. */
export function regressorOnnx(scores: Scores, features: number, name: string): Buffer {
  return wrap(scores, features, [node('Identity', ['scores'], ['variable'], 'variable'), valueInfo(12, 'variable', ElemType.FLOAT, ['N', 1])], name);
}

/**
 * A classifier: `probabilities` from the scores through the link (a binary
 * sigmoid takes one score column, the probability of the second class),
 * `label` the class value of the first most probable column.
 */
export function classifierOnnx(scores: Scores, link: Link, classes: ClassValue[], features: number, name: string): Buffer {
  const tail: Field[] = [];
  if (link === 'sigmoid') {
    tail.push(
      node('Sigmoid', ['scores'], ['p1'], 'sigmoid'),
      node('Sub', ['one', 'p1'], ['p0'], 'complement'),
      node('Concat', ['p0', 'p1'], ['probabilities'], 'concat', [attr.int('axis', 1)]),
      floatInitializer('one', [1], [1]),
    );
  } else if (typeof link === 'object') {
    tail.push(node('Mul', ['scores', 'vote_share'], ['probabilities'], 'probabilities'), floatInitializer('vote_share', [1], [1 / link.votesOf]));
  } else {
    tail.push(node(link === 'softmax' ? 'Softmax' : 'Identity', ['scores'], ['probabilities'], 'probabilities', link === 'softmax' ? [attr.int('axis', 1)] : []));
  }
  const strings = classes.some((c) => typeof c === 'string');
  tail.push(
    node('ArgMax', ['probabilities'], ['class_index'], 'argmax', [attr.int('axis', 1), attr.int('keepdims', 0)]),
    node('Gather', ['classes', 'class_index'], ['label'], 'label', [attr.int('axis', 0)]),
    strings ? stringInitializer('classes', [classes.length], classes.map(String)) : int64Initializer('classes', [classes.length], classes as number[]),
    valueInfo(12, 'label', strings ? ElemType.STRING : ElemType.INT64, ['N']),
    valueInfo(12, 'probabilities', ElemType.FLOAT, ['N', classes.length]),
  );
  return wrap(scores, features, tail, name);
}
