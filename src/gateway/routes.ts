/**
 * The inference gateway: `/endpoints/{endpoint}/score` and the Open
 * Inference Protocol paths. Routing, keys and limits come from the
 * in-memory RoutingTable; token checks are cached briefly, so a request
 * makes no database round trip in the steady state.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { ArtifactStore } from '../artifacts/index.js';
import { decodeScoring, encodeMlflowResponse } from '../serving/codec.js';
import { decodeOipRequest, encodeOipResponse } from '../serving/codec.oip.js';
import { oipDatatype } from '../serving/codec.values.js';
import type { Tensors, TensorInfo } from '../serving/predictor.js';
import type { Serving } from '../serving/service.js';
import { Invalid, NotFound, SlipwayError, Unavailable } from '../shared/errors.js';
import { GatewayAuth, type TokenChecker } from './auth.js';
import { feedbackRoute, isFeedback, type FeedbackSink } from './feedback.js';
import type { PendingCapture } from './capture.js';
import { deploymentUsageMetrics, gatewayMetrics, labelled } from './metrics.js';
import { Mirror, type MirrorOptions } from './mirror.js';
import { pick, RoutingTable, type LiveDeployment, type LiveEndpoint } from './routing.js';
import { TelemetryWriter, type TelemetryWriterOptions } from './telemetry.js';

export interface GatewayOptions {
  serving: Serving;
  artifacts: ArtifactStore;
  authz: TokenChecker;
  registry: Registry;
  refreshMs?: number;
  processEnv?: Record<string, string>;
  /** Where captures, rollups and deployment logs go, and the writer's buffer and flush settings. */
  telemetry: Omit<TelemetryWriterOptions, 'metrics' | 'log'>;
  /** Bounds of mirrored (shadow) traffic. */
  mirror?: MirrorOptions;
  /** Where ground-truth feedback goes; without it the feedback route is absent. */
  feedback?: FeedbackSink;
}

interface GatewayState {
  endpoint: LiveEndpoint | null;
  deployment: LiveDeployment | null;
  /** Set when this request was sampled for capture; written once answered. */
  capture: PendingCapture | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    gateway: GatewayState | null;
  }
}

const TARGET = 'x-slipway-deployment';
const tags = ['inference'];

