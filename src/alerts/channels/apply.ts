import type { Ctx } from '../../access/principal.js';
import { schemaDocument, type Doc, type KindHandler, type Step } from '../../apply/engine.js';
import { ChannelSpec } from './schema.js';
import type { ChannelService } from './service.js';

type Parsed = ChannelSpec & { workspace: string };

const parse = (doc: Doc): Parsed => schemaDocument<ChannelSpec>(ChannelSpec, doc);

/**
 * `kind: AlertChannel` for slipway apply/export. Export leaves the secret
 * out and apply keeps the stored secret when a document has none, so an
 * exported file applies back unchanged without ever holding the secret.
 */
export function alertChannelHandler(channels: ChannelService): KindHandler<Parsed> {
  return {
    kind: 'AlertChannel',
    permission: 'monitor.write',
    parse,
    key: (p) => `${p.workspace}/${p.name}`,
    async plan(ctx: Ctx, p: Parsed): Promise<Step> {
      const { workspace, ...spec } = p;
      const changes = await channels.changes(ctx, workspace, spec);
      const action = changes === null ? 'create' : changes.length ? 'update' : 'unchanged';
      return {
        row: { kind: 'AlertChannel', workspace, name: p.name, action, changes: changes ?? ['type', 'url', ...(spec.secret ? ['secret'] : [])] },
        // Before alert rules, which name their channels.
        ops: action === 'unchanged' ? [] : [{ phase: 55, run: async (c) => void (await channels.put(c, workspace, spec)) }],
      };
    },
    async export(ctx: Ctx, workspace: string): Promise<Doc[]> {
      return (await channels.list(ctx, workspace)).map((c) => ({ kind: 'AlertChannel', name: c.name, workspace, type: c.type, url: c.url }));
    },
    // After alert rules are pruned (they name channels); a rule left naming a deleted channel logs failed deliveries.
    remove: { phase: 78, run: (c, p) => channels.delete(c, p.workspace, p.name) },
  };
}
