import { Value } from '@sinclair/typebox/value';
import type { Ctx } from '../access/principal.js';
import type { Doc, KindHandler, Step } from '../apply/engine.js';
import { isSlipwayError, Invalid } from '../shared/errors.js';
import { MonitorSpec } from './schema.js';
import type { MonitoringService } from './service.js';
import { checkSpec } from './spec.js';

type Parsed = MonitorSpec & { workspace: string };
const FIELDS = ['endpoint', 'deployment', 'reference', 'signals', 'methods', 'features', 'driftShare', 'window', 'schedule', 'quality', 'performance', 'freshness'] as const;

/** Key order and absent keys do not make two specs differ. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}

function parse(doc: Doc): Parsed {
  const { kind: _kind, workspace = 'default', ...rest } = doc;
  if (typeof workspace !== 'string') throw Invalid.field('workspace', 'a workspace name');
  const error = Value.Errors(MonitorSpec, rest).First();
  if (error) throw Invalid.field(error.path.split('/').filter(Boolean).join('.') || 'document', error.message.toLowerCase());
  return { ...checkSpec(rest as MonitorSpec), workspace };
}

/** `kind: Monitor` for slipway apply/export: a document replaces the stored spec when any field differs. */
export function monitorHandler(monitors: MonitoringService): KindHandler<Parsed> {
  return {
    kind: 'Monitor',
    permission: 'monitor.write',
    parse,
    key: (p) => `${p.workspace}/${p.name}`,
    async plan(ctx: Ctx, p: Parsed): Promise<Step> {
      const cur = await monitors.get(ctx, p.workspace, p.name).catch((e) => (isSlipwayError(e) && e.code === 'not_found' ? null : Promise.reject(e)));
      const set = FIELDS.filter((f) => p[f] !== undefined);
      const changes = cur ? FIELDS.filter((f) => canonical(p[f]) !== canonical(cur[f])) : set;
      const action = !cur ? 'create' : changes.length ? 'update' : 'unchanged';
      const { workspace, ...spec } = p;
      return {
        row: { kind: 'Monitor', workspace, name: p.name, action, changes: [...changes] },
        // After endpoints (10–30): a monitor names its endpoint.
        ops: action === 'unchanged' ? [] : [{ phase: 50, run: async (c) => void (await monitors.put(c, workspace, spec)) }],
      };
    },
    async export(ctx: Ctx, workspace: string): Promise<Doc[]> {
      return (await monitors.list(ctx, workspace)).map((m) => {
        const doc: Doc = { kind: 'Monitor', name: m.name, workspace };
        for (const f of FIELDS) if (m[f] !== undefined) doc[f] = m[f];
        return doc;
      });
    },
    remove: { phase: 80, run: (c, p) => monitors.delete(c, p.workspace, p.name) },
  };
}
