/**
 * Runtimes by kind. The deployment layer builds a spec from the
 * Deployment resource and gets a Predictor; nothing else knows which kind
 * it is talking to.
 */
import type { Predictor } from '../predictor.js';
import { BatchingPredictor } from './batching.js';
import { HttpPredictor, type HttpRuntimeOptions } from './http.js';
import { OnnxPredictor, type OnnxRuntimeOptions } from './onnx.js';
import { ProcessPredictor, type ProcessRuntimeOptions } from './process.js';

export type RuntimeSpec = (
  | ({ kind: 'onnx' } & OnnxRuntimeOptions)
  | ({ kind: 'process' } & ProcessRuntimeOptions)
  | ({ kind: 'http' } & HttpRuntimeOptions)
) & {
  /** Micro-batching (the Deployment's `batching`): absent or maxBatchSize ≤ 1 means off. */
  batching?: { maxBatchSize: number; maxWaitMicros: number };
};

export function createPredictor(spec: RuntimeSpec): Predictor {
  const base = runtime(spec);
  const b = spec.batching;
  return b && b.maxBatchSize > 1 ? new BatchingPredictor(base, { ...b, name: spec.name }) : base;
}

function runtime(spec: RuntimeSpec): Predictor {
  switch (spec.kind) {
    case 'onnx':
      return new OnnxPredictor(spec);
    case 'process':
      return new ProcessPredictor(spec);
    case 'http':
      return new HttpPredictor(spec);
  }
}

export { BatchingPredictor, HttpPredictor, OnnxPredictor, ProcessPredictor };
export type { HttpRuntimeOptions, OnnxRuntimeOptions, ProcessRuntimeOptions };
