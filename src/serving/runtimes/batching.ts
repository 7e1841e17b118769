/**
 * Micro-batching as a Predictor decorator: requests arriving within
 * `maxWaitMicros` of each other are concatenated along the batch axis, run as
 * one inference and split back. Small requests then share one worker
 * round trip and one session run, which is where the per-request overhead
 * goes. Any runtime can be wrapped; a model whose inputs or outputs have a
 * fixed first dimension is passed through untouched.
 */
import { allocate, type ModelSignature, type PredictOptions, type Predictor, type PredictorStats, type Tensor, type Tensors } from '../predictor.js';
import { SlipwayError, Unavailable } from '../../shared/errors.js';
import { timeoutError } from './pool.js';

export interface BatchingOptions {
  /** Most rows (first-dimension entries) in one batch. */
  maxBatchSize: number;
  /** Longest a request waits for company, in microseconds (0: only what arrives in the same tick). */
  maxWaitMicros: number;
  name: string;
}

interface Member {
  inputs: Tensors;
  rows: number;
  resolve(v: Tensors): void;
  reject(e: unknown): void;
}

function rowsOf(inputs: Tensors): number | undefined {
  let rows: number | undefined;
  for (const t of Object.values(inputs)) {
    if (t.dims.length === 0) return undefined;
    if (rows === undefined) rows = t.dims[0];
    else if (rows !== t.dims[0]) return undefined;
  }
  return rows;
}

/** Same input names and trailing dimensions: can share a batch. */
function compatible(a: Tensors, b: Tensors): boolean {
  const names = Object.keys(a);
  if (names.length !== Object.keys(b).length) return false;
  return names.every((n) => {
    const x = a[n];
    const y = b[n];
    return y !== undefined && x.type === y.type && x.dims.length === y.dims.length && x.dims.every((d, k) => k === 0 || d === y.dims[k]);
  });
}

function concat(parts: Tensor[], rows: number): Tensor {
  const first = parts[0];
  const dims = [rows, ...first.dims.slice(1)];
  if (first.type === 'string') return { type: 'string', dims, data: parts.flatMap((p) => p.data as string[]) };
  const data = allocate(first.type, parts.reduce((s, p) => s + p.data.length, 0)) as Float32Array;
  let at = 0;
  for (const p of parts) {
    data.set(p.data as Float32Array, at);
    at += p.data.length;
  }
  return { type: first.type, dims, data };
}

function slice(t: Tensor, from: number, rows: number): Tensor {
  const per = t.dims.slice(1).reduce((a, b) => a * b, 1);
  const data = Array.isArray(t.data) ? t.data.slice(from * per, (from + rows) * per) : t.data.slice(from * per, (from + rows) * per);
  return { type: t.type, dims: [rows, ...t.dims.slice(1)], data };
}

/** Applies a caller's deadline and abort signal to a shared computation. */
function withDeadline<T>(work: Promise<T>, opts: PredictOptions | undefined, name: string): Promise<T> {
  if (!opts?.signal && !opts?.timeoutMs) return work;
  return new Promise<T>((resolve, reject) => {
    const timer = opts.timeoutMs ? setTimeout(() => reject(timeoutError(name, opts.timeoutMs!)), opts.timeoutMs) : undefined;
    const onAbort = () => reject(opts.signal!.reason);
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    });
  });
}

export class BatchingPredictor implements Predictor {
  private batch: Member[] = [];
  private rows = 0;
  private timer?: NodeJS.Timeout | NodeJS.Immediate;
  private batchable = false;
  private closed = false;
  readonly ready: Promise<void>;

  constructor(
    private readonly inner: Predictor,
    private readonly opts: BatchingOptions,
  ) {
    this.ready = inner.ready.then(() => {
      const s = inner.signature;
      this.batchable = [...s.inputs, ...s.outputs].every((t) => t.shape.length > 0 && t.shape[0] === -1);
    });
    this.ready.catch(() => undefined);
  }

  get signature(): ModelSignature {
    return this.inner.signature;
  }

  predict(inputs: Tensors, opts?: PredictOptions): Promise<Tensors> {
    if (this.closed) return Promise.reject(new Unavailable(`model '${this.opts.name}' is closed`, 1));
    const rows = rowsOf(inputs);
    if (!this.batchable || rows === undefined || rows === 0 || rows >= this.opts.maxBatchSize) return this.inner.predict(inputs, opts);
    if (this.batch.length && (this.rows + rows > this.opts.maxBatchSize || !compatible(this.batch[0].inputs, inputs))) this.flush();
    const joined = new Promise<Tensors>((resolve, reject) => this.batch.push({ inputs, rows, resolve, reject }));
    this.rows += rows;
    if (this.rows >= this.opts.maxBatchSize) this.flush();
    else if (!this.timer) {
      const us = this.opts.maxWaitMicros;
      this.timer = us <= 0 ? setImmediate(() => this.flush()) : setTimeout(() => this.flush(), us / 1000);
    }
    return withDeadline(joined, opts, this.opts.name);
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    const members = this.batch;
    const total = this.rows;
    this.batch = [];
    this.rows = 0;
    if (!members.length) return;
    if (members.length === 1) {
      this.inner.predict(members[0].inputs).then(members[0].resolve, members[0].reject);
      return;
    }
    const inputs: Tensors = {};
    for (const name of Object.keys(members[0].inputs)) inputs[name] = concat(members.map((m) => m.inputs[name]), total);
    this.inner.predict(inputs).then(
      (outputs) => {
        for (const [name, t] of Object.entries(outputs)) {
          if (t.dims[0] !== total) {
            const e = new SlipwayError('unavailable', `model '${this.opts.name}' output '${name}' has ${t.dims[0]} rows for a batch of ${total}; disable batching for it`);
            for (const m of members) m.reject(e);
            return;
          }
        }
        let from = 0;
        for (const m of members) {
          const mine: Tensors = {};
          for (const [name, t] of Object.entries(outputs)) mine[name] = slice(t, from, m.rows);
          from += m.rows;
          m.resolve(mine);
        }
      },
      (e) => {
        for (const m of members) m.reject(e);
      },
    );
  }

  stats(): PredictorStats {
    const s = this.inner.stats();
    return { ...s, queued: s.queued + this.batch.length };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    await this.inner.close();
  }
}
