import type { Readable } from 'node:stream';
import type { Ctx } from '../access/principal.js';
import { joinKey, validateKey } from '../artifacts/index.js';
import { Invalid, NotFound, SlipwayError } from '../shared/errors.js';
import { decodePageToken, encodePageToken, parseFilter, parseOrderBy } from './filter.js';
import type { Page, RegistryDeps, ServedVersion } from './service.js';
import { digestOf, type FileCheck, type VersionStorage } from './storage.js';
import type { FileRow, ModelRow, RegistryStore, VersionRow } from './store.js';
import type { Run } from '../tracking/model.js';
import { canonicalStage, requireModel, requireVersion, versionViews, type VersionView } from './views.js';

export interface VerifyResult {
  name: string;
  version: number;
  ok: boolean;
  /** The digest recorded at registration. */
  digest: string;
  /** The digest recomputed from the stored bytes. */
  recomputed: string;
  files: FileCheck[];
}

export interface Lineage {
  model: string;
  version: number;
  digest: string | null;
  source: string;
  run: (Run['info'] & { params: Run['data']['params']; metrics: Run['data']['metrics']; tags: Run['data']['tags'] }) | null;
  datasets: Array<{ name: string; digest: string; sourceType: string; source: string }>;
  codeVersion: string | null;
  environmentDigest: string | null;
  /** Deployments serving this version (endpoint and deployment names). */
  deployments: ServedVersion[];
}

/** Tags from which lineage reads the code version and the environment lockfile digest. */
export const CODE_VERSION_TAG = 'mlflow.source.git.commit';
export const ENV_DIGEST_TAGS = ['slipway.environment.digest', 'slipway.lockfile.digest'];

/** Reads of model versions: get, search, latest per stage, aliases, files, verification, lineage. */
export class VersionReader {
  constructor(
    private readonly deps: RegistryDeps,
    private readonly store: RegistryStore,
    private readonly storage: VersionStorage,
    /** Tracking's run read (authorized); null when the workspace has no such run. */
    private readonly runOf: (ctx: Ctx, workspace: string, runId: string) => Promise<Run | null>,
  ) {}

