/** Messages between the onnx runtime and its worker threads. */
import type { InferenceSession } from 'onnxruntime-node';
import type { ModelSignature } from '../predictor.js';
import { pack, packable, unpack, type TensorSet } from './tensor-pack.js';

export interface WorkerInit {
  /** A file path (the registry's immutable copy) or the model bytes. */
  model: string | Uint8Array;
  sessionOptions: InferenceSession.SessionOptions;
}

/** One inference asked of a worker, and its answer. */
export type RunRequest = TensorSet;
export type RunAnswer = TensorSet | { id: number; error: string };

/**
 * Requests and answers travel in batches: every postMessage costs a
 * structured clone and a cross-thread wake-up, which at thousands of small
 * requests a second was the gateway's largest single cost. What arrives in
 * one turn of the event loop goes in one message, its tensors packed into
 * one transferred buffer (`packed`); string tensors and errors go in `items`.
 */
export interface Batch<T> {
  packed: ArrayBuffer | null;
  items: T[];
}

export type ToWorker = ({ kind: 'runs' } & Batch<RunRequest>) | { kind: 'close' };

export type FromWorker =
  | { kind: 'ready'; signature: ModelSignature; loadMs: number }
  | { kind: 'failed'; message: string }
  /** The worker thread's CPU time and heap, sent after ready and then every second. */
  | { kind: 'usage'; cpuSeconds: number; memoryBytes: number }
  | ({ kind: 'results' } & Batch<RunAnswer>);

/** Splits a batch into what can be packed into one buffer and what must be cloned. */
export function toBatch<T extends RunAnswer>(items: T[]): Batch<T> {
  const sets: TensorSet[] = [];
  const rest: T[] = [];
  for (const it of items) {
    if ('tensors' in it && packable(it.tensors)) sets.push(it);
    else rest.push(it);
  }
  return { packed: sets.length ? pack(sets) : null, items: rest };
}

/** Every item of a batch, the packed ones as views over the received buffer. */
export function fromBatch<T extends RunAnswer>(b: Batch<T>): Array<T | TensorSet> {
  return b.packed ? [...unpack(b.packed), ...b.items] : b.items;
}

/** Collects items and posts them as one message at the end of the current event-loop turn. */
export class Outbox<T> {
  private items: T[] = [];
  private scheduled = false;

  constructor(private readonly post: (items: T[]) => void) {}

  push(item: T): void {
    this.items.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.post(items);
  }
}
