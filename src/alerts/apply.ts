import { Value } from '@sinclair/typebox/value';
import type { Ctx } from '../access/principal.js';
import type { Doc, KindHandler, Step } from '../apply/engine.js';
import { isSlipwayError, Invalid } from '../shared/errors.js';
import { AlertRuleSpec } from './schema.js';
import type { AlertService } from './service.js';
import { checkRule } from './spec.js';

type Parsed = AlertRuleSpec & { workspace: string };
const FIELDS = ['source', 'condition', 'window', 'for', 'severity', 'labels', 'runbook', 'channels', 'renotify', 'actions'] as const;

/** Key order and absent keys do not make two specs differ. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}

function parse(doc: Doc): Parsed {
  const { kind: _kind, workspace = 'default', ...rest } = doc;
  if (typeof workspace !== 'string') throw Invalid.field('workspace', 'a workspace name');
  const error = Value.Errors(AlertRuleSpec, rest).First();
  if (error) throw Invalid.field(error.path.split('/').filter(Boolean).join('.') || 'document', error.message.toLowerCase());
  return { ...checkRule(rest as AlertRuleSpec), workspace };
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
