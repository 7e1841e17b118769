/**
 * The gateway's in-memory routing table. Requests never touch the database:
 * the table is rebuilt from `routingSnapshot()` only when
 * `servingConfigVersion()` moves, and only what changed is reloaded.
 */
import { buffer } from 'node:stream/consumers';
import { joinKey, type ArtifactStore } from '../artifacts/index.js';
import type { Predictor, PredictOptions, PredictorStats, Tensors } from '../serving/predictor.js';
import { createPredictor, type RuntimeSpec } from '../serving/runtimes/index.js';
import type { Capture, RateLimit } from '../serving/schema.js';
import type { RoutedDeployment, RoutedEndpoint, Serving } from '../serving/service.js';
import type { LogStream } from '../telemetry/sink.js';
import { DeferredPredictor } from './deferred.js';
import { TokenBucket } from './ratelimit.js';
import { TrafficSplit } from './split.js';

/** One deployment's predictor, shared by every request routed to it until its config changes. */
export class LiveDeployment {
  inFlight = 0;
  private retired = false;
  private drained: (() => void) | null = null;
  /** Set when the predictor could not be started (or is still starting); requests get 503 naming it. */
  failure: string | null = null;
  /** Ready or failed: no longer starting. */
  settled = false;

  constructor(
    readonly name: string,
    readonly fingerprint: string,
    readonly predictor: Predictor,
    readonly timeoutMs: number,
    readonly model: { name: string; version: number },
  ) {}

  /** Replaced or removed: it finishes what it has and takes nothing new by choice (mirrors skip it). */
  get retiring(): boolean {
    return this.retired;
  }

  async predict(inputs: Tensors, opts: PredictOptions = {}): Promise<Tensors> {
    this.inFlight++;
    try {
      return await this.predictor.predict(inputs, { timeoutMs: this.timeoutMs > 0 ? this.timeoutMs : undefined, ...opts });
    } finally {
      this.inFlight--;
      if (this.inFlight === 0 && this.drained) this.drained();
    }
  }

  /** Closes the predictor once the requests already routed to it have finished. */
  async retire(): Promise<void> {
    if (this.retired) return;
    this.retired = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await this.predictor.close().catch(() => undefined);
  }
}

export interface LiveEndpoint {
  id: number;
  name: string;
  workspace: string;
  auth: 'key' | 'token';
  keys: { primary: string; secondary: string };
  deployments: Map<string, LiveDeployment>;
  /** Deployments with traffic and their weights, in rotation. */
  split: TrafficSplit;
  /** Deployments that get a copy of live traffic, and the share (0..1] of requests copied. */
  mirror: Array<{ name: string; share: number }>;
  rateLimit: RateLimit | null;
  bucket: TokenBucket | null;
  capture: Capture | null;
}

export interface RoutingTableOptions {
  serving: Serving;
  artifacts: ArtifactStore;
  intervalMs?: number;
  /** Environment for process runtimes' children. */
  processEnv?: Record<string, string>;
  log?: { warn(obj: object, msg: string): void };
  onModelLoad?(endpoint: string, deployment: string, seconds: number): void;
  /** Runtime events of a deployment and its model server's output. */
  onLog?(endpointId: number, deployment: string, stream: LogStream, line: string): void;
}

export class RoutingTable {
  private endpoints = new Map<string, LiveEndpoint>();
  /** Predictors still starting, by `endpoint/deployment`; the old one (if any) serves meanwhile. */
  private starting = new Map<string, LiveDeployment>();
  private version = -1;
  /** A start finished: rebuild even though the serving version did not move. */
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private closed = false;
  private readonly retiring = new Set<Promise<void>>();
  /** True once a snapshot has been loaded with every deployment started (or failed). */
  loaded = false;

  constructor(private readonly opts: RoutingTableOptions) {}

  get(name: string): LiveEndpoint | undefined {
    return this.endpoints.get(name);
  }

  /** Stats of every serving deployment (not placeholders or failed ones), read at a metrics scrape. */
  *usage(): Iterable<{ endpoint: string; deployment: string; stats: PredictorStats }> {
    for (const e of this.endpoints.values()) {
      for (const d of e.deployments.values()) if (d.failure === null) yield { endpoint: e.name, deployment: d.name, stats: d.predictor.stats() };
    }
  }

