import type { Readable } from 'node:stream';
import type { Authorizer } from '../access/authorizer.js';
import type { Ctx } from '../access/principal.js';
import { Invalid, NotFound } from '../shared/errors.js';
import { joinKey, validateKey, validatePrefix } from './keys.js';
import type { ArtifactStore } from './store.js';

/** Where the proxy keeps MLflow clients' artifacts inside the ArtifactStore. */
export const PROXY_ROOT = 'mlflow-artifacts';
/** Proxy paths under this first segment read the registry's immutable copies (read-only). */
export const REGISTRY_SEGMENT = 'registry';

export interface ProxyFile {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

export interface ArtifactProxyDeps {
  store: ArtifactStore;
  authz: Authorizer;
  /** Whether the workspace holds the experiment (tracking's lookup; it checks workspace.read). */
  experimentExists(ctx: Ctx, workspace: string, experimentId: string): Promise<boolean>;
  /** Whether `registry/<workspace>/<model id>/<version>` belongs to a READY version (registry's lookup). */
  versionStored(workspace: string, modelId: string, version: string): Promise<boolean>;
}

/** What a proxy path addresses, before any check against the store. */
export interface ProxyTarget {
  /** The workspace named by the path: `w/<workspace>/...`, else `default`. */
  workspace: string;
  kind: 'experiment' | 'registry';
  experimentId?: string;
  /** The ArtifactStore key. */
  key: string;
}

/**
 * Maps a validated proxy path to its owner and store key. Layout (shared with
 * tracking's artifact locations): `<experiment id>/...` in the default
 * workspace, `w/<workspace>/<experiment id>/...` in others; `registry/...`
 * or `w/<workspace>/registry/...` for registered versions' immutable files.
 */
export function proxyTarget(path: string): ProxyTarget {
  const parts = path.split('/');
  let workspace = 'default';
  let rest = parts;
  if (parts[0] === 'w') {
    if (parts.length < 3) throw Invalid.field('path', "must be 'w/<workspace>/<experiment id>/...'");
    workspace = parts[1];
    rest = parts.slice(2);
  }
  if (rest[0] === REGISTRY_SEGMENT) return { workspace, kind: 'registry', key: joinKey(REGISTRY_SEGMENT, workspace, rest.slice(1).join('/')) };
  if (!/^\d{1,18}$/.test(rest[0])) throw Invalid.field('path', `must start with an experiment id (digits) or '${REGISTRY_SEGMENT}/', got '${rest[0]}'`);
  return { workspace, kind: 'experiment', experimentId: rest[0], key: joinKey(PROXY_ROOT, path) };
}

/** The proxy path of a registry storage prefix `registry/<workspace>/<rest>`. */
export function registryProxyPath(storagePrefix: string): string {
  const [, workspace, ...rest] = storagePrefix.split('/');
  const tail = joinKey(REGISTRY_SEGMENT, rest.join('/'));
  return workspace === 'default' ? tail : joinKey('w', workspace, tail);
}

interface Located {
  key: string;
  workspace: string;
  readOnly: boolean;
}

/**
 * The MLflow artifact proxy: `/mlflow-artifacts/artifacts/<path>` maps to
 * ArtifactStore keys `mlflow-artifacts/<path>`. The path names its owner
 * (see proxyTarget), which must be the workspace the request addresses and
 * must hold the experiment; the caller needs workspace.read there to read
 * and tracking.write to write. Registry paths are read-only.
 */
export class ArtifactProxy {
  constructor(private readonly deps: ArtifactProxyDeps) {}

