/** The gateway's Prometheus series, on the app's registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PredictorStats } from '../serving/predictor.js';

const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type GatewayMetrics = ReturnType<typeof gatewayMetrics>;

/**
 * Memoises a metric's labelled child per label values: prom-client hashes
 * a label object (sorting its keys) on every call, which the hot path would
 * otherwise pay several times per request.
 */
export function labelled<T>(child: (...values: string[]) => T): (...values: string[]) => T {
  const children = new Map<string, T>();
  return (...values) => {
    const key = values.join('\u0000');
    let c = children.get(key);
    if (c === undefined) children.set(key, (c = child(...values)));
    return c;
  };
}

export function gatewayMetrics(registry: Registry) {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'slipway_endpoint_requests_total',
      help: 'Inference requests by endpoint, serving deployment and status code',
      labelNames: ['endpoint', 'deployment', 'status'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'slipway_endpoint_request_duration_seconds',
      help: 'Gateway time of an inference request, end to end',
      labelNames: ['endpoint'] as const,
      buckets: latencyBuckets,
      registers,
    }),
    inference: new Histogram({
      name: 'slipway_model_inference_duration_seconds',
      help: 'Model time of an inference request (queueing in the runtime included)',
      labelNames: ['endpoint', 'deployment'] as const,
      buckets: latencyBuckets,
      registers,
    }),
    inFlight: new Gauge({
      name: 'slipway_endpoint_in_flight',
      help: 'Inference requests being served',
      labelNames: ['endpoint'] as const,
      registers,
    }),
    throttled: new Counter({
      name: 'slipway_endpoint_throttled_total',
      help: 'Inference requests refused by the endpoint rate limit',
      labelNames: ['endpoint'] as const,
      registers,
    }),
    throttleDelay: new Histogram({
      name: 'slipway_endpoint_throttle_delay_seconds',
      help: 'Wait told to throttled requests: seconds until the rate limit admits one (Retry-After rounds it up)',
      labelNames: ['endpoint'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    }),
    captured: new Counter({
      name: 'slipway_captures_total',
      help: 'Requests sampled for capture and queued for the store',
      labelNames: ['endpoint'] as const,
      registers,
    }),
    captureDropped: new Counter({
      name: 'slipway_capture_dropped_total',
      help: 'Sampled captures dropped: the capture buffer was full, or their write failed',
      labelNames: ['endpoint'] as const,
      registers,
    }),
    telemetryWriteErrors: new Counter({
      name: 'slipway_telemetry_write_errors_total',
      help: 'Failed telemetry writes (captures, rollups, deployment logs); requests are never failed by them',
      registers,
    }),
    mirrored: new Counter({
      name: 'slipway_endpoint_mirrored_total',
      help: 'Mirrored copies of live requests by endpoint, mirror deployment and outcome (agreed, disagreed, uncompared, failed, dropped, not_ready)',
      labelNames: ['endpoint', 'deployment', 'outcome'] as const,
      registers,
    }),
    modelLoad: new Gauge({
      name: 'slipway_model_load_seconds',
      help: 'Time from start to ready (load and warm-up) of a deployment',
      labelNames: ['endpoint', 'deployment'] as const,
      registers,
    }),
  };
}

/** The live deployments and their predictors' stats, as a scrape reads them. */
export type UsageSource = () => Iterable<{ endpoint: string; deployment: string; stats: PredictorStats }>;

/**
 * Per-deployment CPU and memory, read from the predictors only when
 * Prometheus scrapes. A runtime that cannot measure them (http; non-Linux)
 * has no series rather than a made-up zero.
 */
export function deploymentUsageMetrics(registry: Registry, source: UsageSource) {
  const labelNames = ['endpoint', 'deployment'] as const;
  const each = (pick: (s: PredictorStats) => number | undefined, put: (labels: { endpoint: string; deployment: string }, v: number) => void) => {
    for (const u of source()) {
      const v = pick(u.stats);
      if (v !== undefined) put({ endpoint: u.endpoint, deployment: u.deployment }, v);
    }
  };
  new Counter({
    name: 'slipway_deployment_cpu_seconds_total',
    help: 'CPU time used by a deployment: its model-server processes (process runtime) or worker threads (onnx), restarts included',
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      each((s) => s.cpuSeconds, (labels, v) => this.inc(labels, v));
    },
  });
  new Gauge({
    name: 'slipway_deployment_memory_bytes',
    help: 'Memory of a deployment: resident set of its model-server processes (process runtime) or JS heap of its worker threads (onnx)',
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      each((s) => s.memoryBytes, (labels, v) => this.set(labels, v));
    },
  });
}
