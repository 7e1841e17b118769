import { Worker } from 'node:worker_threads';
import type { InferenceSession } from 'onnxruntime-node';
import { SlipwayError, Unavailable } from '../../shared/errors.js';
import type { ModelSignature, PredictOptions, Predictor, PredictorStats, Tensors } from '../predictor.js';
import { fromBatch, Outbox, toBatch, type FromWorker, type RunAnswer, type RunRequest, type ToWorker, type WorkerInit } from './onnx-protocol.js';
import { InstancePool, type Cancellation, type Instance } from './pool.js';
import { UsageAccount, usageStats } from './usage.js';

export interface OnnxRuntimeOptions {
  /** Name used in errors and logs (the deployment's). */
  name: string;
  /** Path of the model file (the registry's immutable copy) or its bytes. */
  model: string | Uint8Array;
  /** Worker threads, one session each. */
  instances?: number;
  /** Requests handed to one worker at a time (default 8): they run one after another there, but a few in flight hide the message round trip (~100 µs), which roughly doubles throughput for small requests. */
  maxConcurrent?: number;
  /** Requests waiting for a slot before new ones are refused with Unavailable. */
  maxQueue?: number;
  /** Default per-request deadline in ms (0 = none). */
  timeoutMs?: number;
  /** Threads per session; 1 keeps a 2-core machine's second core for the gateway. */
  intraOpThreads?: number;
}

/**
 * Session options for a small shared machine: one thread per session, no
 * spinning (spinning threads burn the cores the event loop needs), and
 * sequential execution (no inter-op pool at all).
 */
export function sessionOptions(intraOpThreads = 1): InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

/**
 * The worker's entry. Under tsx (tests, `node --import tsx`) the source is
 * .ts and the worker must register tsx itself: worker threads do not inherit
 * the parent's loader hooks.
 */
function spawnWorker(init: WorkerInit): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const entry = new URL('./onnx-worker.ts', here).href;
    const tsx = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
    return new Worker(boot, { eval: true, workerData: init });
  }
  return new Worker(new URL('./onnx-worker.js', here), { workerData: init });
}

/** How long a closing worker may take to finish its current call and release its session. */
const CLOSE_GRACE_MS = 30_000;

type Waiter = { resolve(v: Tensors): void; reject(e: unknown): void };

/**
 * One worker thread holding one session. A worker that dies after loading
 * (out of memory, a native crash) is replaced after a backoff; meanwhile
 * the pool routes around it, and with none left predict answers Unavailable.
 */
class WorkerInstance implements Instance {
  healthy = false;
  restarts = 0;
  /** As the worker thread last reported it, respawns included. */
  readonly usage = new UsageAccount();
  private worker!: Worker;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;
  private closing = false;
  private attempts = 0;
  private respawn?: NodeJS.Timeout;
  private readonly outbox = new Outbox<RunRequest>((items) => {
    const batch = toBatch(items);
    this.worker.postMessage({ kind: 'runs', ...batch } satisfies ToWorker, batch.packed ? [batch.packed] : []);
  });
  readonly ready: Promise<{ signature: ModelSignature; loadMs: number }>;

  constructor(
    private readonly name: string,
    private readonly init: WorkerInit,
    private readonly onChange: () => void,
  ) {
    this.ready = this.spawn();
  }

