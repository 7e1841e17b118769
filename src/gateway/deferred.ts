/**
 * A predictor whose runtime is still being created (its model bytes read
 * from the artifact store, possibly a large object from S3). The routing
 * table starts deployments through it, so a refresh never waits on a
 * download: other routing changes keep landing within the refresh period.
 */
import type { ModelSignature, Predictor, PredictOptions, PredictorStats, Tensors } from '../serving/predictor.js';

const idle: PredictorStats = { inFlight: 0, queued: 0, healthyInstances: 0, instances: 0, modelLoadMs: null, restarts: 0 };
const unknown: ModelSignature = { inputs: [], outputs: [] };

export class DeferredPredictor implements Predictor {
  readonly ready: Promise<void>;
  private inner: Predictor | null = null;
  private readonly created: Promise<Predictor>;

  constructor(create: () => Promise<Predictor>) {
    this.created = create().then((p) => (this.inner = p));
    this.ready = this.created.then((p) => p.ready);
    this.ready.catch(() => undefined);
  }

  get signature(): ModelSignature {
    return this.inner?.signature ?? unknown;
  }

  predict(inputs: Tensors, opts?: PredictOptions): Promise<Tensors> {
    return this.inner ? this.inner.predict(inputs, opts) : Promise.reject(new Error('not loaded'));
  }

  stats(): PredictorStats {
    return this.inner?.stats() ?? idle;
  }

  /** Closes the runtime once created (a creation that failed has nothing to close). */
  async close(): Promise<void> {
    const p = await this.created.catch(() => null);
    await p?.close();
  }
}