  /** Validates the path and finds the workspace and store key it belongs to; writes nothing. */
  private async locate(ctx: Ctx, workspace: string, rawPath: string, allowEmpty = false): Promise<Located | null> {
    const path = allowEmpty ? validatePrefix(rawPath) : validateKey(rawPath);
    if (path === '') return null;
    const target = proxyTarget(path);
    if (target.workspace !== workspace) throw new NotFound(`artifact path '${path}' in workspace '${workspace}'`);
    if (target.kind === 'experiment' && !(await this.deps.experimentExists(ctx, workspace, target.experimentId!))) {
      throw new NotFound(`experiment '${target.experimentId}' in workspace '${workspace}'`);
    }
    // Files of a deleted version stay unreadable even if removing them failed.
    if (target.kind === 'registry' && !(await this.registryFileOfLiveVersion(workspace, target.key))) {
      throw new NotFound(`artifact path '${path}' in workspace '${workspace}'`);
    }
    return { key: target.key, workspace, readOnly: target.kind === 'registry' };
  }

  /** Keys `registry/<ws>/<model id>/<version>[/...]`; a shorter path lists nothing of a version and passes. */
  private async registryFileOfLiveVersion(workspace: string, key: string): Promise<boolean> {
    const [, , modelId, version] = key.split('/');
    if (modelId === undefined || version === undefined) return true;
    return /^\d{1,18}$/.test(modelId) && /^\d{1,9}$/.test(version) && this.deps.versionStored(workspace, modelId, version);
  }

  async upload(ctx: Ctx, workspace: string, path: string, body: Readable): Promise<void> {
    const loc = await this.locate(ctx, workspace, path);
    if (!loc) throw Invalid.field('path', 'must name an artifact');
    if (loc.readOnly) throw Invalid.field('path', 'registry artifacts are immutable; register a new version instead');
    await this.deps.authz.authorize(ctx, 'tracking.write', loc.workspace);
    const put = await this.deps.store.put(loc.key, body);
    // The audit record follows the write: a multi-GB stream cannot sit inside a transaction.
    await this.deps.authz.commit(ctx, { action: 'tracking.write', workspace: loc.workspace, target: `artifact/${path}`, detail: { size: put.size, sha256: put.sha256 } }, async () => undefined);
  }

  async download(ctx: Ctx, workspace: string, path: string): Promise<{ stream: Readable; size: number }> {
    const loc = await this.locate(ctx, workspace, path);
    if (!loc) throw Invalid.field('path', 'must name an artifact');
    await this.deps.authz.authorize(ctx, 'workspace.read', loc.workspace);
    const st = await this.deps.store.stat(loc.key);
    if (!st) throw new NotFound('artifact', path);
    return { stream: await this.deps.store.get(loc.key), size: st.size };
  }

  /** Direct children of `path`, named relative to it, as MLflow lists them. */
  async list(ctx: Ctx, workspace: string, path: string | undefined): Promise<ProxyFile[]> {
    const loc = await this.locate(ctx, workspace, path ?? '', true);
    await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    if (!loc) {
      const top = await this.deps.store.list(PROXY_ROOT);
      const out: ProxyFile[] = [];
      for (const e of top) {
        const id = e.key.slice(PROXY_ROOT.length + 1);
        if (/^\d{1,18}$/.test(id) && workspace === 'default' && (await this.deps.experimentExists(ctx, workspace, id))) out.push(fileOf(e.key, e.isDir, e.size));
      }
      return out;
    }
    // A path naming a file lists nothing, as in MLflow.
    if (await this.deps.store.stat(loc.key)) return [];
    const entries = await this.deps.store.list(loc.key);
    return entries.map((e) => fileOf(e.key, e.isDir, e.size));
  }

  async delete(ctx: Ctx, workspace: string, path: string): Promise<void> {
    const loc = await this.locate(ctx, workspace, path);
    if (!loc) throw Invalid.field('path', 'must name an artifact');
    if (loc.readOnly) throw Invalid.field('path', 'registry artifacts are immutable; delete the model version instead');
    await this.deps.authz.mutate(ctx, { action: 'tracking.write', workspace: loc.workspace, target: `artifact/${path}`, detail: { op: 'delete' } }, async () => {
      await this.deps.store.delete(loc.key);
    });
  }
}

function fileOf(key: string, isDir: boolean, size: number): ProxyFile {
  const name = key.slice(key.lastIndexOf('/') + 1);
  return isDir ? { path: name, is_dir: true } : { path: name, is_dir: false, file_size: size };
}
