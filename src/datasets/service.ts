import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { Authorizer } from '../access/authorizer.js';
import type { Action } from '../access/matrix.js';
import type { Ctx } from '../access/principal.js';
import type { WorkspaceRow } from '../access/tables.js';
import { joinKey } from '../artifacts/keys.js';
import type { ArtifactStore } from '../artifacts/store.js';
import { Conflict, Forbidden, Invalid, NotFound, SlipwayError } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import { versionHandle, type DatasetVersionHandle } from './handle.js';
import type { Format } from './infer.js';
import { checkFilename, checkName, checkRefresh, checkVersion, defaultFilename, MEDIA_TYPE_OF, resolveFormat } from './names.js';
import { UPLOAD_MEDIA_TYPES, type DatasetOut, type DatasetPatch, type DatasetWithVersions, type UploadQuery, type VersionOut } from './schema.js';
import { stageUpload } from './stage.js';
import { DatasetStore, type DatasetRow } from './store.js';
import { datasetView, versionView } from './views.js';

export interface DatasetDeps {
  db: Db;
  authz: Authorizer;
  artifacts: ArtifactStore;
  /** Local scratch space for uploads being checked and Parquet files being read. */
  tmpDir: string;
  /** Told of each new version (pipeline triggers); it must not throw. */
  onVersion?: (version: VersionOut, source: string | undefined) => void;
}

export interface UploadInput extends UploadQuery {
  contentType?: string;
}

interface UploadMeta {
  format: Format;
  filename: string;
  source?: string;
  description?: string;
  refresh?: string;
}

/**
 * Datasets: versioned, owned data assets. Reads need `workspace.read`,
 * uploads and edits `dataset.write`; deleting a dataset or giving it away
 * needs its owner (with `dataset.write`) or `access.manage`.
 */
export class DatasetService {
  private readonly store: DatasetStore;
  private readonly authz: Authorizer;
  private readonly artifacts: ArtifactStore;
  private readonly tmpDir: string;
  private readonly onVersion: DatasetDeps['onVersion'];

  constructor(deps: DatasetDeps) {
    this.store = new DatasetStore(deps.db);
    this.authz = deps.authz;
    this.artifacts = deps.artifacts;
    this.tmpDir = deps.tmpDir;
    this.onVersion = deps.onVersion;
  }

  /**
   * Stores a new version. The body is read once (hashed, checked, schema
   * inferred) into a temp file; only a file that passes is stored, under a
   * freshly reserved version number, and then recorded with its audit entry.
   */
  async upload(ctx: Ctx, workspace: string, name: string, body: unknown, input: UploadInput): Promise<VersionOut> {
    const ws = await this.authz.authorize(ctx, 'dataset.write', workspace);
    checkName(name);
    const meta = uploadMeta(input);
    if (body === undefined || body === null) throw Invalid.field('body', `expected the bytes of a ${meta.format} file`);
    if (!(body instanceof Readable)) throw new SlipwayError('unsupported_media_type', `content-type: send the file's bytes as one of ${UPLOAD_MEDIA_TYPES.join(', ')}`);
    const staged = await stageUpload(body, meta.format, this.tmpDir);
    try {
      const version = await this.store.reserveVersion(Number(ws.id), name);
      const key = joinKey('datasets', workspace, name, String(version), meta.filename);
      const put = await this.artifacts.put(key, createReadStream(staged.path), { contentType: MEDIA_TYPE_OF[meta.format] });
      if (put.sha256 !== staged.sha256) throw new Error(`artifact store kept different bytes at ${key}`);
      const detail = { version, format: meta.format, sha256: staged.sha256, size: staged.size, rows: staged.rows };
      try {
        const created = await this.authz.mutate(ctx, { action: 'dataset.write', workspace, target: `dataset/${name}`, detail }, async (tx) => {
          const { id, created } = await this.store.ensureDataset(tx, {
            workspace_id: Number(ws.id),
            name,
            owner_id: ownerIdOf(ctx),
            source: meta.source ?? '',
            refresh_frequency: meta.refresh ?? null,
            description: meta.description ?? '',
          });
          // Metadata sent with a later upload updates the dataset; a new version always touches it.
          const patch = created ? {} : { source: meta.source, refresh_frequency: meta.refresh, description: meta.description };
          await this.store.update(tx, id, patch);
          const row = await this.store.insertVersion(tx, {
            dataset_id: id,
            version,
            format: meta.format,
            filename: meta.filename,
            artifact_key: key,
            sha256: staged.sha256,
            size_bytes: staged.size,
            row_count: staged.rows,
            columns: JSON.stringify(staged.columns),
            created_by: ctx.principal.name,
          });
          return versionView(workspace, name, row);
        });
        this.onVersion?.(created, meta.source);
        return created;
      } catch (e) {
        await this.artifacts.delete(key).catch(() => undefined);
        throw e;
      }
    } finally {
      await staged.cleanup();
    }
  }

  async list(ctx: Ctx, workspace: string): Promise<DatasetOut[]> {
    const ws = await this.authz.authorize(ctx, 'workspace.read', workspace);
    return (await this.store.list(Number(ws.id))).map((d) => datasetView(workspace, d));
  }

  async get(ctx: Ctx, workspace: string, name: string): Promise<DatasetWithVersions> {
    const ws = await this.authz.authorize(ctx, 'workspace.read', workspace);
    const d = await this.dataset(ws, name);
    const versions = await this.store.versions(Number(d.id));
    return { ...datasetView(workspace, d), versions: versions.map((v) => versionView(workspace, name, v)) };
  }

