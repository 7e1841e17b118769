import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { SlipwayError, Unavailable } from '../../shared/errors.js';
import type { ModelSignature, PredictOptions, Predictor, PredictorStats, Tensors } from '../predictor.js';
import { OipClient } from './oip-client.js';
import { InstancePool, type Cancellation, type Instance } from './pool.js';
import { processUsage, UsageAccount, usageStats } from './usage.js';

export interface ProcessRuntimeOptions {
  /** Deployment name, for errors and logs. */
  name: string;
  /** The model server to start, e.g. ['python', '-m', 'my_server']; it must listen on 127.0.0.1:$PORT. */
  command: string[];
  /**
   * The child's whole environment (the composition root passes what it
   * should inherit; nothing is read from this process's env here). PORT
   * and SLIPWAY_MODEL_NAME are added.
   */
  env?: Record<string, string>;
  cwd?: string;
  /** The model's name in OIP paths (default: `name`). */
  modelName?: string;
  /** Known signature; otherwise read from `GET /v2/models/{name}`. */
  signature?: ModelSignature;
  instances?: number;
  maxConcurrent?: number;
  maxQueue?: number;
  timeoutMs?: number;
  /** How long `ready` waits for the first healthy instance (default 60 s). */
  startTimeoutMs?: number;
  /** Restart delay after a crash doubles from `backoffMs` up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Health check period of a running child. */
  healthIntervalMs?: number;
  /** Receives every line: the children's output (stdout, stderr) and Slipway's notes about them (event). */
  onLog?(stream: 'event' | 'stdout' | 'stderr', line: string): void;
}

const STABLE_MS = 10_000;
const LOG_LINES = 200;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * One supervised child. It is healthy only between a passing readiness
 * check and its death; a death aborts its requests (they answer
 * Unavailable) and schedules a restart with exponential backoff.
 */
class ChildInstance implements Instance {
  healthy = false;
  child?: ChildProcess;
  client?: OipClient;
  restarts = 0;
  /** CPU and resident memory from /proc, sampled at each health check and each stats() read. */
  readonly usage = new UsageAccount();
  private attempts = 0;
  private startedAt = 0;
  private stopped = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly opts: Required<Pick<ProcessRuntimeOptions, 'backoffMs' | 'maxBackoffMs' | 'healthIntervalMs'>> & ProcessRuntimeOptions,
    private readonly log: (line: string, stream?: 'stdout' | 'stderr') => void,
    private readonly onHealthy: (i: ChildInstance) => void,
    private readonly onDown: () => void,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.stopped) return;
    const port = await freePort();
    if (this.stopped) return;
    const [cmd, ...args] = this.opts.command;
    const model = this.opts.modelName ?? this.opts.name;
    const gen = new AbortController();
    const child = spawn(cmd, args, {
      cwd: this.opts.cwd,
      env: { ...this.opts.env, PORT: String(port), SLIPWAY_MODEL_NAME: model },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.client = new OipClient(`http://127.0.0.1:${port}`, model);
    this.startedAt = Date.now();
    // Whole lines only: a chunk may end mid-line; the rest waits for the next one.
    const pipe = (s: NodeJS.ReadableStream | null, stream: 'stdout' | 'stderr') => {
      let partial = '';
      s?.setEncoding('utf8');
      s?.on('data', (d: string) => {
        const lines = (partial + d).split('\n');
        partial = lines.pop()!.slice(-4_000);
        for (const l of lines) if (l) this.log(`[${child.pid}] ${l}`, stream);
      });
      s?.on('end', () => partial && this.log(`[${child.pid}] ${partial}`, stream));
    };
    pipe(child.stdout, 'stdout');
    pipe(child.stderr, 'stderr');
    child.once('error', (e) => this.log(`could not start ${cmd}: ${e.message}`));
    child.once('close', (code, signal) => this.died(gen, code, signal));
    this.poll(gen, 25);
  }

  /** Readiness checks: fast until healthy, then every healthIntervalMs. */
  private poll(gen: AbortController, everyMs: number): void {
    this.timer = setTimeout(async () => {
      if (gen.signal.aborted) return;
      // A plain timeout, not AbortSignal.any over the long-lived generation
      // signal: on Node 20 every any() would stay attached to it.
      const ok = await this.client!.ready(AbortSignal.timeout(2_000));
      if (gen.signal.aborted) return;
      this.sampleUsage();
      const was = this.healthy;
      this.healthy = ok;
      if (ok && !was) this.onHealthy(this);
      if (!ok && was) this.onDown();
      this.poll(gen, ok ? this.opts.healthIntervalMs : Math.min(250, everyMs * 2));
    }, everyMs);
  }

  /** Reads the live child's /proc entries; a dead one is left to died(). */
  sampleUsage(): void {
    const c = this.child;
    if (c?.pid !== undefined && c.exitCode === null && c.signalCode === null) this.usage.note(processUsage(c.pid));
  }

  private died(gen: AbortController, code: number | null, signal: NodeJS.Signals | null): void {
    this.healthy = false;
    this.usage.retire();
    clearTimeout(this.timer);
    gen.abort(new Unavailable(`model '${this.opts.name}' server exited (${signal ?? `code ${code}`})`, 1));
    if (this.stopped) return;
    this.log(`model server exited (${signal ?? `code ${code}`}); restarting`);
    if (Date.now() - this.startedAt > STABLE_MS) this.attempts = 0;
    const delay = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** this.attempts++);
    this.restarts++;
    this.onDown();
    this.timer = setTimeout(() => void this.start().catch((e: Error) => this.log(`restart failed: ${e.message}`)), delay);
  }

  run(inputs: Tensors, cancel: Cancellation): Promise<Tensors> {
    // A child's death resets its connections, so in-flight requests fail
    // (Unavailable) without being tied to the child's lifetime signal.
    return this.client!.infer(inputs, cancel.signal);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.healthy = false;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('close', () => r()));
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await gone;
    clearTimeout(force);
  }
}

