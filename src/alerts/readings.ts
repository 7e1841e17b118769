/**
 * What an evaluation measures for a rule, read outside any transaction:
 * endpoint metrics from the 5-second deployment windows (request counts,
 * 5xx, latency percentiles: short windows work) and from the per-minute
 * rollups for what only they count (4xx, throttled); monitor signals from
 * the monitor's newest stored run; job failures from the job table.
 */
import { MonitoringStore } from '../monitoring/store.js';
import { ServingStore } from '../serving/store.js';
import type { Db } from '../store/db.js';
import { TelemetryStore } from '../telemetry/store.js';
import { summarise, type WindowDelta } from '../telemetry/windows.js';
import { ReadingsStore } from './readings.store.js';
import type { AlertRuleSpec, Op } from './schema.js';
import { sourceOf, type Source } from './spec.js';

export interface Reading {
  /** The condition holds now. */
  breached: boolean;
  value: number | null;
  threshold: number | null;
  /** One line a person reads: what crossed what. */
  summary: string;
}

const MINUTE = 60_000;
const compare = (v: number, op: Op, x: number) => (op === '>' ? v > x : op === '>=' ? v >= x : op === '<' ? v < x : v <= x);
const fmt = (v: number) => String(Number(v.toPrecision(3)));
const LABEL: Record<string, string> = { requests_per_minute: 'requests/min', error_rate: '5xx rate', client_error_rate: '4xx rate', p95_ms: 'p95 latency ms', p99_ms: 'p99 latency ms', throttled: 'throttled requests', no_traffic: 'requests' };

export class Readings {
  private readonly serving: ServingStore;
  private readonly telemetry: TelemetryStore;
  private readonly monitors: MonitoringStore;
  private readonly other: ReadingsStore;

  constructor(db: Db) {
    this.serving = new ServingStore(db);
    this.telemetry = new TelemetryStore(db);
    this.monitors = new MonitoringStore(db);
    this.other = new ReadingsStore(db);
  }

  async read(workspaceId: number, spec: AlertRuleSpec, windowMs: number, now: number): Promise<Reading> {
    const source = sourceOf(spec);
    const from = now - windowMs;
    if (source.kind === 'monitor') return this.monitor(workspaceId, source, from);
    if (source.kind === 'jobs') {
      const { count, newest } = await this.other.failedJobs(workspaceId, from, now, source.pipeline);
      const what = source.pipeline ? `jobs of pipeline ${source.pipeline}` : 'jobs';
      return { breached: count > 0, value: count, threshold: null, summary: count ? `${count} ${what} failed in the last ${spec.window} (newest: job ${newest!.id} ${newest!.name}${newest!.error ? `: ${newest!.error}` : ''})` : `no ${what} failed in the last ${spec.window}` };
    }
    return this.endpoint(workspaceId, spec, source, from, now);
  }

  private async endpoint(workspaceId: number, spec: AlertRuleSpec, s: Extract<Source, { kind: 'endpoint' }>, from: number, now: number): Promise<Reading> {
    const where = s.deployment ? `${s.endpoint}/${s.deployment}` : s.endpoint;
    const e = await this.serving.endpoint(s.endpoint);
    if (!e || Number(e.workspace_id) !== workspaceId) return { breached: false, value: null, threshold: null, summary: `endpoint ${s.endpoint} does not exist` };
    const threshold = spec.condition?.threshold ?? null;
    let value: number | null;
    if (s.metric === 'client_error_rate' || s.metric === 'throttled') {
      // Only the per-minute rollups count these: the window starts at its first whole minute.
      const rows = await this.telemetry.rollups(e.id, from - (from % MINUTE), now, s.deployment);
      const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0);
      const requests = sum((r) => r.requests);
      value = s.metric === 'throttled' ? sum((r) => r.throttled) : requests ? sum((r) => r.errors_4xx) / requests : null;
    } else {
      const names = s.deployment ? [s.deployment] : (await this.serving.deployments([e.id])).map((d) => d.name);
      const deltas: WindowDelta[] = [];
      for (const d of names) deltas.push(...(await this.telemetry.windows.read(e.id, d, from, now)));
      const w = summarise(deltas);
      value =
        s.metric === 'no_traffic' ? w.requests
        : s.metric === 'requests_per_minute' ? w.requests / ((now - from) / MINUTE)
        : s.metric === 'error_rate' ? (w.requests ? w.errors5xx / w.requests : null)
        : s.metric === 'p95_ms' ? w.p95Ms
        : w.p99Ms;
    }
    if (s.metric === 'no_traffic') {
      return { breached: value === 0, value, threshold: null, summary: value === 0 ? `${where}: no requests in the last ${spec.window}` : `${where}: ${value} requests in the last ${spec.window}` };
    }
    const { op } = spec.condition!;
    const breached = value !== null && compare(value, op, threshold!);
    const shown = value === null ? 'no data' : fmt(value);
    return { breached, value, threshold, summary: `${where}: ${LABEL[s.metric]} ${shown} over ${spec.window} (alert when ${op} ${fmt(threshold!)})` };
  }

  private async monitor(workspaceId: number, s: Extract<Source, { kind: 'monitor' }>, from: number): Promise<Reading> {
    const m = await this.monitors.get(workspaceId, s.monitor);
    if (!m) return { breached: false, value: null, threshold: null, summary: `monitor ${s.monitor} does not exist` };
    const [run] = await this.monitors.runs(m.id, 1);
    if (!run || run.at < from) return { breached: false, value: null, threshold: null, summary: `monitor ${s.monitor}: no run in the window` };
    const signals = (JSON.parse(run.report) as { signals?: Record<string, Record<string, unknown> | null> }).signals ?? {};
    const flagged = Object.entries(signals).filter(([, v]) => !!v && (v.drifted === true || v.violated === true || v.stale === true)).map(([k]) => k);
    const breached = s.signal ? flagged.includes(s.signal) : run.alerting;
    const what = s.signal ?? (flagged.join(', ') || 'a signal');
    return { breached, value: null, threshold: null, summary: breached ? `monitor ${s.monitor} run ${run.id} flags ${what}` : `monitor ${s.monitor} run ${run.id}: ${s.signal ?? 'no signal'} ${s.signal ? 'not flagged' : 'alerting'}` };
  }
}
