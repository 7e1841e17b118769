import type { Ctx } from '../access/principal.js';
import { canonical, checkCapture, checkLabel, checkMirror, checkRateLimit, checkTraffic } from '../serving/endpoints.rules.js';
import type { EndpointView } from '../serving/endpoints.views.js';
import type { Capture, RateLimit, TrafficMap } from '../serving/schema.js';
import type { Serving } from '../serving/service.js';
import { Invalid } from '../shared/errors.js';
import { optString, refuseUnknown, type Batch, type Doc, type KindHandler, type Op, type Step } from './engine.js';
import type { DeploymentSpec } from './deployment.js';

/** An Endpoint document. Omitted fields are left as they are (created with defaults). */
export interface EndpointSpec {
  name: string;
  workspace: string;
  auth?: 'key' | 'token';
  description?: string;
  traffic?: TrafficMap;
  mirror?: TrafficMap;
  rateLimit?: RateLimit | null;
  capture?: Capture | null;
}

const FIELDS = ['name', 'workspace', 'auth', 'description', 'traffic', 'mirror', 'rateLimit', 'capture'];

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
function canonicalJson(v: unknown): string {
  if (v && typeof v === 'object' && !Array.isArray(v)) return canonical(Object.fromEntries(Object.entries(v).map(([k, x]) => [k, JSON.parse(canonicalJson(x))])));
  return JSON.stringify(v ?? null);
}

/** The rollout driving an endpoint now, if any (its controller owns the traffic until it ends). */
export type DrivingRollout = (ctx: Ctx, workspace: string, endpoint: string) => Promise<string | null>;

export function endpointHandler(serving: Serving, drivingRollout: DrivingRollout = async () => null): KindHandler<EndpointSpec> {
  const { endpoints } = serving;
  return {
    kind: 'Endpoint',
    permission: 'endpoint.deploy',
    parse(doc: Doc): EndpointSpec {
      refuseUnknown(doc, FIELDS);
      const auth = doc.auth;
      if (auth !== undefined && auth !== 'key' && auth !== 'token') throw Invalid.field('auth', 'must be key or token');
      return {
        name: checkLabel(doc.name, 'name'),
        workspace: optString(doc, 'workspace') ?? 'default',
        auth: auth as EndpointSpec['auth'],
        description: doc.description === undefined ? undefined : String(doc.description),
        // Names are checked against the deployments at plan time; here only the shape.
        traffic: doc.traffic === undefined ? undefined : checkTrafficShape(doc.traffic, 'traffic'),
        mirror: doc.mirror === undefined ? undefined : checkTrafficShape(doc.mirror, 'mirror'),
        rateLimit: doc.rateLimit === undefined ? undefined : checkRateLimit(doc.rateLimit),
        capture: doc.capture === undefined ? undefined : checkCapture(doc.capture),
      };
    },
    key: (p) => p.name,
    async plan(ctx: Ctx, p: EndpointSpec, batch: Batch): Promise<Step> {
      const cur = await endpoints.find(ctx, p.workspace, p.name);
      const known = new Set([...(cur?.deployments.map((d) => d.name) ?? []), ...batch.of<DeploymentSpec>('Deployment').filter((d) => d.endpoint === p.name).map((d) => d.name)]);
      const traffic = p.traffic === undefined ? (cur?.traffic ?? {}) : checkTraffic(p.traffic, known);
      const mirror = checkMirror(p.mirror ?? cur?.mirror ?? {}, traffic, known);
      const settings = (['auth', 'description', 'rateLimit', 'capture'] as const).filter((k) => p[k] !== undefined && (!cur || !same(p[k], cur[k])));
      // A running rollout moves the traffic step by step: a file applied meanwhile must not undo its steps.
      const driver = cur ? await drivingRollout(ctx, p.workspace, p.name) : null;
      const routing = driver ? [] : (['traffic', 'mirror'] as const).filter((k) => p[k] !== undefined && !same(p[k], cur?.[k] ?? {}));
      const row = { kind: 'Endpoint', workspace: p.workspace, name: p.name, action: cur ? (settings.length || routing.length ? 'update' : 'unchanged') : 'create', changes: [...settings, ...routing] } as const;
      const ops: Op[] = [];
      const base = { auth: p.auth, description: p.description, rateLimit: p.rateLimit, capture: p.capture };
      if (!cur) ops.push({ phase: 10, run: async (c) => void (await endpoints.create(c, p.workspace, { name: p.name, ...base })) });
      else if (settings.length) ops.push({ phase: 10, run: async (c) => void (await endpoints.update(c, p.workspace, p.name, base)) });
      if (routing.length) ops.push({ phase: 30, run: async (c) => void (await endpoints.setTraffic(c, p.workspace, p.name, { traffic, mirror, reason: 'slipway apply' })) });
      return { row: { ...row, changes: [...row.changes] }, ops };
    },
    async export(ctx: Ctx, workspace: string): Promise<Doc[]> {
      return (await endpoints.list(ctx, workspace)).map(endpointDoc);
    },
    // Before its deployments' own deletes (95), which it takes along.
    remove: { phase: 90, run: (c, p) => endpoints.delete(c, p.workspace, p.name) },
  };
}

function checkTrafficShape(v: unknown, field: string): TrafficMap {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw Invalid.field(field, 'must be a map of deployment name to an integer percent');
  return v as TrafficMap;
}

function endpointDoc(e: EndpointView): Doc {
  const doc: Doc = { kind: 'Endpoint', name: e.name, workspace: e.workspace, auth: e.auth };
  if (e.description) doc.description = e.description;
  doc.traffic = e.traffic;
  doc.mirror = e.mirror;
  if (e.rateLimit) doc.rateLimit = e.rateLimit;
  if (e.capture) doc.capture = e.capture;
  return doc;
}
