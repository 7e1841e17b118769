import type { Authorizer } from '../access/authorizer.js';
import type { Ctx } from '../access/principal.js';
import { requireEndpoint } from '../serving/endpoints.js';
import { ServingStore } from '../serving/store.js';
import type { EndpointRow } from '../serving/tables.js';
import { Invalid, NotFound } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import type { CapturesQuery, LogsQuery, MetricsQuery, WindowQuery } from './schema.js';
import type { TelemetrySink } from './sink.js';
import { TelemetryStore } from './store.js';
import { captureView, logView, minuteView, type CaptureView, type LogView, type MinuteView } from './views.js';
import { summarise, type DeploymentWindow, type DeploymentWindowView } from './windows.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** An ISO 8601 time or epoch milliseconds. */
export function parseTime(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  // Beyond the year 275760 no Date exists; such numbers would also overflow the bigint columns.
  if (!Number.isSafeInteger(n) || Math.abs(n) > 8.64e15) throw Invalid.field(field, `an ISO 8601 time or epoch milliseconds, got '${text}'`);
  return n;
}

function window(q: { from?: string; to?: string }, now: number): { from: number; to: number } {
  const to = parseTime(q.to, 'to') ?? now;
  const from = parseTime(q.from, 'from') ?? to - HOUR;
  if (from > to) throw Invalid.field('from', 'a time before `to`');
  return { from, to };
}

/**
 * Endpoint telemetry: what gateways write (`sink`), what people and
 * dashboards read (metrics.read for captures and rollups: they are
 * monitoring data and may hold request payloads; workspace.read for a
 * deployment's logs, like the rest of its metadata), and unauthorised
 * window reads for server-side monitors.
 */
export class Telemetry {
  readonly sink: TelemetrySink;
  private readonly store: TelemetryStore;
  private readonly serving: ServingStore;

  constructor(private readonly deps: TelemetryDeps) {
    this.store = new TelemetryStore(deps.db, deps.retentionMs);
    this.serving = new ServingStore(deps.db);
    this.sink = {
      write: async (batch) => {
        await this.store.write(batch);
        // Retention is housekeeping: its failure must not fail (and so re-send) a written batch.
        await this.store.trimOld().catch(() => undefined);
      },
    };
  }

  /** Deletes captures and per-minute rollups older than the retention now (normally done after writes, every ten minutes). */
  trimOld(now = Date.now()): Promise<void> {
    return this.store.trimOld(now, true);
  }

  private async endpoint(ctx: Ctx, action: 'metrics.read' | 'workspace.read', workspace: string, name: string): Promise<EndpointRow> {
    const ws = await this.deps.authz.authorize(ctx, action, workspace);
    return requireEndpoint(this.serving, this.deps.db, Number(ws.id), name);
  }

  async captures(ctx: Ctx, workspace: string, name: string, q: CapturesQuery): Promise<{ captures: CaptureView[]; next: number | null }> {
    const e = await this.endpoint(ctx, 'metrics.read', workspace, name);
    const limit = q.limit ?? 100;
    const rows = await this.store.captures(e.id, { ...window(q, Date.now()), limit, afterId: q.after });
    return { captures: rows.map(captureView), next: rows.length === limit ? rows[rows.length - 1].id : null };
  }

  async metrics(ctx: Ctx, workspace: string, name: string, q: MetricsQuery): Promise<{ minutes: MinuteView[] }> {
    const e = await this.endpoint(ctx, 'metrics.read', workspace, name);
    const { from, to } = window(q, Date.now());
    // The minute holding `from` is included whole.
    const rows = await this.store.rollups(e.id, from - (from % MINUTE), to, q.deployment);
    return { minutes: rows.map(minuteView) };
  }

  /** A deployment's window stats as people read them: with the agreement rate and mean difference worked out. */
  async window(ctx: Ctx, workspace: string, name: string, deployment: string, q: WindowQuery): Promise<DeploymentWindowView> {
    const e = await this.endpoint(ctx, 'metrics.read', workspace, name);
    const { from, to } = window(q, Date.now());
    const w = await this.deploymentWindow(e.id, deployment, from, to);
    const { compared, exactMatches, absDiffSum } = w.mirror;
    return { deployment, from, to, ...w, mirror: { ...w.mirror, agreement: compared ? exactMatches / compared : null, meanAbsDiff: compared ? absDiffSum / compared : null } };
  }

  async logs(ctx: Ctx, workspace: string, name: string, deployment: string, q: LogsQuery): Promise<{ lines: LogView[]; next: number | null }> {
    const e = await this.endpoint(ctx, 'workspace.read', workspace, name);
    const deployments = await this.serving.deployments([e.id]);
    if (!deployments.some((d) => d.name === deployment)) throw new NotFound('deployment', `${name}/${deployment}`);
    const rows = await this.store.logs(e.id, deployment, { since: parseTime(q.since, 'since'), afterId: q.after, limit: q.limit ?? 200 });
    return { lines: rows.map(logView), next: rows.length ? rows[rows.length - 1].id : (q.after ?? null) };
  }

  /** Server-internal (monitors): the captures of an endpoint in [from, to), oldest first. No authorization. */
  async captureWindow(endpoint: string, from: number, to: number, limit = 100_000): Promise<CaptureView[]> {
    const e = await this.serving.endpoint(endpoint);
    if (!e) throw new NotFound('endpoint', endpoint);
    return (await this.store.captures(e.id, { from, to, limit })).map(captureView);
  }

  /**
   * Server-internal (rollout gates): a deployment's live and mirrored
   * requests in the 5-second buckets overlapping [fromMs, toMs), as every
   * gateway replica recorded them. No authorization.
   */
  async deploymentWindow(endpointId: number, deployment: string, fromMs: number, toMs: number): Promise<DeploymentWindow> {
    return summarise(await this.store.windows.read(endpointId, deployment, fromMs, toMs));
  }

  /** Server-internal (feedback): the captures of the given request ids. No authorization. */
  async capturesByRequest(endpoint: string, requestIds: string[]): Promise<CaptureView[]> {
    const e = await this.serving.endpoint(endpoint);
    if (!e) throw new NotFound('endpoint', endpoint);
    return (await this.store.capturesByRequest(e.id, requestIds)).map(captureView);
  }
}

export interface TelemetryDeps {
  db: Db;
  authz: Authorizer;
  /** Captures and per-minute rollups older than this are deleted (default 30 days). */
  retentionMs?: number;
}

export function createTelemetry(deps: TelemetryDeps): Telemetry {
  return new Telemetry(deps);
}
