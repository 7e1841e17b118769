import { InferenceSession } from 'onnxruntime-node';
import { Invalid } from '../shared/errors.js';

/** One input or output of an ONNX graph, as onnxruntime reports it. */
export interface TensorSpec {
  name: string;
  /** onnxruntime's element type name: float32, int64, string, ...; null for non-tensor values. */
  type: string | null;
  /** Dimensions; a string is a symbolic (dynamic) dimension such as 'N'. */
  shape: Array<number | string>;
}

export interface Signature {
  format: 'onnx';
  /** Path of the ONNX file inside the version. */
  file: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/**
 * Reads an ONNX model's input/output signature by loading it in
 * onnxruntime, which also proves the file is a model onnxruntime can run.
 */
export async function readOnnxSignature(bytes: Uint8Array, file: string): Promise<Signature> {
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes);
  } catch (e) {
    throw Invalid.field('model', `'${file}' is not an ONNX model onnxruntime can load (${firstLine(e)})`);
  }
  try {
    return { format: 'onnx', file, ...sessionTensorSpecs(session) };
  } finally {
    await session.release();
  }
}

/** The inputs and outputs of a loaded session (also used by the serving runtime). */
export function sessionTensorSpecs(session: InferenceSession): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  const spec = (m: InferenceSession.ValueMetadata): TensorSpec =>
    m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: null, shape: [] };
  return { inputs: session.inputMetadata.map(spec), outputs: session.outputMetadata.map(spec) };
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0].slice(0, 200);
}
