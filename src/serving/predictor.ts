/**
 * The one interface every model runtime implements (onnx, process, http).
 * The gateway only ever talks to a `Predictor`; a new runtime is a new file
 * under runtimes/, not a branch in the gateway.
 */

export type ElementType = 'float32' | 'float64' | 'int32' | 'int64' | 'bool' | 'string';

export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | string[];

/** A dense row-major tensor. `bool` data is a Uint8Array of 0/1; `int64` a BigInt64Array. */
export interface Tensor {
  type: ElementType;
  dims: number[];
  data: TensorData;
}

export type Tensors = Record<string, Tensor>;

/** One input or output. `shape` uses -1 for a dynamic dimension (a batch axis, usually). */
export interface TensorInfo {
  name: string;
  type: ElementType;
  shape: number[];
}

export interface ModelSignature {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
}

export interface PredictOptions {
  signal?: AbortSignal;
  /** Deadline for queueing plus execution; past it the call rejects with code 'timeout'. */
  timeoutMs?: number;
}

export interface PredictorStats {
  /** Requests executing on an instance right now. */
  inFlight: number;
  /** Requests waiting for a free slot. */
  queued: number;
  /** Instances able to take work. */
  healthyInstances: number;
  instances: number;
  /** Time from start to ready (model load + warm-up), null until ready. */
  modelLoadMs: number | null;
  /** Child restarts (process runtime) or worker respawns (onnx). */
  restarts: number;
  /** CPU seconds used by the instances so far (child processes; onnx worker threads). Absent where not measurable (http, non-Linux). */
  cpuSeconds?: number;
  /** Memory of the instances: resident set of child processes, JS heap of onnx worker threads. Absent where not measurable. */
  memoryBytes?: number;
}

export interface Predictor {
  /** Resolves once the model is loaded and warmed up; rejects if it never can be. */
  readonly ready: Promise<void>;
  /** Known once `ready` resolves. */
  readonly signature: ModelSignature;
  /** Must leave `inputs` intact (copy, never transfer or detach their buffers): captures and mirrors reuse them. */
  predict(inputs: Tensors, opts?: PredictOptions): Promise<Tensors>;
  stats(): PredictorStats;
  close(): Promise<void>;
}

/** Bytes per element for the numeric types (bool is one byte). */
export const elementBytes: Record<Exclude<ElementType, 'string'>, number> = {
  float32: 4,
  float64: 8,
  int32: 4,
  int64: 8,
  bool: 1,
};

/** onnxruntime's type names → ours; null for types Slipway does not serve. */
export function elementTypeFromOnnx(t: string | null): ElementType | null {
  switch (t) {
    case 'float32':
    case 'float64':
    case 'int32':
    case 'int64':
    case 'bool':
    case 'string':
      return t;
    default:
      return null;
  }
}

/** A symbolic or unknown dimension becomes -1. */
export function normalizeShape(shape: ReadonlyArray<number | string | null | undefined>): number[] {
  return shape.map((d) => (typeof d === 'number' && Number.isInteger(d) && d >= 0 ? d : -1));
}

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Zeros of a given type and shape (dynamic dimensions as 1), for warm-up. */
export function zeros(info: TensorInfo): Tensor {
  const dims = info.shape.map((d) => (d < 0 ? 1 : d));
  const n = elementCount(dims);
  return { type: info.type, dims, data: allocate(info.type, n) };
}

export function allocate(type: ElementType, n: number): TensorData {
  switch (type) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'bool':
      return new Uint8Array(n);
    case 'string':
      return new Array<string>(n).fill('');
  }
}