  /** Polls the serving version; the timer never keeps the process alive. */
  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs ?? 500);
    this.timer.unref();
    this.tick();
  }

  private tick() {
    this.refresh().catch((err: unknown) => this.opts.log?.warn({ err }, 'gateway routing refresh failed'));
  }

  /** Reloads when the serving version moved; concurrent calls share one refresh. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.refreshing?.catch(() => undefined);
    const all = [...this.endpoints.values()].flatMap((e) => [...e.deployments.values()]);
    all.push(...this.starting.values());
    this.endpoints.clear();
    this.starting.clear();
    await Promise.all([...all.map((d) => d.retire()), ...this.retiring]);
  }

  /** Retires in the background; close() still waits for every one of them. */
  private retire(d: LiveDeployment): void {
    const p = d.retire().finally(() => this.retiring.delete(p));
    this.retiring.add(p);
  }

  /**
   * Builds the next table: unchanged deployments keep their predictor; a
   * changed or new one is started in the background and swapped in only once
   * ready (a slow model never holds up other routing changes).
   */
  private async doRefresh(): Promise<void> {
    const v = await this.opts.serving.servingConfigVersion();
    if ((v === this.version && !this.dirty) || this.closed) return;
    this.dirty = false;
    const snap = await this.opts.serving.routingSnapshot();
    const next = new Map<string, LiveEndpoint>();
    const keep = new Set<LiveDeployment>();
    const wanted = new Set<string>();
    for (const e of snap.endpoints) {
      const old = this.endpoints.get(e.name);
      const deployments = new Map<string, LiveDeployment>();
      for (const d of e.deployments) {
        const fp = fingerprint(d);
        const prev = old?.deployments.get(d.name);
        if (prev && prev.fingerprint === fp && prev.failure === null) {
          deployments.set(d.name, prev);
          keep.add(prev);
          continue;
        }
        const key = `${e.name}/${d.name}`;
        wanted.add(key);
        let s = this.starting.get(key);
        if (s && s.fingerprint !== fp) {
          this.starting.delete(key);
          this.retire(s);
          s = undefined;
        }
        if (!s) s = this.begin(key, e, d, fp);
        if (s.settled && s.failure !== null && prev && prev.failure === null) {
          // A changed deployment that cannot start leaves the running one serving, as a rolling update would.
          this.starting.delete(key);
          this.retire(s);
          deployments.set(d.name, prev);
          keep.add(prev);
          this.opts.onLog?.(e.id, d.name, 'event', 'the change failed to start; the previous version keeps serving');
        } else if (s.settled) {
          this.starting.delete(key);
          deployments.set(d.name, s);
        } else {
          const serving = prev ?? placeholder(d.name, fp);
          deployments.set(d.name, serving);
          keep.add(serving);
        }
      }
      next.set(e.name, endpointOf(e, deployments, old));
    }
    for (const [key, s] of this.starting) {
      if (wanted.has(key)) continue;
      this.starting.delete(key);
      this.retire(s);
    }
    const previous = this.endpoints;
    this.endpoints = next;
    this.version = snap.version;
    if (this.starting.size === 0) this.loaded = true;
    // Replaced and removed deployments close after their in-flight requests.
    for (const e of previous.values()) for (const d of e.deployments.values()) if (!keep.has(d)) this.retire(d);
  }

  /**
   * Starts a predictor without waiting for it (the model bytes are read in
   * the background too); when it is ready (or failed) the next tick swaps it in.
   */
  private begin(key: string, e: RoutedEndpoint, d: RoutedDeployment, fp: string): LiveDeployment {
    const started = performance.now();
    this.opts.onLog?.(e.id, d.name, 'event', `loading model ${d.model.name} version ${d.model.version} (runtime ${d.runtime}, ${d.instances} instance${d.instances === 1 ? '' : 's'})`);
    const name = `${e.name}/${d.name}`;
    const predictor = new DeferredPredictor(async () => createPredictor(await this.spec(name, e.id, d)));
    const live = new LiveDeployment(d.name, fp, predictor, d.timeoutMs, { name: d.model.name, version: d.model.version });
    this.starting.set(key, live);
    void this.warm(e, d, live, started).then(() => {
      live.settled = true;
      if (this.closed || this.starting.get(key) !== live) return;
      this.dirty = true;
      this.tick();
    });
    return live;
  }

  private async spec(name: string, endpointId: number, d: RoutedDeployment): Promise<RuntimeSpec> {
    const common = { name, instances: d.instances, maxConcurrent: d.maxConcurrent, timeoutMs: d.timeoutMs, batching: d.batching ?? undefined };
    switch (d.runtime) {
      case 'onnx': {
        if (!d.model.file) throw new Error(`model '${d.model.name}' version ${d.model.version} holds no ONNX file`);
        const bytes = await buffer(await this.opts.artifacts.get(joinKey(d.model.storagePrefix, d.model.file)));
        return { kind: 'onnx', ...common, model: new Uint8Array(bytes) };
      }
      case 'process': {
        // The registered model's name is what the model server is asked for in OIP paths.
        const onLog = this.opts.onLog && ((stream: LogStream, line: string) => this.opts.onLog!(endpointId, d.name, stream, line));
        return { kind: 'process', ...common, modelName: d.model.name, command: d.command ?? [], env: this.opts.processEnv, onLog };
      }
      case 'http':
        return { kind: 'http', ...common, modelName: d.model.name, url: d.url ?? '' };
    }
  }

  /** Waits for readiness and reports the state; a failure is kept for requests to see. */
  private async warm(e: RoutedEndpoint, d: RoutedDeployment, live: LiveDeployment, started: number): Promise<void> {
    const endpoint = e.name;
    let state = 'Ready';
    if (live.failure === null) {
      try {
        await live.predictor.ready;
        const ms = live.predictor.stats().modelLoadMs;
        if (ms !== null) this.opts.onModelLoad?.(endpoint, d.name, ms / 1000);
      } catch (err) {
        live.failure = (err as Error).message;
      }
    }
    if (live.failure !== null) state = `Failed: ${live.failure}`.slice(0, 500);
    const after = `after ${Math.round(performance.now() - started)} ms`;
    this.opts.onLog?.(e.id, d.name, 'event', live.failure === null ? `ready ${after} (model load and warm-up)` : `failed ${after}: ${live.failure}`);
    if (state !== d.state) {
      await this.opts.serving.deployments.setState(endpoint, d.name, state).catch((err: unknown) => this.opts.log?.warn({ err }, 'could not record deployment state'));
    }
  }
}

