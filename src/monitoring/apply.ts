import type { Ctx } from '../access/principal.js';
import { canonical, schemaDocument, type Doc, type KindHandler, type Step } from '../apply/engine.js';
import { isSlipwayError } from '../shared/errors.js';
import { MonitorSpec } from './schema.js';
import type { MonitoringService } from './service.js';
import { checkSpec } from './spec.js';

type Parsed = MonitorSpec & { workspace: string };
const FIELDS = ['endpoint', 'deployment', 'reference', 'signals', 'methods', 'features', 'driftShare', 'window', 'schedule', 'quality', 'performance', 'freshness'] as const;


function parse(doc: Doc): Parsed {
  const { workspace, ...spec } = schemaDocument<MonitorSpec>(MonitorSpec, doc);
  return { ...checkSpec(spec), workspace };
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
