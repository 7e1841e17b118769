import { SlipwayError, Unavailable } from '../../shared/errors.js';
import { fromNested, toNested } from '../codec.values.js';
import { type ElementType, type ModelSignature, type PredictOptions, type Predictor, type PredictorStats, type TensorInfo, type Tensors } from '../predictor.js';
import { call, httpFailure, isReady, OipClient, Unreachable } from './oip-client.js';
import { InstancePool, type Cancellation, type Instance } from './pool.js';

export interface HttpRuntimeOptions {
  name: string;
  /** Base URL of the server, e.g. http://10.0.0.5:8080 (no trailing path for OIP; MLflow's /invocations is appended). */
  url: string;
  /** Default 'oip'. */
  protocol?: 'oip' | 'mlflow';
  /** The model's name in OIP paths (default: `name`). */
  modelName?: string;
  /** Required for MLflow servers (they publish none); read from OIP metadata otherwise. */
  signature?: ModelSignature;
  /** MLflow: column names for a single 2-D input, sent as dataframe_split (default "0", "1", ...). */
  columns?: string[];
  /** Concurrent requests to the server. */
  maxConcurrent?: number;
  maxQueue?: number;
  timeoutMs?: number;
  startTimeoutMs?: number;
  healthIntervalMs?: number;
}

/** Turns MLflow's `{"predictions": ...}` into tensors named after the signature's outputs. */
export function mlflowPredictions(body: unknown, signature: ModelSignature, server: string): Tensors {
  const bad = (why: string) => new Unavailable(`model server ${server} sent an unusable response: ${why}`, 1);
  const predictions = (body as { predictions?: unknown } | null)?.predictions;
  if (predictions === undefined) throw bad('no predictions');
  const outInfo = (name: string, value: unknown): TensorInfo => {
    const declared = signature.outputs.find((o) => o.name === name);
    let rank = 0;
    let leaf = value;
    while (Array.isArray(leaf)) {
      rank++;
      leaf = leaf[0];
    }
    const type: ElementType = declared?.type ?? (typeof leaf === 'string' ? 'string' : typeof leaf === 'boolean' ? 'bool' : 'float64');
    return { name, type, shape: new Array<number>(rank).fill(-1) };
  };
  const one = (name: string, value: unknown) => {
    try {
      return fromNested(value, outInfo(name, value));
    } catch (e) {
      throw bad((e as Error).message);
    }
  };
  // A list of records (a DataFrame result) becomes one column per key.
  if (Array.isArray(predictions) && predictions.length && typeof predictions[0] === 'object' && predictions[0] !== null && !Array.isArray(predictions[0])) {
    const keys = Object.keys(predictions[0] as object);
    return Object.fromEntries(keys.map((k) => [k, one(k, (predictions as Array<Record<string, unknown>>).map((r) => r[k]))]));
  }
  if (typeof predictions === 'object' && predictions !== null && !Array.isArray(predictions)) {
    return Object.fromEntries(Object.entries(predictions).map(([k, v]) => [k, one(k, v)]));
  }
  return { [signature.outputs[0]?.name ?? 'predictions']: one(signature.outputs[0]?.name ?? 'predictions', predictions) };
}

/** The request body for MLflow's /invocations. */
export function mlflowRequest(inputs: Tensors, signature: ModelSignature, columns?: string[]): unknown {
  const names = Object.keys(inputs);
  const only = names.length === 1 ? inputs[names[0]] : undefined;
  if (only && only.dims.length === 2 && signature.inputs.length <= 1) {
    const cols = columns ?? Array.from({ length: only.dims[1] }, (_, i) => String(i));
    return { dataframe_split: { columns: cols, data: toNested(only) } };
  }
  return { inputs: Object.fromEntries(names.map((n) => [n, toNested(inputs[n])])) };
}

/** The remote server, seen as one instance whose health is polled. */
class RemoteInstance implements Instance {
  healthy = false;
  private timer?: NodeJS.Timeout;
  private readonly stop = new AbortController();
  readonly oip: OipClient;