  async version(ctx: Ctx, workspace: string, name: string, version: string): Promise<VersionOut> {
    await this.authz.authorize(ctx, 'workspace.read', workspace);
    return (await this.datasetVersion(workspace, name, parseVersion(version))).meta;
  }

  /** The version's metadata and its bytes, for download. */
  async content(ctx: Ctx, workspace: string, name: string, version: string): Promise<{ meta: VersionOut; stream: Readable }> {
    await this.authz.authorize(ctx, 'workspace.read', workspace);
    const h = await this.datasetVersion(workspace, name, parseVersion(version));
    return { meta: h.meta, stream: await h.content() };
  }

  async update(ctx: Ctx, workspace: string, name: string, patch: DatasetPatch): Promise<DatasetOut> {
    const ws = await this.authz.authorize(ctx, 'dataset.write', workspace);
    const d = await this.dataset(ws, name);
    const refresh = patch.refreshFrequency === undefined || patch.refreshFrequency === null ? patch.refreshFrequency : checkRefresh(patch.refreshFrequency);
    const owner = patch.owner === undefined ? undefined : await this.store.principalId(patch.owner);
    if (patch.owner !== undefined && !owner) throw Invalid.field('owner', `an existing user, service principal or group; there is no '${patch.owner}'`);
    const givesAway = owner !== undefined && Number(owner.id) !== Number(d.owner_id);
    const action = givesAway ? ownerAction(ctx, d) : 'dataset.write';
    await this.ownerLevel(ctx, d, action, 'changing the owner of', () =>
      this.authz.mutate(ctx, { action, workspace, target: `dataset/${name}`, detail: { ...patch } }, async (tx) => {
        const current = await this.store.get(Number(ws.id), name, tx);
        if (!current) throw new NotFound('dataset', name);
        if (givesAway && current.owner_id !== d.owner_id) throw new Conflict(`the owner of dataset '${name}' changed meanwhile; try again`);
        await this.store.update(tx, Number(d.id), { owner_id: owner ? Number(owner.id) : undefined, source: patch.source, refresh_frequency: refresh, description: patch.description });
      }),
    );
    return datasetView(workspace, (await this.store.get(Number(ws.id), name))!);
  }

  /** Deletes the dataset, its versions and their files. Its version numbers are never reused. */
  async delete(ctx: Ctx, workspace: string, name: string): Promise<void> {
    const ws = await this.authz.authorize(ctx, 'dataset.write', workspace);
    const d = await this.dataset(ws, name);
    const action = ownerAction(ctx, d);
    const keys = await this.ownerLevel(ctx, d, action, 'deleting', () =>
      this.authz.mutate(ctx, { action, workspace, target: `dataset/${name}`, detail: { op: 'delete' } }, async (tx) => {
        const current = await this.store.get(Number(ws.id), name, tx);
        if (!current) throw new NotFound('dataset', name);
        if (current.owner_id !== d.owner_id) throw new Conflict(`the owner of dataset '${name}' changed meanwhile; try again`);
        return this.store.delete(tx, Number(d.id));
      }),
    );
    // Files go after the rows: a failure here leaves unreachable bytes, never a version without its file.
    for (const key of keys) await this.artifacts.delete(key).catch(() => undefined);
  }

  /**
   * A stored version for other domains (jobs, batch scoring, monitors): no
   * authorization here, the caller has done its own. `version` may be 'latest'.
   */
  async datasetVersion(workspace: string, name: string, version: number | 'latest'): Promise<DatasetVersionHandle> {
    const ws = await this.authz.workspace(workspace);
    const d = await this.dataset(ws, name);
    const v = await this.store.version(Number(d.id), version);
    if (!v) throw new NotFound(`version ${version} of dataset`, name);
    return versionHandle(versionView(workspace, name, v), v.artifact_key, this.artifacts, this.tmpDir);
  }

  private async dataset(ws: WorkspaceRow, name: string): Promise<DatasetRow> {
    const d = await this.store.get(Number(ws.id), name);
    if (!d) throw new NotFound('dataset', `${ws.name}/${name}`);
    return d;
  }

  /** Runs an owner-level change; a denial says who may do it instead of only naming the action. */
  private async ownerLevel<T>(ctx: Ctx, d: DatasetRow, action: Action, what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      if ((e as SlipwayError).code !== 'forbidden' || action !== 'access.manage') throw e;
      const owner = d.owner ? `its owner '${d.owner}'` : 'its owner';
      throw new Forbidden(`${what} dataset '${d.name}' needs ${owner} or permission 'access.manage'; '${ctx.principal.name}' has neither`, 'access.manage');
    }
  }
}

function uploadMeta(input: UploadInput): UploadMeta {
  const filename = input.filename === undefined ? undefined : checkFilename(input.filename);
  const format = resolveFormat(input.format, filename, input.contentType);
  return {
    format,
    filename: filename ?? defaultFilename(format),
    source: input.source,
    description: input.description,
    refresh: input.refreshFrequency === undefined ? undefined : checkRefresh(input.refreshFrequency),
  };
}

function parseVersion(v: string): number | 'latest' {
  return v === 'latest' ? 'latest' : checkVersion(v);
}

/** The system principal (id 0) is not a row in `principals`; what it creates has no owner. */
function ownerIdOf(ctx: Ctx): number | null {
  return ctx.principal.id > 0 ? ctx.principal.id : null;
}

/** Owners (directly or through a group) act with `dataset.write`; anyone else needs `access.manage`. */
function ownerAction(ctx: Ctx, d: DatasetRow): Action {
  const owner = d.owner_id === null ? null : Number(d.owner_id);
  const owns = owner !== null && (owner === ctx.principal.id || ctx.principal.groupIds.includes(owner));
  return owns ? 'dataset.write' : 'access.manage';
}
