import type { ArtifactStore } from '../artifacts/store.js';
import type { Predictor } from '../serving/predictor.js';
import { createPredictor } from '../serving/runtimes/index.js';

/** A predictor unused this long is closed (its worker thread and session freed). */
const IDLE_MS = 60_000;

async function bytesOf(artifacts: ArtifactStore, key: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of await artifacts.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The serving runtime's ONNX predictors of the models batch runs score,
 * one per pinned model file, shared by the runs of a worker process. The
 * same runtime as online deployments (worker-thread sessions with the same
 * options), so batch and online scores are the same numbers.
 */
export class ModelCache {
  private readonly live = new Map<string, { predictor: Promise<Predictor>; usedAt: number }>();

  constructor(
    private readonly artifacts: ArtifactStore,
    private readonly maxConcurrent: number,
  ) {}

  get(key: string, name: string): Promise<Predictor> {
    let e = this.live.get(key);
    if (!e) {
      const predictor = (async () => {
        const p = createPredictor({ kind: 'onnx', name: `batch:${name}`, model: await bytesOf(this.artifacts, key), instances: 1, maxConcurrent: this.maxConcurrent, maxQueue: 10_000, timeoutMs: 0 });
        await p.ready;
        return p;
      })();
      e = { predictor, usedAt: Date.now() };
      this.live.set(key, e);
      // A model that failed to load is tried afresh next time.
      predictor.catch(() => this.live.delete(key));
    }
    e.usedAt = Date.now();
    return e.predictor;
  }

  closeIdle(now = Date.now()): void {
    for (const [key, e] of this.live) {
      if (now - e.usedAt < IDLE_MS) continue;
      this.live.delete(key);
      void e.predictor.then((p) => p.close(), () => undefined);
    }
  }

  async close(): Promise<void> {
    const all = [...this.live.values()];
    this.live.clear();
    await Promise.all(all.map((e) => e.predictor.then((p) => p.close(), () => undefined)));
  }
}
