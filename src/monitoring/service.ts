import type { Authorizer } from '../access/authorizer.js';
import type { Ctx } from '../access/principal.js';
import { requireEndpoint } from '../serving/endpoints.js';
import { ServingStore } from '../serving/store.js';
import type { EndpointRow } from '../serving/tables.js';
import { Conflict, Invalid, NotFound } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import type { CaptureView } from '../telemetry/views.js';
import { featureSample, outputSample } from './data.js';
import { loadReference, type ReferenceDeps, type Served } from './reference.js';
import type { FeedbackItem, MonitorSpec } from './schema.js';
import { drift, performance, quality, type FreshnessSignal } from './signals.js';
import { checkSpec, DEFAULT_WINDOW, parseDuration, parseReference } from './spec.js';
import { MonitoringStore } from './store.js';
import type { MonitorRow, MonitorRunRow } from './tables.js';

export interface MonitorView extends MonitorSpec {
  workspace: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface MonitorReport {
  id: number;
  monitor: string;
  endpoint: string;
  deployment: string | null;
  at: string;
  window: { from: string; to: string };
  reference: { source: string; rows: number };
  /** `truncated`: the window held more than MAX_CAPTURES requests; the oldest MAX_CAPTURES were read. */
  current: { rows: number; requests: number; truncated?: true };
  alerting: boolean;
  signals: Record<string, unknown>;
  /** 'schedule' for a run the monitor's cron started (`scheduledFor` its tick), else 'manual'. */
  cause?: 'manual' | 'schedule';
  scheduledFor?: string;
}

/** Captured requests a run reads at most from its window. */
export const MAX_CAPTURES = 100_000;

const view = (workspace: string, r: MonitorRow): MonitorView => ({
  ...(JSON.parse(r.spec) as MonitorSpec),
  workspace,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});
const reportView = (r: MonitorRunRow): MonitorReport => ({ ...(JSON.parse(r.report) as MonitorReport), id: r.id });

/**
 * Monitors: their specs (monitor.write to change, workspace.read to see),
 * on-demand runs computing every signal and storing the report (metrics.read:
 * reports are monitoring results), and the feedback gateways write.
 */
export class MonitoringService {
  readonly store: MonitoringStore;
  private readonly serving: ServingStore;
  private trimmedAt = 0;
  private runsTrimmedAt = 0;

  /** `retentionMs`: how long ground-truth feedback is kept (SLIPWAY_TELEMETRY_RETENTION, as for the captures it labels). */
  constructor(private readonly deps: ReferenceDeps & { db: Db; authz: Authorizer; retentionMs?: number }) {
    this.store = new MonitoringStore(deps.db);
    this.serving = new ServingStore(deps.db);
  }

  /** Creates or replaces a monitor (apply and `monitor create` share it). */
  async put(ctx: Ctx, workspace: string, input: MonitorSpec, expectNew = false): Promise<MonitorView> {
    const spec = checkSpec(input);
    return this.deps.authz.mutate(ctx, { action: 'monitor.write', workspace, target: `monitor/${spec.name}`, detail: { op: 'put', endpoint: spec.endpoint, signals: spec.signals } }, async (tx, ws) => {
      await requireEndpoint(this.serving, tx, Number(ws!.id), spec.endpoint);
      if (expectNew && (await this.store.get(Number(ws!.id), spec.name, tx))) throw new Conflict(`monitor '${spec.name}' already exists in workspace '${workspace}'`);
      const row = await this.store.upsert(tx, Number(ws!.id), spec.name, spec.endpoint, JSON.stringify(spec), ctx.principal.name, Date.now());
      return view(workspace, row);
    });
  }

  async list(ctx: Ctx, workspace: string): Promise<MonitorView[]> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    return (await this.store.list(Number(ws.id))).map((r) => view(workspace, r));
  }