  private async find(ctx: Ctx, workspace: string, name: string, version: number): Promise<{ m: ModelRow; v: VersionRow }> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const m = await requireModel(this.store, this.deps.db, Number(ws.id), name);
    return { m, v: await requireVersion(this.store, this.deps.db, m, version) };
  }

  private async views(rows: VersionRow[], m: ModelRow): Promise<VersionView[]> {
    return versionViews(this.store, this.deps.db, rows, new Map([[Number(m.id), m.name]]));
  }

  async get(ctx: Ctx, workspace: string, name: string, version: number): Promise<VersionView> {
    const { m, v } = await this.find(ctx, workspace, name, version);
    return (await this.views([v], m))[0];
  }

  async byAlias(ctx: Ctx, workspace: string, name: string, alias: string): Promise<VersionView> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const m = await requireModel(this.store, this.deps.db, Number(ws.id), name);
    const id = await this.store.aliasTarget(this.deps.db, Number(m.id), alias);
    const v = id === null ? undefined : (await this.store.versionsOf(this.deps.db, [Number(m.id)])).find((x) => Number(x.id) === id);
    if (!v) throw new SlipwayError('not_found', `Registered model alias ${alias} not found.`);
    return (await this.views([v], m))[0];
  }

  /** Every version of a model, oldest first. */
  async list(ctx: Ctx, workspace: string, name: string): Promise<VersionView[]> {
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const m = await requireModel(this.store, this.deps.db, Number(ws.id), name);
    return this.views(await this.store.versionsOf(this.deps.db, [Number(m.id)]), m);
  }

  /** Latest READY version per stage (all stages when none given). */
  async latest(ctx: Ctx, workspace: string, name: string, stages: string[] = []): Promise<VersionView[]> {
    const wanted = new Set(stages.map((s) => canonicalStage(s, 'stages')));
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const m = await requireModel(this.store, this.deps.db, Number(ws.id), name);
    const latest = new Map<string, VersionRow>();
    for (const v of await this.store.versionsOf(this.deps.db, [Number(m.id)])) {
      if (v.status !== 'READY' || (wanted.size && !wanted.has(v.current_stage))) continue;
      const cur = latest.get(v.current_stage);
      if (!cur || Number(cur.version) < Number(v.version)) latest.set(v.current_stage, v);
    }
    return this.views([...latest.values()].sort((a, b) => Number(a.version) - Number(b.version)), m);
  }

  async search(ctx: Ctx, workspace: string, q: { filter?: string; maxResults?: number; orderBy?: string[]; pageToken?: string }): Promise<Page<VersionView>> {
    const max = q.maxResults ?? 10_000;
    if (!Number.isInteger(max) || max < 1 || max > 200_000) throw Invalid.field('max_results', 'must be an integer between 1 and 200000');
    const conds = parseFilter(q.filter, { keys: ['name', 'run_id', 'source_path', 'version_number'] });
    const order = parseOrderBy(q.orderBy, {
      name: 'name',
      version_number: 'version',
      creation_timestamp: 'created_at',
      timestamp: 'updated_at',
      last_updated_timestamp: 'updated_at',
      current_stage: 'current_stage',
    });
    const offset = decodePageToken(q.pageToken);
    const ws = await this.deps.authz.authorize(ctx, 'workspace.read', workspace);
    const rows = await this.store.searchVersions(Number(ws.id), conds, order, offset, max + 1);
    const page = rows.slice(0, max);
    // MLflow's search results carry no aliases; tags yes.
    const items = (await versionViews(this.store, this.deps.db, page, new Map())).map((v) => ({ ...v, aliases: [] }));
    return { items, nextPageToken: rows.length > max ? encodePageToken(offset + max) : undefined };
  }

  async downloadUri(ctx: Ctx, workspace: string, name: string, version: number): Promise<string> {
    return (await this.get(ctx, workspace, name, version)).artifactUri;
  }

  async files(ctx: Ctx, workspace: string, name: string, version: number): Promise<FileRow[]> {
    const { v } = await this.find(ctx, workspace, name, version);
    return this.store.files(this.deps.db, Number(v.id));
  }

  /** One stored file of a READY version, streamed. */
  async readFile(ctx: Ctx, workspace: string, name: string, version: number, path: string): Promise<{ stream: Readable; size: number; sha256: string }> {
    const rel = validateKey(path);
    const { v } = await this.find(ctx, workspace, name, version);
    const f = (await this.store.files(this.deps.db, Number(v.id))).find((x) => x.path === rel);
    if (!f) throw new NotFound('file', rel);
    return { stream: await this.storage.store.get(joinKey(v.storage_prefix, rel)), size: f.size, sha256: f.sha256 };
  }

  /** Re-reads the stored bytes and recomputes every digest. */
  async verify(ctx: Ctx, workspace: string, name: string, version: number): Promise<VerifyResult> {
    const { v } = await this.find(ctx, workspace, name, version);
    if (v.status !== 'READY' || !v.digest) throw Invalid.field('version', `is ${v.status}, not READY: nothing to verify`);
    const recorded = await this.store.files(this.deps.db, Number(v.id));
    const checks = await this.storage.verify(v.storage_prefix, recorded);
    const present = checks.filter((c) => c.actual !== null).map((c) => ({ path: c.path, sha256: c.actual! }));
    const recomputed = digestOf(present);
    const ok = checks.every((c) => c.status === 'ok') && recomputed === v.digest;
    return { name, version, ok, digest: v.digest, recomputed, files: checks };
  }

  async lineage(ctx: Ctx, workspace: string, name: string, version: number): Promise<Lineage> {
    const { m, v } = await this.find(ctx, workspace, name, version);
    const run = v.run_id ? await this.runOf(ctx, workspace, v.run_id) : null;
    const tag = (k: string) => run?.data.tags.find((t) => t.key === k)?.value ?? null;
    return {
      model: m.name,
      version,
      digest: v.digest,
      source: v.source,
      run: run ? { ...run.info, params: run.data.params, metrics: run.data.metrics, tags: run.data.tags } : null,
      datasets: (run?.inputs.datasetInputs ?? []).map((d) => ({ name: d.dataset.name, digest: d.dataset.digest, sourceType: d.dataset.sourceType, source: d.dataset.source })),
      codeVersion: tag(CODE_VERSION_TAG),
      environmentDigest: ENV_DIGEST_TAGS.map(tag).find((x) => x !== null) ?? null,
      deployments: this.deps.servedBy ? await this.deps.servedBy(Number(m.id), version) : [],
    };
  }
}
