import { SlipwayError, Unavailable } from '../../shared/errors.js';
import type { PredictOptions, Tensors, PredictorStats } from '../predictor.js';

/**
 * A request's cancellation (its deadline passed or its caller gave up).
 * In-process instances register plain callbacks; an AbortSignal, which costs
 * an EventTarget per request, is made only for a runtime that asks for one
 * (to abort a fetch).
 */
export class Cancellation {
  aborted = false;
  reason: unknown = undefined;
  private callbacks: Array<(reason: unknown) => void> | null = null;
  private controller: AbortController | null = null;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  onCancel(callback: (reason: unknown) => void): void {
    if (this.aborted) callback(this.reason);
    else (this.callbacks ??= []).push(callback);
  }

  cancel(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    const callbacks = this.callbacks ?? [];
    this.callbacks = null;
    for (const cb of callbacks) cb(reason);
  }
}

/** One worker, child process or remote server able to run inferences. */
export interface Instance {
  readonly healthy: boolean;
  run(inputs: Tensors, cancel: Cancellation): Promise<Tensors>;
}

export interface PoolOptions {
  /** Concurrent requests per instance. */
  maxConcurrent: number;
  /** Requests allowed to wait for a slot; one more is refused at once. */
  maxQueue: number;
  /** Default per-request deadline when the caller gives none (0 = none). */
  timeoutMs: number;
  /** Used in error messages. */
  name: string;
}

interface Pending {
  inputs: Tensors;
  cancel: Cancellation;
  resolve(v: Tensors): void;
  reject(e: unknown): void;
  cleanup(): void;
}

export function timeoutError(name: string, ms: number): SlipwayError {
  return new SlipwayError('timeout', `model '${name}' did not answer within ${ms} ms`, { timeoutMs: ms });
}

/**
 * Spreads requests over instances: least-loaded healthy instance first, a
 * bounded FIFO queue when every slot is busy, an immediate `Unavailable`
 * (with a Retry-After estimate) when the queue is full or nothing is healthy.
 * Refusing early is the point: a gateway that queues without bound turns a
 * slow model into timeouts for everyone.
 */
export class InstancePool {
  private readonly busy = new Map<Instance, number>();
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  /** Exponentially weighted mean run time, for Retry-After. */
  private meanMs = 10;

  constructor(
    readonly instances: Instance[],
    private readonly opts: PoolOptions,
  ) {
    for (const i of instances) this.busy.set(i, 0);
  }

  get queued(): number {
    return this.queue.length;
  }

  get running(): number {
    return this.inFlight;
  }

  /** A predictor's stats: the pool's own counts plus what only the runtime knows. */
  stats(runtime: Pick<PredictorStats, 'instances' | 'modelLoadMs' | 'restarts'>): PredictorStats {
    return { inFlight: this.running, queued: this.queued, healthyInstances: this.healthyCount(), ...runtime };
  }

  healthyCount(): number {
    return this.instances.filter((i) => i.healthy).length;
  }

  /** Seconds a refused client should wait: the time to drain the queue, at least 1. */
  retryAfterSeconds(): number {
    const capacity = Math.max(1, this.healthyCount() * this.opts.maxConcurrent);
    return Math.min(30, Math.max(1, Math.ceil(((this.queue.length + 1) * this.meanMs) / capacity / 1000)));
  }

  submit(inputs: Tensors, opts: PredictOptions = {}): Promise<Tensors> {
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    if (this.healthyCount() === 0) {
      return Promise.reject(new Unavailable(`model '${this.opts.name}' has no ready instance`, this.retryAfterSeconds()));
    }
    const free = this.freeInstance();
    if (!free && this.queue.length >= this.opts.maxQueue) {
      return Promise.reject(new Unavailable(`model '${this.opts.name}' is saturated (queue of ${this.opts.maxQueue} full)`, this.retryAfterSeconds()));
    }
    return new Promise<Tensors>((resolve, reject) => {
      const cancel = new Cancellation();
      const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs;
      const timer = timeoutMs > 0 ? setTimeout(() => cancel.cancel(timeoutError(this.opts.name, timeoutMs)), timeoutMs) : undefined;
      const onAbort = () => cancel.cancel(opts.signal?.reason);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const p: Pending = {
        inputs,
        cancel,
        resolve,
        reject,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
        },
      };
      // A request cancelled while queued leaves the queue; one cancelled while
      // running is answered now, its slot freed when the instance finishes.
      cancel.onCancel((reason) => {
        const at = this.queue.indexOf(p);
        if (at >= 0) this.queue.splice(at, 1);
        p.cleanup();
        reject(reason);
      });
      if (free) this.dispatch(free, p);
      else this.queue.push(p);
    });
  }

  /** Call when an instance becomes healthy: queued work can move. */
  drain(): void {
    for (;;) {
      const free = this.queue.length ? this.freeInstance() : undefined;
      if (!free) break;
      this.dispatch(free, this.queue.shift()!);
    }
    if (this.healthyCount() === 0) this.failQueued();
  }

  /** Rejects everything waiting (no instance left to serve it). */
  failQueued(): void {
    const err = new Unavailable(`model '${this.opts.name}' has no ready instance`, this.retryAfterSeconds());
    for (const p of this.queue.splice(0)) {
      p.cleanup();
      p.reject(err);
    }
  }

  private freeInstance(): Instance | undefined {
    let best: Instance | undefined;
    let bestLoad = this.opts.maxConcurrent;
    for (const i of this.instances) {
      const load = this.busy.get(i)!;
      if (i.healthy && load < bestLoad) {
        best = i;
        bestLoad = load;
      }
    }
    return best;
  }

  private dispatch(instance: Instance, p: Pending): void {
    this.busy.set(instance, this.busy.get(instance)! + 1);
    this.inFlight++;
    const started = performance.now();
    // The slot is released before the caller hears back, so what the caller
    // does next (stats, another request) sees the pool as it is.
    const release = () => {
      this.busy.set(instance, this.busy.get(instance)! - 1);
      this.inFlight--;
      p.cleanup();
    };
    instance.run(p.inputs, p.cancel).then(
      (out) => {
        this.meanMs = this.meanMs * 0.9 + (performance.now() - started) * 0.1;
        release();
        this.drain();
        p.resolve(out);
      },
      (e) => {
        release();
        this.drain();
        p.reject(p.cancel.aborted ? p.cancel.reason : e);
      },
    );
  }
}