  private spawn(): Promise<{ signature: ModelSignature; loadMs: number }> {
    const worker = (this.worker = spawnWorker(this.init));
    let loaded = false;
    const ready = new Promise<{ signature: ModelSignature; loadMs: number }>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`worker exited with code ${code} while loading`)));
      worker.on('message', (msg: FromWorker) => {
        if (msg.kind === 'usage') return this.usage.note(msg);
        if (msg.kind === 'ready') {
          loaded = true;
          this.healthy = true;
          this.onChange();
          resolve(msg);
        } else if (msg.kind === 'failed') {
          reject(new Error(msg.message));
        } else if (msg.kind === 'results') this.settle(fromBatch(msg));
      });
    });
    worker.on('error', () => undefined);
    worker.on('exit', () => this.down(loaded));
    return ready;
  }

  private down(hadLoaded: boolean): void {
    this.healthy = false;
    this.usage.retire();
    const err = new Unavailable(`model '${this.name}' worker stopped`, 1);
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    if (this.closing) return;
    this.onChange();
    // A model that never loaded fails `ready` instead; only a loaded one is respawned.
    if (!hadLoaded && this.restarts === 0) return;
    const delay = Math.min(5_000, 100 * 2 ** this.attempts++);
    this.restarts++;
    this.respawn = setTimeout(() => {
      this.spawn().then(
        () => (this.attempts = 0),
        () => undefined,
      );
    }, delay);
  }

  run(inputs: Tensors, cancel: Cancellation): Promise<Tensors> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.waiting.set(id, { resolve, reject });
      // The worker cannot be interrupted mid-run; an aborted request is
      // answered by the pool at once and this reply is dropped when it comes.
      cancel.onCancel((reason) => this.waiting.delete(id) && reject(reason));
      this.outbox.push({ id, tensors: inputs });
    });
  }

  private settle(answers: RunAnswer[]): void {
    for (const a of answers) {
      const w = this.waiting.get(a.id);
      if (!w) continue;
      this.waiting.delete(a.id);
      if ('tensors' in a) w.resolve(a.tensors);
      else w.reject(new SlipwayError('invalid', `model '${this.name}' refused the input: ${a.error.split('\n')[0]}`));
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    this.healthy = false;
    clearTimeout(this.respawn);
    const worker = this.worker;
    if (worker.threadId < 0) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ kind: 'close' } satisfies ToWorker);
    // A session wedged in a native call never answers; only then is the
    // thread terminated, and the crash risk that carries is the lesser harm.
    const deadline = setTimeout(() => void worker.terminate(), CLOSE_GRACE_MS);
    await exited;
    clearTimeout(deadline);
  }
}

/** The default runtime: onnxruntime-node sessions in worker threads. */
export class OnnxPredictor implements Predictor {
  readonly ready: Promise<void>;
  signature: ModelSignature = { inputs: [], outputs: [] };
  private readonly pool: InstancePool;
  private readonly workers: WorkerInstance[];
  private loadMs: number | null = null;

  constructor(opts: OnnxRuntimeOptions) {
    const init: WorkerInit = { model: opts.model, sessionOptions: sessionOptions(opts.intraOpThreads) };
    const n = Math.max(1, opts.instances ?? 1);
    const started = performance.now();
    this.workers = Array.from({ length: n }, () => new WorkerInstance(opts.name, init, () => this.pool.drain()));
    this.pool = new InstancePool(this.workers, {
      name: opts.name,
      maxConcurrent: Math.max(1, opts.maxConcurrent ?? 8),
      maxQueue: Math.max(0, opts.maxQueue ?? 64),
      timeoutMs: opts.timeoutMs ?? 0,
    });
    this.ready = Promise.all(this.workers.map((w) => w.ready)).then(
      ([first]) => {
        this.signature = first.signature;
        this.loadMs = performance.now() - started;
        this.pool.drain();
      },
      async (e: Error) => {
        await this.close();
        throw new SlipwayError('invalid', `model '${opts.name}' could not be loaded: ${e.message.split('\n')[0]}`);
      },
    );
    this.ready.catch(() => undefined);
  }

  predict(inputs: Tensors, opts?: PredictOptions): Promise<Tensors> {
    return this.pool.submit(inputs, opts);
  }

  stats(): PredictorStats {
    const usage = usageStats(this.workers.map((w) => w.usage));
    return { ...this.pool.stats({ instances: this.workers.length, modelLoadMs: this.loadMs, restarts: this.workers.reduce((sum, w) => sum + w.restarts, 0) }), ...usage };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    this.pool.failQueued();
  }
}
