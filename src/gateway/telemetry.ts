/**
 * The gateway's telemetry writer: sampled captures, per-minute rollups and
 * deployment log lines are accumulated in memory on the request path (a
 * push, a few counter increments) and written by a periodic flusher in one
 * batch. The capture buffer is bounded: when full, samples are dropped and
 * counted. A failed write is logged and counted, never thrown at a request.
 */
import type { Capture } from '../serving/schema.js';
import { addInto, bucketOf, emptyHistogram } from '../telemetry/histogram.js';
import type { CaptureRecord, LogLine, LogStream, RollupDelta, TelemetrySink } from '../telemetry/sink.js';
import { tensorBytes, toRecord, type PendingCapture } from './capture.js';
import type { GatewayMetrics } from './metrics.js';
import { WindowAccumulator } from './windows.js';

export interface TelemetryWriterOptions {
  sink: TelemetrySink;
  metrics: Pick<GatewayMetrics, 'captured' | 'captureDropped' | 'telemetryWriteErrors'>;
  /** Flush period (default 500 ms). */
  flushMs?: number;
  /** Captures held while waiting for a write; past it new samples are dropped (default 10 000). */
  maxBuffer?: number;
  /** The same bound in bytes of held tensors, for large requests (default 64 MiB). */
  maxBufferBytes?: number;
  /** Flush early once this many captures wait (default 500). */
  batchSize?: number;
  /** Log lines held while waiting for a write (default 5 000). */
  maxLogLines?: number;
  log?: { warn(obj: object, msg: string): void };
  now?: () => number;
}

const MINUTE = 60_000;

export class TelemetryWriter {
  private captures: PendingCapture[] = [];
  private capturedBytes = 0;
  private logs: LogLine[] = [];
  private rollups = new Map<string, RollupDelta>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private queued: Promise<void> | null = null;
  private readonly maxBuffer: number;
  private readonly maxBufferBytes: number;
  private readonly batchSize: number;
  private readonly maxLogLines: number;
  private readonly now: () => number;
  /** Per-deployment 5-second stats (live and mirrored requests), for rollout gates. */
  readonly windows: WindowAccumulator;

  constructor(private readonly opts: TelemetryWriterOptions) {
    this.maxBuffer = opts.maxBuffer ?? 10_000;
    this.maxBufferBytes = opts.maxBufferBytes ?? 64 * 1024 * 1024;
    this.batchSize = opts.batchSize ?? 500;
    this.maxLogLines = opts.maxLogLines ?? 5_000;
    this.now = opts.now ?? Date.now;
    this.windows = new WindowAccumulator(this.now);
  }

  /** Whether this request is one to capture, by the endpoint's sample rate. */
  sampled(policy: Capture | null): policy is Capture {
    return policy !== null && policy.sample > 0 && (policy.sample >= 1 || Math.random() < policy.sample);
  }

  /** Queues a finished capture, or drops and counts it when the buffer is full. */
  capture(p: PendingCapture): void {
    const bytes = tensorBytes(p.inputs) + (p.outputs ? tensorBytes(p.outputs) : 0);
    if (this.captures.length >= this.maxBuffer || this.capturedBytes + bytes > this.maxBufferBytes) {
      this.opts.metrics.captureDropped.inc({ endpoint: p.endpoint });
      return;
    }
    this.captures.push(p);
    this.capturedBytes += bytes;
    this.opts.metrics.captured.inc({ endpoint: p.endpoint });
    if (this.captures.length === this.batchSize) void this.flush();
  }

  /** Counts one answered request into its minute. Throttled requests never reach a model, so they stay out of latency. */
  observe(endpointId: number, deployment: string, status: number, latencyMs: number): void {
    const at = this.now();
    if (deployment !== '-' && status !== 429) this.windows.live(endpointId, deployment, status, latencyMs, at);
    const minute = at - (at % MINUTE);
    const key = `${endpointId}\n${deployment}\n${minute}`;
    let r = this.rollups.get(key);
    if (!r) {
      r = { endpointId, deployment, minute, requests: 0, errors4xx: 0, errors5xx: 0, throttled: 0, latencySumMs: 0, latencyHist: emptyHistogram() };
      this.rollups.set(key, r);
    }
    r.requests++;
    if (status >= 500) r.errors5xx++;
    else if (status >= 400) r.errors4xx++;
    if (status === 429) {
      r.throttled++;
      return;
    }
    r.latencySumMs += latencyMs;
    r.latencyHist[bucketOf(latencyMs)]++;
  }

  log(endpointId: number, deployment: string, stream: LogStream, line: string): void {
    if (this.logs.length >= this.maxLogLines) return;
    this.logs.push({ endpointId, deployment, at: this.now(), stream, line });
  }

  /** Flushes periodically; the timer never keeps the process alive. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.opts.flushMs ?? 500);
    this.timer.unref();
  }

  /** Writes everything recorded before the call; calls while one waits to start share it. */
  flush(): Promise<void> {
    if (this.queued) return this.queued;
    const p = this.running.then(() => {
      this.queued = null;
      return this.writeOnce();
    });
    this.queued = p;
    this.running = p;
    return p;
  }

  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  private async writeOnce(): Promise<void> {
    const pending = this.captures;
    const logs = this.logs;
    const rollups = [...this.rollups.values()];
    const windows = this.windows.drain();
    this.captures = [];
    this.capturedBytes = 0;
    this.logs = [];
    this.rollups = new Map();
    if (!pending.length && !logs.length && !rollups.length && !windows.length) return;
    const captures: CaptureRecord[] = [];
    for (const p of pending) {
      try {
        captures.push(toRecord(p));
      } catch (err) {
        this.failed(err, 'a capture could not be converted; it is dropped');
      }
    }
    try {
      await this.opts.sink.write({ captures, rollups, logs, windows });
    } catch (err) {
      this.failed(err, `telemetry write failed: ${pending.length} captures and ${logs.length} log lines dropped, rollups kept for the next flush`);
      for (const p of pending) this.opts.metrics.captureDropped.inc({ endpoint: p.endpoint });
      for (const r of rollups) this.restore(r);
      this.windows.restore(windows);
    }
  }

  private failed(err: unknown, msg: string): void {
    this.opts.metrics.telemetryWriteErrors.inc();
    this.opts.log?.warn({ err }, msg);
  }

  /** Adds a delta that could not be written back into the accumulator. */
  private restore(r: RollupDelta): void {
    const key = `${r.endpointId}\n${r.deployment}\n${r.minute}`;
    const into = this.rollups.get(key);
    if (!into) {
      this.rollups.set(key, r);
      return;
    }
    into.requests += r.requests;
    into.errors4xx += r.errors4xx;
    into.errors5xx += r.errors5xx;
    into.throttled += r.throttled;
    into.latencySumMs += r.latencySumMs;
    addInto(into.latencyHist, r.latencyHist);
  }
}
