import type { Ctx } from '../../access/principal.js';
import type { Doc, KindHandler, Step } from '../../apply/engine.js';
import { stable } from './resolve.js';
import { parsePipeline, type PipelineSpec } from './spec.js';
import type { PipelineService } from './service.js';

const FIELDS = ['description', 'params', 'triggers', 'steps'] as const;
/** What a field holds when a document leaves it out: a plan lists only the fields a new pipeline sets. */
const empty = { description: null, params: {}, triggers: [], steps: [] };

/** `kind: Pipeline` for slipway apply/export: the whole definition replaces the stored one when any field differs. */
export function pipelineHandler(pipelines: PipelineService): KindHandler<PipelineSpec> {
  return {
    kind: 'Pipeline',
    permission: 'job.run',
    parse: (doc: Doc) => parsePipeline(doc),
    key: (p) => `${p.workspace}/${p.name}`,
    async plan(ctx: Ctx, p: PipelineSpec): Promise<Step> {
      const cur = await pipelines.find(ctx, p.workspace, p.name);
      const changes = FIELDS.filter((f) => stable(p[f] ?? null) !== stable(cur?.[f] ?? null));
      if (!cur) changes.splice(0, changes.length, ...FIELDS.filter((f) => stable(p[f] ?? null) !== stable(empty[f])));
      const action = !cur ? 'create' : changes.length ? 'update' : 'unchanged';
      return {
        row: { kind: 'Pipeline', workspace: p.workspace, name: p.name, action, changes: [...changes] },
        ops: action === 'unchanged' ? [] : [{ phase: 40, run: async (c) => void (await pipelines.put(c, p)) }],
      };
    },
    async export(ctx: Ctx, workspace: string): Promise<Doc[]> {
      return (await pipelines.list(ctx, workspace)).map((p) => {
        const doc: Doc = { kind: 'Pipeline', name: p.name, workspace: p.workspace };
        if (p.description) doc.description = p.description;
        if (Object.keys(p.params).length) doc.params = p.params;
        if (p.triggers.length) doc.triggers = p.triggers;
        doc.steps = p.steps.map((s) => ({ name: s.name, uses: s.uses, ...(s.needs.length ? { needs: s.needs } : {}), ...(Object.keys(s.with).length ? { with: s.with } : {}) }));
        return doc;
      });
    },
    remove: { phase: 85, run: (c, p) => pipelines.delete(c, p.workspace, p.name) },
  };
}
