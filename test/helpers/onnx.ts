/**
 * Tiny valid ONNX models written byte by byte, so tests need no downloads and
 * no Python. The encoder is the built-in trainer's
 * (src/jobs/trainer/onnx-writer.ts).
 *
 * `logisticRegressionOnnx()` is y = sigmoid(x · W + b) with x float32 [N, F]
 * and y float32 [N, 1]; `linearOnnx()` is the same without the sigmoid.
 * Serving tests can reuse them: the expected outputs are easy to compute.
 */

import { attr, ElemType, floatInitializer, int, msg, node, str, valueInfo } from '../../src/jobs/trainer/onnx-writer.js';

export { ElemType, type Dim } from '../../src/jobs/trainer/onnx-writer.js';

export interface LinearModelOptions {
  /** Weights, one per feature (default [0.5, -0.25, 1, 2]). */
  weights?: number[];
  bias?: number;
  inputName?: string;
  outputName?: string;
  /** Add a Sigmoid after the linear layer (logistic regression). */
  sigmoid?: boolean;
}

/** y = [sigmoid](x · W + b): MatMul + Add (+ Sigmoid), opset 13, IR version 8. */
export function linearOnnx(opts: LinearModelOptions = {}): Buffer {
  const w = opts.weights ?? [0.5, -0.25, 1, 2];
  const input = opts.inputName ?? 'input';
  const output = opts.outputName ?? 'output';
  const last = opts.sigmoid ? 'logit' : output;
  const graph = msg(
    7,
    node('MatMul', [input, 'W'], ['xw'], 'matmul'),
    node('Add', ['xw', 'B'], [last], 'add'),
    ...(opts.sigmoid ? [node('Sigmoid', ['logit'], [output], 'sigmoid')] : []),
    str(2, 'slipway_test_graph'),
    floatInitializer('W', [w.length, 1], w),
    floatInitializer('B', [1], [opts.bias ?? 0.1]),
    valueInfo(11, input, ElemType.FLOAT, ['N', w.length]),
    valueInfo(12, output, ElemType.FLOAT, ['N', 1]),
  );
  const model = [...int(1, 8), ...str(2, 'slipway-test'), ...str(3, '1'), ...graph, ...msg(8, str(1, ''), int(2, 13))];
  return Buffer.from(model);
}

/** Logistic regression over `features` float32 inputs. */
export function logisticRegressionOnnx(opts: Omit<LinearModelOptions, 'sigmoid'> = {}): Buffer {
  return linearOnnx({ ...opts, sigmoid: true });
}

/**
 * A binary logistic regression shaped as skl2onnx converts scikit-learn's
 * `LogisticRegression` (zipmap off): input `float_input` float32 [N, F];
 * outputs `label` int64 [N] and `probabilities` float32 [N, 2] (class 0, class 1).
 */
export function sklearnLogisticRegressionOnnx(opts: Pick<LinearModelOptions, 'weights' | 'bias'> = {}): Buffer {
  const w = opts.weights ?? [0.5, -0.25, 1, 2];
  const graph = msg(
    7,
    node('MatMul', ['float_input', 'coef'], ['xw'], 'matmul'),
    node('Add', ['xw', 'intercept'], ['logit'], 'add'),
    node('Sigmoid', ['logit'], ['p1'], 'sigmoid'),
    node('Sub', ['one', 'p1'], ['p0'], 'complement'),
    node('Concat', ['p0', 'p1'], ['probabilities'], 'concat', [attr.int('axis', 1)]),
    node('ArgMax', ['probabilities'], ['label'], 'argmax', [attr.int('axis', 1), attr.int('keepdims', 0)]),
    str(2, 'LogisticRegression'),
    floatInitializer('coef', [w.length, 1], w),
    floatInitializer('intercept', [1], [opts.bias ?? 0.1]),
    floatInitializer('one', [1], [1]),
    valueInfo(11, 'float_input', ElemType.FLOAT, ['N', w.length]),
    valueInfo(12, 'label', ElemType.INT64, ['N']),
    valueInfo(12, 'probabilities', ElemType.FLOAT, ['N', 2]),
  );
  return Buffer.from([...int(1, 8), ...str(2, 'skl2onnx'), ...str(3, '1.16.0'), ...graph, ...msg(8, str(1, ''), int(2, 13))]);
}

/** What the models above compute, for checking a predictor's output. */
export function expectedOutput(x: number[][], opts: LinearModelOptions = {}): number[] {
  const w = opts.weights ?? [0.5, -0.25, 1, 2];
  const b = opts.bias ?? 0.1;
  return x.map((row) => {
    const z = row.reduce((s, v, i) => s + v * w[i], b);
    return opts.sigmoid ? 1 / (1 + Math.exp(-z)) : z;
  });
}

/** An MLmodel file for a directory holding `model.onnx`, as mlflow.onnx.log_model writes it. */
export function mlmodelYaml(runId = ''): string {
  return [
    'artifact_path: model',
    'flavors:',
    '  onnx:',
    '    code: null',
    '    data: model.onnx',
    '    onnx_version: 1.16.0',
    '    providers: [CPUExecutionProvider]',
    '  python_function:',
    '    data: model.onnx',
    '    env: {conda: conda.yaml, virtualenv: python_env.yaml}',
    '    loader_module: mlflow.onnx',
    '    python_version: 3.11.2',
    `run_id: ${runId}`,
    'mlflow_version: 2.12.2',
    '',
  ].join('\n');
}
