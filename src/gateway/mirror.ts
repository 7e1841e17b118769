/**
 * Mirrored (shadow) traffic: copies of live requests sent to other
 * deployments of the endpoint once the live answer is known, off the
 * request's path. A mirror never delays or fails the live response: it
 * starts after the live outputs are in, is never awaited, has every error
 * caught, and the copies in flight per endpoint are bounded (beyond the
 * bound they are dropped and counted). Its results are only compared with
 * the live outputs and counted into the deployment's window stats.
 */
import type { Counter } from 'prom-client';
import type { Tensor, Tensors } from '../serving/predictor.js';
import { labelled } from './metrics.js';
import type { LiveDeployment, LiveEndpoint } from './routing.js';
import type { Agreement, WindowAccumulator } from './windows.js';

export type MirrorOutcome = 'agreed' | 'disagreed' | 'uncompared' | 'failed' | 'dropped' | 'not_ready';

export interface MirrorOptions {
  /** Mirrored requests in flight per endpoint; more are dropped (default 64). */
  maxInFlight?: number;
  /** Deadline of a mirrored request to a deployment that sets none (default 30 s). */
  timeoutMs?: number;
}

export class Mirror {
  private readonly inFlight = new Map<number, number>();
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;
  private readonly counter: (endpoint: string, deployment: string, outcome: string) => { inc(): void };

  constructor(
    private readonly windows: WindowAccumulator,
    counter: Counter<'endpoint' | 'deployment' | 'outcome'>,
    opts: MirrorOptions = {},
  ) {
    this.maxInFlight = opts.maxInFlight ?? 64;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.counter = labelled((endpoint, deployment, outcome) => counter.labels({ endpoint, deployment, outcome }));
  }

  /**
   * Copies a live request to the endpoint's mirror deployments (each by its
   * share), on a later turn of the event loop. `live` is the live answer, or
   * null when it failed (the copy still measures the mirror's errors and latency).
   */
  after(e: LiveEndpoint, served: LiveDeployment, inputs: Tensors, live: Tensors | null): void {
    let chosen: LiveDeployment[] | null = null;
    for (const { name, share } of e.mirror) {
      if (name === served.name || !(share >= 1 || Math.random() < share)) continue;
      const d = e.deployments.get(name);
      if (d) (chosen ??= []).push(d);
    }
    if (chosen) setImmediate(() => chosen.forEach((d) => this.send(e, d, inputs, live)));
  }

  private send(e: LiveEndpoint, d: LiveDeployment, inputs: Tensors, live: Tensors | null): void {
    const count = (outcome: MirrorOutcome) => this.counter(e.name, d.name, outcome).inc();
    if (d.retiring) return count('not_ready');
    if (d.failure !== null) {
      // A deployment still starting is not measured; one that failed to start is a mirror failure.
      if (!d.settled) return count('not_ready');
      this.windows.mirrored(e.id, d.name, true, null, null);
      return count('failed');
    }
    const n = this.inFlight.get(e.id) ?? 0;
    if (n >= this.maxInFlight) return count('dropped');
    this.inFlight.set(e.id, n + 1);
    const started = performance.now();
    d.predict(inputs, d.timeoutMs > 0 ? {} : { timeoutMs: this.timeoutMs })
      .then(
        (outputs) => {
          const agreement = live ? agree(live, outputs) : null;
          this.windows.mirrored(e.id, d.name, false, performance.now() - started, agreement);
          count(agreement === null ? 'uncompared' : agreement.exact ? 'agreed' : 'disagreed');
        },
        () => {
          this.windows.mirrored(e.id, d.name, true, performance.now() - started, null);
          count('failed');
        },
      )
      .catch(() => undefined)
      .finally(() => {
        const left = (this.inFlight.get(e.id) ?? 1) - 1;
        if (left > 0) this.inFlight.set(e.id, left);
        else this.inFlight.delete(e.id);
      });
  }
}

const isFloat = (t: Tensor) => t.type === 'float32' || t.type === 'float64';

/**
 * Exact: the same outputs with the same shapes and every element equal
 * (class labels, integer outputs, and floats too). absDiff: the mean
 * absolute difference over the elements of float outputs both have in the
 * same shape; 0 when there are none.
 */
export function agree(live: Tensors, mirror: Tensors): Agreement {
  const names = Object.keys(live);
  let exact = names.length === Object.keys(mirror).length;
  let diff = 0;
  let floats = 0;
  for (const name of names) {
    const a = live[name];
    const b = mirror[name];
    if (!b || a.type !== b.type || a.data.length !== b.data.length || a.dims.join() !== b.dims.join()) {
      exact = false;
      continue;
    }
    const float = isFloat(a);
    for (let i = 0; i < a.data.length; i++) {
      const x = a.data[i];
      const y = b.data[i];
      if (x !== y) exact = false;
      if (float) diff += Math.abs((x as number) - (y as number));
    }
    if (float) floats += a.data.length;
  }
  return { exact, absDiff: floats ? diff / floats : 0 };
}