  constructor(
    private readonly opts: HttpRuntimeOptions,
    private readonly onChange: () => void,
  ) {
    this.oip = new OipClient(opts.url.replace(/\/+$/, ''), opts.modelName ?? opts.name);
  }

  private readyUrl(): string {
    return this.opts.protocol === 'mlflow' ? `${this.oip.base}/ping` : `${this.oip.base}/v2/health/ready`;
  }

  /** Polls readiness: quickly until healthy, then every healthIntervalMs. */
  watch(everyMs = 25): void {
    this.timer = setTimeout(async () => {
      const ok = await isReady(this.readyUrl(), AbortSignal.timeout(2_000));
      if (this.stop.signal.aborted) return;
      if (ok !== this.healthy) {
        this.healthy = ok;
        this.onChange();
      }
      this.watch(ok ? (this.opts.healthIntervalMs ?? 1_000) : Math.min(500, everyMs * 2));
    }, everyMs);
  }

  async run(inputs: Tensors, cancel: Cancellation): Promise<Tensors> {
    const signal = cancel.signal;
    try {
      if (this.opts.protocol !== 'mlflow') return await this.oip.infer(inputs, signal);
      const signature = this.opts.signature!;
      const body = JSON.stringify(mlflowRequest(inputs, signature, this.opts.columns));
      const res = await call(`${this.oip.base}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }, signal);
      if (!res.ok) throw await httpFailure(res, this.oip.base);
      return mlflowPredictions(await res.json(), signature, this.oip.base);
    } catch (e) {
      // A dead server is noticed now, not at the next health check; one that
      // answered, even with a 5xx, is alive and keeps its other requests.
      if (e instanceof Unreachable && !signal.aborted && this.healthy) {
        this.healthy = false;
        this.onChange();
      }
      throw e;
    }
  }

  close(): void {
    this.stop.abort();
    clearTimeout(this.timer);
    this.healthy = false;
  }
}

/** A model server Slipway does not run: OIP or MLflow scoring at a URL. */
export class HttpPredictor implements Predictor {
  readonly ready: Promise<void>;
  signature: ModelSignature;
  private readonly remote: RemoteInstance;
  private readonly pool: InstancePool;
  private loadMs: number | null = null;

  constructor(private readonly opts: HttpRuntimeOptions) {
    if (opts.protocol === 'mlflow' && !opts.signature) {
      throw new SlipwayError('invalid', `deployment '${opts.name}': an MLflow server publishes no signature; give one`);
    }
    this.signature = opts.signature ?? { inputs: [], outputs: [] };
    let healthy: () => void = () => undefined;
    const firstHealthy = new Promise<void>((r) => (healthy = r));
    this.remote = new RemoteInstance(opts, () => {
      if (this.remote.healthy) healthy();
      this.pool.drain();
    });
    this.pool = new InstancePool([this.remote], {
      name: opts.name,
      maxConcurrent: Math.max(1, opts.maxConcurrent ?? 16),
      maxQueue: Math.max(0, opts.maxQueue ?? 64),
      timeoutMs: opts.timeoutMs ?? 0,
    });
    this.remote.watch(0);
    this.ready = this.becomeReady(firstHealthy, performance.now());
    this.ready.catch(() => undefined);
  }

  private async becomeReady(firstHealthy: Promise<void>, started: number): Promise<void> {
    const limit = this.opts.startTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Unavailable(`model server ${this.opts.url} was not ready within ${limit} ms`, 5)), limit);
    });
    try {
      await Promise.race([firstHealthy, timeout]);
      if (!this.opts.signature) this.signature = await this.remote.oip.signature(AbortSignal.timeout(10_000));
      this.loadMs = performance.now() - started;
    } finally {
      clearTimeout(timer);
    }
  }

  predict(inputs: Tensors, opts?: PredictOptions): Promise<Tensors> {
    return this.pool.submit(inputs, opts);
  }

  stats(): PredictorStats {
    return this.pool.stats({ instances: 1, modelLoadMs: this.loadMs, restarts: 0 });
  }

  async close(): Promise<void> {
    this.remote.close();
    this.pool.failQueued();
  }
}