export async function gatewayRoutes(app: FastifyInstance, opts: GatewayOptions) {
  const metrics = gatewayMetrics(opts.registry);
  const requestsBy = labelled((endpoint, deployment, status) => metrics.requests.labels(endpoint, deployment, status));
  const durationBy = labelled((endpoint) => metrics.duration.labels(endpoint));
  const inferenceBy = labelled((endpoint, deployment) => metrics.inference.labels(endpoint, deployment));
  const inFlightBy = labelled((endpoint) => metrics.inFlight.labels(endpoint));
  const writer = new TelemetryWriter({ ...opts.telemetry, metrics, log: app.log });
  const mirror = new Mirror(writer.windows, metrics.mirrored, opts.mirror);
  const table = new RoutingTable({
    serving: opts.serving,
    artifacts: opts.artifacts,
    intervalMs: opts.refreshMs,
    processEnv: opts.processEnv,
    log: app.log,
    onModelLoad: (endpoint, deployment, seconds) => metrics.modelLoad.set({ endpoint, deployment }, seconds),
    onLog: (endpointId, deployment, stream, line) => writer.log(endpointId, deployment, stream, line),
  });
  const auth = new GatewayAuth(opts.authz);
  deploymentUsageMetrics(opts.registry, () => table.usage());
  app.addHook('onReady', async () => {
    table.start();
    writer.start();
  });
  // Predictors close first (their last log lines are recorded), then everything pending is written.
  app.addHook('onClose', async () => {
    await table.close();
    await writer.close();
  });
  app.decorateRequest('gateway', null);
  // Plain JSON.parse: Fastify's default (secure-json-parse) scans for
  // prototype keys at ~5% of a small request's CPU; inference bodies are only
  // read field by field by the codec, never merged into other objects.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(Invalid.field('body', 'a JSON document (the body is empty)'));
    try {
      done(null, JSON.parse(body as string));
    } catch (e) {
      done(Invalid.field('body', `valid JSON (${(e as Error).message})`));
    }
  });

  // Every inference response names the deployment that served it ('-' when none did).
  app.addHook('onRequest', async (req, reply) => {
    reply.header(TARGET, '-');
    const name = (req.params as { endpoint?: string }).endpoint;
    if (name === undefined) return;
    const endpoint = table.get(name);
    if (!endpoint) throw new NotFound('endpoint', name);
    req.gateway = { endpoint, deployment: null, capture: null };
    await auth.check(req, endpoint);
    // Only inference spends the budget; metadata and readiness probes do not.
    const wait = req.method === 'POST' && !isFeedback(req) ? (endpoint.bucket?.take() ?? 0) : 0;
    if (wait > 0) {
      metrics.throttled.inc({ endpoint: name });
      metrics.throttleDelay.observe({ endpoint: name }, wait);
      throw new SlipwayError('rate_limited', `endpoint '${name}' is over its rate limit of ${endpoint.rateLimit?.rps} requests/s`, { retryAfterSeconds: Math.max(1, Math.ceil(wait)) });
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    const g = req.gateway;
    if (!g?.endpoint) return;
    requestsBy(g.endpoint.name, g.deployment?.name ?? '-', String(reply.statusCode)).inc();
    durationBy(g.endpoint.name).observe(reply.elapsedTime / 1000);
    // Rollups count inference only: readiness probes and metadata reads would drown it.
    if (req.method === 'POST' && !isFeedback(req)) writer.observe(g.endpoint.id, g.deployment?.name ?? '-', reply.statusCode, reply.elapsedTime);
    if (g.capture) {
      g.capture.status = reply.statusCode;
      g.capture.latencyMs = reply.elapsedTime;
      writer.capture(g.capture);
    }
  });

  /** A sampled request's copy, completed with outputs, status and latency as they come. */
  const sample = (req: FastifyRequest, format: string, columns: string[] | undefined, inputs: Tensors): PendingCapture | null => {
    const g = req.gateway!;
    const e = g.endpoint!;
    const d = g.deployment!;
    if (!writer.sampled(e.capture)) return null;
    g.capture = {
      endpointId: e.id,
      endpoint: e.name,
      policy: e.capture,
      deployment: d.name,
      model: d.model,
      requestId: req.id,
      at: Date.now(),
      format,
      columns,
      inputs,
      outputs: null,
      status: 0,
      latencyMs: 0,
    };
    return g.capture;
  };

  const choose = (req: FastifyRequest, reply: FastifyReply): LiveDeployment => {
    const g = req.gateway!;
    const e = g.endpoint!;
    const wanted = req.headers[TARGET];
    let d: LiveDeployment | null;
    if (typeof wanted === 'string' && wanted !== '') {
      d = e.deployments.get(wanted) ?? null;
      if (!d) throw new NotFound('deployment', `${e.name}/${wanted}`);
    } else {
      d = pick(e);
      if (!d) throw new Unavailable(`endpoint '${e.name}' has no traffic configured`, 5);
    }
    g.deployment = d;
    reply.header(TARGET, d.name);
    if (d.failure !== null) throw new Unavailable(`deployment '${d.name}' of endpoint '${e.name}' is not serving: ${d.failure}`, d.settled ? 5 : 1);
    return d;
  };

  const run = async (e: LiveEndpoint, d: LiveDeployment, inputs: Tensors): Promise<Tensors> => {
    const inFlight = inFlightBy(e.name);
    inFlight.inc();
    const started = performance.now();
    try {
      return await d.predict(inputs);
    } finally {
      inFlight.dec();
      inferenceBy(e.name, d.name).observe((performance.now() - started) / 1000);
    }
  };

  /** The live answer; copies go to the endpoint's mirrors afterwards, unless the request named its deployment. */
  const serve = (req: FastifyRequest, e: LiveEndpoint, d: LiveDeployment, inputs: Tensors): Promise<Tensors> => {
    const named = req.headers[TARGET];
    if (e.mirror.length === 0 || (typeof named === 'string' && named !== '')) return run(e, d, inputs);
    return run(e, d, inputs).then(
      (outputs) => {
        mirror.after(e, d, inputs, outputs);
        return outputs;
      },
      (err: unknown) => {
        // Inputs the live model refused are not the mirror's to be measured on.
        if ((err as SlipwayError).code !== 'invalid') mirror.after(e, d, inputs, null);
        throw err;
      },
    );
  };

  const inference = { public: true };

  app.post('/endpoints/:endpoint/score', { config: inference, schema: { tags, summary: 'Score with MLflow serving bodies or an Open Inference Protocol request' } }, async (req, reply) => {
    const e = req.gateway!.endpoint!;
    const d = choose(req, reply);
    const decoded = decodeScoring(req.body, d.predictor.signature);
    const captured = sample(req, decoded.format, decoded.columns, decoded.inputs);
    const outputs = await serve(req, e, d, decoded.inputs);
    if (captured) captured.outputs = outputs;
    if (decoded.format === 'oip') return encodeOipResponse(e.name, outputs, { id: decoded.id, modelVersion: String(d.model.version), only: decoded.outputs });
    return encodeMlflowResponse(outputs);
  });

  app.post('/v2/models/:endpoint/infer', { config: inference, schema: { tags, summary: 'Open Inference Protocol inference' } }, async (req, reply) => {
    const e = req.gateway!.endpoint!;
    const d = choose(req, reply);
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw Invalid.field('body', 'an Open Inference Protocol request object');
    const decoded = decodeOipRequest(body as Record<string, unknown>, d.predictor.signature);
    const captured = sample(req, 'oip', undefined, decoded.inputs);
    const outputs = await serve(req, e, d, decoded.inputs);
    if (captured) captured.outputs = outputs;
    return encodeOipResponse(e.name, outputs, { id: decoded.id, modelVersion: String(d.model.version), only: decoded.outputs });
  });

  app.get('/v2/models/:endpoint', { config: inference, schema: { tags, summary: 'Open Inference Protocol model metadata' } }, async (req, reply) => {
    const e = req.gateway!.endpoint!;
    const d = choose(req, reply);
    const sig = d.predictor.signature;
    const meta = (t: TensorInfo) => ({ name: t.name, datatype: oipDatatype[t.type], shape: t.shape });
    return { name: e.name, versions: [String(d.model.version)], platform: 'slipway', inputs: sig.inputs.map(meta), outputs: sig.outputs.map(meta) };
  });

  app.get('/v2/models/:endpoint/ready', { config: inference, schema: { tags, summary: 'Open Inference Protocol model readiness' } }, async (req, reply) => {
    const e = req.gateway!.endpoint!;
    const d = choose(req, reply);
    const ready = d.predictor.stats().healthyInstances > 0;
    if (!ready) throw new Unavailable(`deployment '${d.name}' of endpoint '${e.name}' has no healthy instance`, 1);
    return { name: e.name, ready };
  });

  if (opts.feedback) feedbackRoute(app, opts.feedback);

  app.get('/v2/health/live', { config: inference, schema: { tags, summary: 'Open Inference Protocol liveness' } }, async () => ({ live: true }));
  app.get('/v2/health/ready', { config: inference, schema: { tags, summary: 'Open Inference Protocol readiness: routing is loaded' } }, async () => {
    if (!table.loaded) throw new Unavailable('the gateway has not loaded its routing table yet', 1);
    return { ready: true };
  });
}