  async get(ctx: Ctx, workspace: string, name: string): Promise<MonitorView & { lastRun: MonitorReport | null }> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const row = await this.require(Number(ws.id), name);
    const [last] = await this.store.runs(row.id, 1);
    return { ...view(workspace, row), lastRun: last ? reportView(last) : null };
  }

  async delete(ctx: Ctx, workspace: string, name: string): Promise<void> {
    await this.deps.authz.mutate(ctx, { action: 'monitor.write', workspace, target: `monitor/${name}`, detail: { op: 'delete' } }, async (tx, ws) => {
      const row = await this.store.get(Number(ws!.id), name, tx);
      if (!row) throw new NotFound('monitor', name);
      await this.store.delete(tx, row.id);
    });
  }

  async runs(ctx: Ctx, workspace: string, name: string, limit = 20): Promise<MonitorReport[]> {
    const ws = await this.deps.authz.authorize(ctx, 'metrics.read', workspace);
    const row = await this.require(Number(ws.id), name);
    return (await this.store.runs(row.id, limit)).map(reportView);
  }

  async report(ctx: Ctx, workspace: string, name: string, id: number): Promise<MonitorReport> {
    const ws = await this.deps.authz.authorize(ctx, 'metrics.read', workspace);
    const row = await this.require(Number(ws.id), name);
    const run = await this.store.run(row.id, id);
    if (!run) throw new NotFound('monitor run', `${name}/${id}`);
    return reportView(run);
  }

  /** Computes every signal of the monitor over its window now and stores the report. */
  async run(ctx: Ctx, workspace: string, name: string, opts: { window?: string; tick?: number } = {}): Promise<MonitorReport> {
    const ws = await this.deps.authz.authorize(ctx, 'metrics.read', workspace);
    const row = await this.require(Number(ws.id), name);
    const spec = JSON.parse(row.spec) as MonitorSpec;
    const endpoint = await requireEndpoint(this.serving, this.deps.db, Number(ws.id), spec.endpoint);
    const now = Date.now();
    const from = now - parseDuration(opts.window ?? spec.window ?? DEFAULT_WINDOW, 'window');
    const cause = opts.tick === undefined ? 'manual' : 'schedule';
    const report = { ...(await this.compute(ctx, workspace, spec, endpoint, from, now)), cause, ...(opts.tick === undefined ? {} : { scheduledFor: new Date(opts.tick).toISOString() }) } as const;
    const stored = await this.deps.authz.mutate(ctx, { action: 'metrics.read', workspace, target: `monitor/${name}`, detail: { op: 'run', cause, alerting: report.alerting } }, async (tx) => {
      const stored = await this.store.addRun(tx, { monitor_id: row.id, at: now, window_from: from, window_to: now, alerting: report.alerting, report: JSON.stringify(report), cause, schedule_tick: opts.tick ?? null });
      return { ...report, id: stored.id };
    });
    // Scheduled monitors add a run per tick: housekeeping at most every ten minutes per process, never failing a stored run.
    if (Date.now() - this.runsTrimmedAt >= 600_000) await this.trimRuns().catch(() => undefined);
    return stored;
  }

  /** Deletes monitor runs older than the retention, keeping each monitor's newest (normally done after runs, every ten minutes). */
  async trimRuns(now = Date.now()): Promise<void> {
    this.runsTrimmedAt = now;
    await this.store.trimRuns(now - (this.deps.retentionMs ?? 30 * 86_400_000));
  }

  private async compute(ctx: Ctx, workspace: string, spec: MonitorSpec, endpoint: EndpointRow, from: number, to: number): Promise<Omit<MonitorReport, 'id'>> {
    const filter = (c: CaptureView) => c.status === 200 && (!spec.deployment || c.deployment === spec.deployment);
    const window = await this.deps.telemetry.captureWindow(endpoint.name, from, to, MAX_CAPTURES);
    const captures = window.filter(filter);
    const served = await this.served(workspace, endpoint, spec.deployment);
    const ref = await loadReference(this.deps, ctx, parseReference(spec.reference), { workspace, endpoint: endpoint.name, now: to, served, filter });
    const features = featureSample(captures).sample;
    const outputs = outputSample(captures);
    const signals: Record<string, unknown> = {};
    let alerting = false;
    for (const s of spec.signals) {
      if (s === 'data_drift') {
        const d = drift(spec, ref.features, features);
        alerting ||= d.drifted;
        signals[s] = d;
      } else if (s === 'prediction_drift') {
        const d = ref.outputs ? drift(spec, ref.outputs, outputs) : null;
        alerting ||= !!d?.drifted;
        signals[s] = d ?? { skipped: 'the reference has no outputs' };
      } else if (s === 'data_quality') {
        const q = quality(spec, ref.features, features);
        alerting ||= q.violated;
        signals[s] = q;
      } else if (s === 'model_performance') {
        const p = performance(spec, outputs, await this.truth(endpoint.id, captures, outputs.rows));
        alerting ||= p.violated;
        signals[s] = p;
      } else {
        const f = await this.freshness(ctx, spec, served, to);
        alerting ||= f.stale;
        signals[s] = f;
      }
    }
    return {
      monitor: spec.name,
      endpoint: endpoint.name,
      deployment: spec.deployment ?? null,
      at: new Date(to).toISOString(),
      window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
      reference: { source: ref.source, rows: ref.features.rows },
      current: { rows: features.rows, requests: captures.length, ...(window.length === MAX_CAPTURES ? { truncated: true as const } : {}) },
      alerting,
      signals,
    };
  }

  /** Feedback per output row: a request's label applies to its one row, or an array of labels to its rows in order. */
  private async truth(endpointId: number, captures: CaptureView[], rows: number): Promise<unknown[]> {
    const feedback = await this.store.feedback(endpointId, [...new Set(captures.map((c) => c.requestId))]);
    const out: unknown[] = [];
    for (const c of captures) {
      if (!c.outputs) continue;
      const n = Math.max(0, ...Object.values(c.outputs).map((v) => (Array.isArray(v) ? v.length : 0)));
      const f = feedback.get(c.requestId);
      for (let i = 0; i < n; i++) out.push(Array.isArray(f) ? f[i] : n === 1 ? f : undefined);
    }
    return out.slice(0, rows);
  }

  /** The deployment a monitor watches, else the one taking the most traffic. */
  private async served(workspace: string, endpoint: EndpointRow, deployment?: string): Promise<Served | null> {
    const deployments = await this.serving.deployments([endpoint.id]);
    const traffic = JSON.parse(endpoint.traffic) as Record<string, number>;
    const d = deployment ? deployments.find((x) => x.name === deployment) : [...deployments].sort((a, b) => (traffic[b.name] ?? 0) - (traffic[a.name] ?? 0))[0];
    if (deployment && !d) throw new NotFound('deployment', `${endpoint.name}/${deployment}`);
    return d ? { workspace, model: d.model_name, version: Number(d.model_version) } : null;
  }

  private async freshness(ctx: Ctx, spec: MonitorSpec, served: Served | null, now: number): Promise<FreshnessSignal> {
    const maxAgeSeconds = parseDuration(spec.freshness!.maxAge, 'freshness.maxAge') / 1000;
    const base: FreshnessSignal = { model: served ? `models:/${served.model}/${served.version}` : null, run: null, trainedAt: null, ageSeconds: null, maxAgeSeconds, stale: true };
    if (!served) return base;
    const lineage = await this.deps.registry.reads.lineage(ctx, served.workspace, served.model, served.version);
    const trainedAt = lineage.run ? (lineage.run.endTime ?? lineage.run.startTime) : null;
    if (trainedAt === null) return { ...base, run: lineage.run?.runId ?? null };
    const ageSeconds = (now - trainedAt) / 1000;
    return { ...base, run: lineage.run!.runId, trainedAt, ageSeconds, stale: ageSeconds > maxAgeSeconds };
  }

  /** Ground truth from a gateway: stored at once (acknowledged means kept), joined to captures when a report is computed. */
  async writeFeedback(endpointId: number, items: FeedbackItem[]): Promise<number> {
    for (const [i, f] of items.entries()) if (f.label === undefined && f.value === undefined) throw Invalid.field(items.length > 1 ? `feedback[${i}]` : 'label', 'a label or a value');
    // One statement cannot upsert a row twice: within a batch, the last feedback for a request wins, as a later call would.
    const latest = new Map(items.map((f) => [f.requestId, f.label ?? f.value]));
    await this.store.writeFeedback(endpointId, [...latest].map(([requestId, value]) => ({ requestId, value })), Date.now());
    // Housekeeping, at most every ten minutes per process: its failure must not fail a written (acknowledged) batch.
    if (Date.now() - this.trimmedAt >= 600_000) await this.trimFeedback().catch(() => undefined);
    return items.length;
  }

  /** Deletes feedback older than the retention (normally done after writes, every ten minutes). */
  async trimFeedback(now = Date.now()): Promise<void> {
    this.trimmedAt = now;
    await this.store.trimFeedback(now - (this.deps.retentionMs ?? 30 * 86_400_000));
  }

  private async require(workspaceId: number, name: string): Promise<MonitorRow> {
    const row = await this.store.get(workspaceId, name);
    if (!row) throw new NotFound('monitor', name);
    return row;
  }
}
