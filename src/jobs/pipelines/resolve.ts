import { createHash } from 'node:crypto';
import type { Ctx } from '../../access/principal.js';
import { parseDatasetUri } from '../../datasets/names.js';
import { parseModelRef } from '../../serving/endpoints.rules.js';
import type { IoDeps } from '../io.js';

/**
 * Pins a step's inputs before it runs: every `datasets:/…` and `models:/…`
 * string in its `with` (at any depth) becomes the concrete version it names
 * now (`latest` and aliases resolved), and its content digest joins the
 * cache key. Answers the pinned `with` and the key.
 */
export async function pinInputs(deps: IoDeps, ctx: Ctx, workspace: string, uses: string, given: Record<string, unknown>): Promise<{ with: Record<string, unknown>; key: string }> {
  const digests: Record<string, string> = {};
  const pin = async (v: unknown, field: string): Promise<unknown> => {
    if (typeof v === 'string' && v.startsWith('datasets:/')) {
      const ref = parseDatasetUri(v, field);
      const h = await deps.datasets.datasetVersion(workspace, ref.name, ref.version);
      digests[h.meta.uri] = h.meta.sha256;
      return h.meta.uri;
    }
    if (typeof v === 'string' && v.startsWith('models:/')) {
      const ref = parseModelRef(v, field);
      const mv = ref.version !== undefined ? await deps.registry.reads.get(ctx, workspace, ref.name, ref.version) : await deps.registry.reads.byAlias(ctx, workspace, ref.name, ref.alias!);
      const uri = `models:/${mv.name}/${mv.version}`;
      digests[uri] = mv.digest ?? '';
      return uri;
    }
    if (Array.isArray(v)) return Promise.all(v.map((x, i) => pin(x, `${field}[${i}]`)));
    if (v && typeof v === 'object') return Object.fromEntries(await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await pin(x, `${field}.${k}`)])));
    return v;
  };
  const pinned = (await pin(given, 'with')) as Record<string, unknown>;
  const key = createHash('sha256').update(stable({ uses, with: pinned, digests })).digest('hex');
  return { with: pinned, key };
}

/** JSON with object keys sorted, so equal definitions digest equally whatever their key order. */
export function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}