function endpointOf(e: RoutedEndpoint, deployments: Map<string, LiveDeployment>, old: LiveEndpoint | undefined): LiveEndpoint {
  const names: string[] = [];
  const weights: number[] = [];
  for (const [name, weight] of Object.entries(e.traffic)) {
    if (!(weight > 0) || !deployments.has(name)) continue;
    names.push(name);
    weights.push(weight);
  }
  const same = old?.bucket && old.rateLimit && e.rateLimit && old.rateLimit.rps === e.rateLimit.rps && old.rateLimit.burst === e.rateLimit.burst;
  return {
    id: e.id,
    name: e.name,
    workspace: e.workspace,
    auth: e.auth,
    keys: e.keys,
    deployments,
    // An unchanged split keeps its rotation: rebuilding for other changes must not restart it.
    split: old?.split.sameAs(names, weights) ? old.split : new TrafficSplit(names, weights),
    mirror: Object.entries(e.mirror)
      .filter(([name, pct]) => pct > 0 && deployments.has(name))
      .map(([name, pct]) => ({ name, share: Math.min(pct, 100) / 100 })),
    rateLimit: e.rateLimit,
    bucket: same ? old.bucket : e.rateLimit ? new TokenBucket(e.rateLimit.rps, e.rateLimit.burst) : null,
    capture: e.capture,
  };
}

/** The next deployment of the traffic split; null when no traffic is configured. */
export function pick(e: LiveEndpoint): LiveDeployment | null {
  const name = e.split.next();
  return name === null ? null : (e.deployments.get(name) ?? null);
}

/** What makes a running predictor reusable: anything else changing starts a new one. */
function fingerprint(d: RoutedDeployment): string {
  return JSON.stringify([d.runtime, d.command, d.url, d.instances, d.maxConcurrent, d.timeoutMs, d.batching, d.model.digest, d.model.storagePrefix, d.model.file]);
}

/** Stands in for a new deployment while its predictor starts. */
function placeholder(name: string, fp: string): LiveDeployment {
  const p = new LiveDeployment(name, fp, failedPredictor(), 0, { name: '', version: 0 });
  p.failure = 'still starting';
  return p;
}

function failedPredictor(): Predictor {
  const ready = Promise.reject(new Error('not loaded'));
  ready.catch(() => undefined);
  return {
    ready,
    signature: { inputs: [], outputs: [] },
    predict: () => Promise.reject(new Error('not loaded')),
    stats: () => ({ inFlight: 0, queued: 0, healthyInstances: 0, instances: 0, modelLoadMs: null, restarts: 0 }),
    close: async () => undefined,
  };
}
