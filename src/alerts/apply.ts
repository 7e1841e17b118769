import type { Ctx } from '../access/principal.js';
import { canonical, schemaDocument, type Doc, type KindHandler, type Step } from '../apply/engine.js';
import { isSlipwayError } from '../shared/errors.js';
import { AlertRuleSpec } from './schema.js';
import type { AlertService } from './service.js';
import { checkRule } from './spec.js';

type Parsed = AlertRuleSpec & { workspace: string };
const FIELDS = ['source', 'condition', 'window', 'for', 'severity', 'labels', 'runbook', 'channels', 'renotify', 'actions'] as const;


function parse(doc: Doc): Parsed {
  const { workspace, ...spec } = schemaDocument<AlertRuleSpec>(AlertRuleSpec, doc);
  return { ...checkRule(spec), workspace };
}

/** `kind: AlertRule` for slipway apply/export: a document replaces the stored rule when any field differs. */
export function alertRuleHandler(alerts: AlertService): KindHandler<Parsed> {
  return {
    kind: 'AlertRule',
    permission: 'monitor.write',
    parse,
    key: (p) => `${p.workspace}/${p.name}`,
    async plan(ctx: Ctx, p: Parsed): Promise<Step> {
      const cur = await alerts.get(ctx, p.workspace, p.name).catch((e) => (isSlipwayError(e) && e.code === 'not_found' ? null : Promise.reject(e)));
      const changes = cur ? FIELDS.filter((f) => canonical(p[f]) !== canonical(cur[f])) : FIELDS.filter((f) => p[f] !== undefined);
      const action = !cur ? 'create' : changes.length ? 'update' : 'unchanged';
      const { workspace, ...spec } = p;
      return {
        row: { kind: 'AlertRule', workspace, name: p.name, action, changes: [...changes] },
        // After monitors (50) and pipelines: a rule names its endpoint or monitor.
        ops: action === 'unchanged' ? [] : [{ phase: 60, run: async (c) => void (await alerts.put(c, workspace, spec)) }],
      };
    },
    async export(ctx: Ctx, workspace: string): Promise<Doc[]> {
      return (await alerts.list(ctx, workspace)).map((r) => {
        const doc: Doc = { kind: 'AlertRule', name: r.name, workspace };
        for (const f of FIELDS) if (r[f] !== undefined) doc[f] = r[f];
        return doc;
      });
    },
    // Before the channels (78), monitors (80), pipelines (85) and endpoints (90) a rule names.
    remove: { phase: 75, run: (c, p) => alerts.delete(c, p.workspace, p.name) },
  };
}
