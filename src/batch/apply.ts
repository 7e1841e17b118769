import type { Ctx } from '../access/principal.js';
import { canonical, schemaDocument, type Doc, type KindHandler, type Step } from '../apply/engine.js';
import { isSlipwayError } from '../shared/errors.js';
import { checkEndpointName } from './rules.js';
import { BatchEndpointSpec, type BatchEndpointPut } from './schema.js';
import type { BatchService } from './service.js';

type Parsed = BatchEndpointSpec & { workspace: string };
const FIELDS = ['model', 'miniBatchRows', 'parallelism', 'errorThreshold', 'output', 'resources', 'features'] as const;


const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

function parse(doc: Doc): Parsed {
  const p = schemaDocument<BatchEndpointSpec>(BatchEndpointSpec, doc);
  checkEndpointName(p.name);
  return p;
}

/** `kind: BatchEndpoint` for slipway apply/export: a document replaces the stored spec when any field differs. */
export function batchEndpointHandler(batch: BatchService): KindHandler<Parsed> {
  return {
    kind: 'BatchEndpoint',
    permission: 'endpoint.deploy',
    parse,
    key: (p) => `${p.workspace}/${p.name}`,
    async plan(ctx: Ctx, p: Parsed): Promise<Step> {
      await batch.checkModel(ctx, p.workspace, p.model);
      const cur = await batch.get(ctx, p.workspace, p.name).catch((e) => (isSlipwayError(e) && e.code === 'not_found' ? null : Promise.reject(e)));
      const changes = cur ? FIELDS.filter((f) => !same(p[f], cur[f])) : FIELDS.filter((f) => p[f] !== undefined);
      const action = !cur ? 'create' : changes.length ? 'update' : 'unchanged';
      const { workspace, name, ...spec } = p;
      return {
        row: { kind: 'BatchEndpoint', workspace, name, action, changes: [...changes] },
        ops: action === 'unchanged' ? [] : [{ phase: 50, run: async (c) => void (await batch.put(c, workspace, name, spec as BatchEndpointPut)) }],
      };
    },
    // With --prune, an endpoint the file no longer names is deleted (refused while it has an active run).
    remove: { phase: 50, run: (c, p) => batch.delete(c, p.workspace, p.name) },
    async export(ctx: Ctx, workspace: string): Promise<Doc[]> {
      return (await batch.list(ctx, workspace)).map((e) => {
        const doc: Doc = { kind: 'BatchEndpoint', name: e.name, workspace };
        for (const f of FIELDS) if (e[f] !== undefined) doc[f] = e[f];
        return doc;
      });
    },
  };
}
