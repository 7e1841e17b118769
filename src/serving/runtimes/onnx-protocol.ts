/** Messages between the onnx runtime and its worker threads. */
import type { InferenceSession } from 'onnxruntime-node';
import type { ModelSignature, Tensors } from '../predictor.js';

export interface WorkerInit {
  /** A file path (the registry's immutable copy) or the model bytes. */
  model: string | Uint8Array;
  sessionOptions: InferenceSession.SessionOptions;
}

export type ToWorker = { kind: 'run'; id: number; inputs: Tensors } | { kind: 'close' };

export type FromWorker =
  | { kind: 'ready'; signature: ModelSignature; loadMs: number }
  | { kind: 'failed'; message: string }
  /** The worker thread's CPU time and heap, sent after ready and then every second. */
  | { kind: 'usage'; cpuSeconds: number; memoryBytes: number }
  | { kind: 'result'; id: number; outputs: Tensors }
  | { kind: 'error'; id: number; message: string };

/**
 * The buffers to move rather than copy. A buffer shared by two tensors is
 * listed once; a view over part of a bigger buffer is not moved (that would
 * detach memory the sender still uses), so it is copied.
 */
export function transferList(tensors: Tensors): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const t of Object.values(tensors)) {
    const d = t.data;
    if (Array.isArray(d)) continue;
    if (d.buffer instanceof ArrayBuffer && d.byteOffset === 0 && d.byteLength === d.buffer.byteLength) out.add(d.buffer);
  }
  return [...out];
}