/** Model servers started and supervised by Slipway, spoken to over OIP. */
export class ProcessPredictor implements Predictor {
  readonly ready: Promise<void>;
  signature: ModelSignature;
  private readonly pool: InstancePool;
  readonly children: ChildInstance[];
  private readonly lines: string[] = [];
  private loadMs: number | null = null;
  private readonly onLog: ProcessRuntimeOptions['onLog'];

  constructor(opts: ProcessRuntimeOptions) {
    if (!opts.command.length) throw new SlipwayError('invalid', `deployment '${opts.name}': command must name a program`);
    const full = { backoffMs: 200, maxBackoffMs: 10_000, healthIntervalMs: 1_000, ...opts };
    this.signature = opts.signature ?? { inputs: [], outputs: [] };
    this.onLog = opts.onLog;
    const started = performance.now();
    let first: (i: ChildInstance) => void = () => undefined;
    const firstHealthy = new Promise<ChildInstance>((r) => (first = r));
    const n = Math.max(1, opts.instances ?? 1);
    this.children = Array.from(
      { length: n },
      () =>
        new ChildInstance(
          full,
          (l, stream) => this.log(l, stream),
          (i) => {
            first(i);
            this.pool.drain();
          },
          () => this.pool.drain(),
        ),
    );
    this.pool = new InstancePool(this.children, {
      name: opts.name,
      maxConcurrent: Math.max(1, opts.maxConcurrent ?? 4),
      maxQueue: Math.max(0, opts.maxQueue ?? 64),
      timeoutMs: opts.timeoutMs ?? 0,
    });
    for (const c of this.children) void c.start().catch((e: Error) => this.log(`start failed: ${e.message}`));
    this.ready = this.becomeReady(firstHealthy, opts, started);
    this.ready.catch(() => undefined);
  }

  private async becomeReady(firstHealthy: Promise<ChildInstance>, opts: ProcessRuntimeOptions, started: number): Promise<void> {
    const limit = opts.startTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Unavailable(`model '${opts.name}' server was not ready within ${limit} ms`, 5)), limit);
    });
    try {
      const child = await Promise.race([firstHealthy, timeout]);
      if (!opts.signature) this.signature = await child.client!.signature(AbortSignal.timeout(10_000));
      this.loadMs = performance.now() - started;
    } finally {
      clearTimeout(timer);
    }
  }

  private log(line: string, stream: 'event' | 'stdout' | 'stderr' = 'event'): void {
    const kept = line.length > 2_000 ? `${line.slice(0, 2_000)}…` : line;
    this.lines.push(kept);
    if (this.lines.length > LOG_LINES) this.lines.shift();
    this.onLog?.(stream, kept);
  }

  /** The model servers' recent output and Slipway's notes about them. */
  logs(): string[] {
    return [...this.lines];
  }

  predict(inputs: Tensors, opts?: PredictOptions): Promise<Tensors> {
    return this.pool.submit(inputs, opts);
  }

  stats(): PredictorStats {
    for (const c of this.children) c.sampleUsage();
    const usage = usageStats(this.children.map((c) => c.usage));
    return { ...this.pool.stats({ instances: this.children.length, modelLoadMs: this.loadMs, restarts: this.children.reduce((s, c) => s + c.restarts, 0) }), ...usage };
  }

  async close(): Promise<void> {
    await Promise.all(this.children.map((c) => c.stop()));
    this.pool.failQueued();
  }
}
