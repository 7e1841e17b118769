import { joinKey, validateKey } from '../artifacts/index.js';
import type { Ctx } from '../access/principal.js';
import { proxyTarget } from '../artifacts/proxy.js';
import { Invalid, NotFound } from '../shared/errors.js';

/** Where a model version's files come from, inside the ArtifactStore. */
export interface ResolvedSource {
  key: string;
  runId?: string;
  loggedModelId?: string;
}

export interface SourceLookups {
  /** Whether the workspace holds the experiment (checks workspace.read). */
  experimentExists(ctx: Ctx, workspace: string, experimentId: string): Promise<boolean>;
  /** A run of the workspace: its artifact URI (checks workspace.read). */
  run(ctx: Ctx, workspace: string, runId: string): Promise<{ artifactUri: string } | null>;
  /** A logged model of the workspace: its artifact URI and source run. */
  loggedModel(workspace: string, id: string): Promise<{ artifactUri: string; sourceRunId: string } | null>;
  /** The storage prefix of a registered version (for models:/name/version sources). */
  registeredVersion(workspace: string, name: string, versionOrAlias: string): Promise<string | null>;
}

const EXPECTED = 'a URI the registry can copy from: mlflow-artifacts:/<experiment id>/..., runs:/<run id>/<path>, models:/<logged model id> or models:/<name>/<version>';

/**
 * Turns an MLflow `source` into a key of the shared ArtifactStore. Only
 * sources that Slipway itself stores are accepted: the registry copies files,
 * it never fetches from an arbitrary URL on a client's behalf.
 */
export async function resolveSource(ctx: Ctx, workspace: string, source: string, lookups: SourceLookups): Promise<ResolvedSource> {
  if (typeof source !== 'string' || source === '') throw Invalid.field('source', `is required (${EXPECTED})`);
  const m = /^([a-z][a-z0-9+.-]*):(.*)$/i.exec(source);
  const scheme = m?.[1].toLowerCase();
  const rest = m?.[2] ?? '';
  if (scheme === 'mlflow-artifacts') return { key: await proxyKey(ctx, workspace, stripAuthority(rest), lookups) };
  if (scheme === 'runs') {
    const [, runId, ...path] = stripAuthority(rest).split('/');
    if (!runId) throw Invalid.field('source', `runs:/ needs a run id (${EXPECTED})`);
    const run = await lookups.run(ctx, workspace, runId);
    if (!run) throw new NotFound('run', runId);
    const base = await resolveSource(ctx, workspace, run.artifactUri, lookups);
    return { key: path.length ? joinKey(base.key, checked(path.join('/'))) : base.key, runId };
  }
  if (scheme === 'models') {
    const parts = stripAuthority(rest).split('/').filter(Boolean);
    if (parts.length === 1 && /^m-[0-9a-f]{32}$/.test(parts[0])) {
      const lm = await lookups.loggedModel(workspace, parts[0]);
      if (!lm) throw new NotFound('logged model', parts[0]);
      const base = await resolveSource(ctx, workspace, lm.artifactUri, lookups);
      return { key: base.key, runId: lm.sourceRunId || undefined, loggedModelId: parts[0] };
    }
    const [name, ref] = parts.length === 1 && parts[0].includes('@') ? parts[0].split('@') : parts;
    if (!name || !ref) throw Invalid.field('source', EXPECTED);
    const prefix = await lookups.registeredVersion(workspace, name, parts.length === 1 ? `@${ref}` : ref);
    if (!prefix) throw new NotFound('model version', `${name}/${ref}`);
    return { key: prefix };
  }
  throw Invalid.field('source', EXPECTED);
}

function stripAuthority(rest: string): string {
  // mlflow-artifacts://host:port/path names the same server: keep the path.
  return rest.startsWith('//') ? rest.slice(rest.indexOf('/', 2) === -1 ? rest.length : rest.indexOf('/', 2)) : rest;
}

function checked(path: string): string {
  try {
    return validateKey(path);
  } catch (e) {
    throw Invalid.field('source', `bad path in source: ${(e as Invalid).issues?.[0]?.message ?? (e as Error).message}`);
  }
}

async function proxyKey(ctx: Ctx, workspace: string, path: string, lookups: SourceLookups): Promise<string> {
  const target = proxyTarget(checked(path.replace(/^\/+/, '')));
  if (target.workspace !== workspace) throw Invalid.field('source', `names workspace '${target.workspace}', not '${workspace}'`);
  if (target.kind === 'experiment' && !(await lookups.experimentExists(ctx, workspace, target.experimentId!))) {
    throw new NotFound(`experiment '${target.experimentId}' in workspace '${workspace}'`);
  }
  return target.key;
}
