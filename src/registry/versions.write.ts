import type { Ctx } from '../access/principal.js';
import { Invalid, isSlipwayError, SlipwayError } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import { refuseIfServed, type RegistryDeps } from './service.js';
import { resolveSource, type SourceLookups } from './sources.js';
import { digestOf, versionPrefix, type VersionStorage } from './storage.js';
import type { FileRow, KV, RegistryStore, VersionRow } from './store.js';
import {
  canonicalStage,
  checkModelName,
  checkTag,
  downloadUri,
  modelNotFound,
  requireModel,
  requireVersion,
  versionNotFound,
  versionViews,
  type VersionView,
} from './views.js';

export interface CreateVersionInput {
  name: string;
  source?: string;
  runId?: string;
  runLink?: string;
  description?: string;
  tags?: KV[];
  loggedModelId?: string;
}

/** Fills a new version's storage prefix with files (uploads); returns what it wrote. */
export type Filler = (dest: string) => Promise<FileRow[]>;

export interface CreateOptions {
  /** Files come from the caller (native upload) instead of `source`. */
  fill?: Filler;
  /** Create the registered model if it does not exist (mlflow.register_model does the same in two calls). */
  createModel?: boolean;
  /** Refuse a version without an ONNX graph (native uploads). */
  requireOnnx?: boolean;
}

const RESERVED_ALIAS = /^(latest|v\d+)$/i;

/**
 * Model versions: creation copies the files into the registry's immutable
 * storage and digests them before the version turns READY; then stage,
 * description, tags and aliases change, never the files.
 */
export class VersionWriter {
  constructor(
    private readonly deps: RegistryDeps,
    private readonly store: RegistryStore,
    private readonly storage: VersionStorage,
    private readonly lookups: SourceLookups,
  ) {}

  async create(ctx: Ctx, workspace: string, input: CreateVersionInput, opts: CreateOptions = {}): Promise<VersionView> {
    const name = checkModelName(input.name);
    const tags = (input.tags ?? []).map((t) => checkTag(t.key, t.value, 'tags.key'));
    await this.deps.authz.authorize(ctx, 'model.register', workspace);
    // Resolve before creating anything: a bad source leaves no trace.
    const resolved = opts.fill ? undefined : await resolveSource(ctx, workspace, input.source ?? '', this.lookups);
    const runId = input.runId || resolved?.runId || '';
    const spec = { action: 'model.register' as const, workspace, target: `model/${name}`, detail: { op: 'create-version', source: input.source ?? 'upload' } };
    const row = await this.deps.authz.mutate(ctx, spec, async (tx, ws) => {
      // Concurrent first uploads of a new name: one inserts, the other finds it.
      if (opts.createModel) await this.store.insertModel(tx, { workspaceId: Number(ws!.id), name, description: '', createdBy: ctx.principal.name, now: Date.now() });
      const m = await this.store.model(Number(ws!.id), name, tx, true);
      if (!m) throw modelNotFound(name);
      const version = await this.store.nextVersion(tx, Number(m.id));
      const now = Date.now();
      const storagePrefix = versionPrefix(workspace, Number(m.id), version);
      const v = await this.store.insertVersion(tx, {
        modelId: Number(m.id),
        version,
        source: input.source || downloadUri(storagePrefix),
        runId,
        runLink: input.runLink ?? '',
        loggedModelId: input.loggedModelId || resolved?.loggedModelId || '',
        description: input.description ?? '',
        createdBy: ctx.principal.name,
        now,
        storagePrefix,
      });
      await this.store.setVersionTags(tx, Number(v.id), tags);
      await this.store.touchModel(tx, Number(m.id), now);
      return v;
    });
    await this.register(ctx, workspace, row, resolved?.key, opts);
    this.deps.onVersionReady?.(workspace, name, Number(row.version), runId);
    return this.view(this.deps.db, name, (await this.store.version(this.deps.db, Number(row.model_id), Number(row.version)))!);
  }

  /** PENDING_REGISTRATION → copy, digest, read the signature → READY (or rolled back / FAILED). */
  private async register(ctx: Ctx, workspace: string, v: VersionRow, sourceKey: string | undefined, opts: CreateOptions): Promise<void> {
    const dest = v.storage_prefix;
    try {
      const files = opts.fill ? await opts.fill(dest) : await this.storage.copyFrom(sourceKey!, dest);
      if (!files.length) throw Invalid.field(opts.fill ? 'body' : 'source', 'holds no files');
      const signature = await this.storage.signature(dest, files);
      if (opts.requireOnnx && !signature) throw Invalid.field('model', 'expected an .onnx file or an MLflow model directory with MLmodel and model.onnx');
      const digest = digestOf(files);
      const size = files.reduce((s, f) => s + f.size, 0);
      await this.deps.authz.commit(ctx, { action: 'model.register', workspace, target: `model-version/${v.id}`, detail: { op: 'ready', digest } }, async (tx) => {
        await this.store.insertFiles(tx, Number(v.id), files);
        await this.store.updateVersion(tx, Number(v.id), { status: 'READY', digest, size_bytes: size, signature: signature ? JSON.stringify(signature) : null, updated_at: Date.now() });
      });
    } catch (e) {
      if (isSlipwayError(e) && e.code === 'invalid') {
        // The client's mistake: undo the version as if it never was.
        await this.storage.remove(dest).catch(() => undefined);
        await this.deps.authz.commit(ctx, { action: 'model.register', workspace, target: `model-version/${v.id}`, detail: { op: 'rollback', reason: e.message } }, (tx) => this.store.deleteVersion(tx, Number(v.id)));
      } else {
        await this.store.updateVersion(this.deps.db, Number(v.id), { status: 'FAILED_REGISTRATION', status_message: String((e as Error).message).slice(0, 500), updated_at: Date.now() }).catch(() => undefined);
      }
      throw e;
    }
  }

  async update(ctx: Ctx, workspace: string, name: string, version: number, description: string | undefined): Promise<VersionView> {
    return this.change(ctx, workspace, name, version, 'model.register', { op: 'update' }, async (tx, v) => {
      if (description !== undefined) await this.store.updateVersion(tx, Number(v.id), { description, updated_at: Date.now() });
    });
  }

  async transition(ctx: Ctx, workspace: string, name: string, version: number, stage: string, archiveExisting: boolean): Promise<VersionView> {
    const to = canonicalStage(stage);
    return this.change(ctx, workspace, name, version, 'model.register', { op: 'transition-stage', stage: to }, async (tx, v) => {
      const now = Date.now();
      await this.store.updateVersion(tx, Number(v.id), { current_stage: to, updated_at: now });
      if (archiveExisting && (to === 'Staging' || to === 'Production')) await this.store.archiveStage(tx, Number(v.model_id), to, Number(v.id), now);
    });
  }

  async delete(ctx: Ctx, workspace: string, name: string, version: number): Promise<void> {
    let prefix = '';
    await this.change(ctx, workspace, name, version, 'model.delete', { op: 'delete-version' }, async (tx, v) => {
      await refuseIfServed(this.deps, tx, `model '${name}' version ${version}`, Number(v.model_id), Number(v.version));
      prefix = v.storage_prefix;
      await this.store.deleteVersion(tx, Number(v.id));
    }, false);
    if (prefix) await this.storage.remove(prefix);
  }

  async setTag(ctx: Ctx, workspace: string, name: string, version: number, key: string, value: string): Promise<void> {
    const tag = checkTag(key, value);
    await this.change(ctx, workspace, name, version, 'model.register', { op: 'set-tag', key }, (tx, v) => this.store.setVersionTag(tx, Number(v.id), tag.key, tag.value), false);
  }

  async deleteTag(ctx: Ctx, workspace: string, name: string, version: number, key: string): Promise<void> {
    if (typeof key !== 'string' || !key) throw Invalid.field('key', 'is required (a tag key)');
    await this.change(ctx, workspace, name, version, 'model.register', { op: 'delete-tag', key }, async (tx, v) => {
      if (!(await this.store.deleteVersionTag(tx, Number(v.id), key))) throw new SlipwayError('not_found', `No tag with name: ${key} in model ${name} version ${version}`);
    }, false);
  }

  async setAlias(ctx: Ctx, workspace: string, name: string, alias: string, version: number): Promise<void> {
    checkAlias(alias);
    await this.change(ctx, workspace, name, version, 'model.register', { op: 'set-alias', alias }, async (tx, v) => {
      await this.store.setAlias(tx, Number(v.model_id), alias, Number(v.id));
      await this.store.touchModel(tx, Number(v.model_id), Date.now());
    }, false);
  }

  async deleteAlias(ctx: Ctx, workspace: string, name: string, alias: string): Promise<void> {
    checkAlias(alias);
    await this.deps.authz.mutate(ctx, { action: 'model.register', workspace, target: `model/${name}`, detail: { op: 'delete-alias', alias } }, async (tx, ws) => {
      const m = await requireModel(this.store, tx, Number(ws!.id), name);
      // MLflow answers success for an alias that is not set.
      await this.store.deleteAlias(tx, Number(m.id), alias);
    });
  }

  /** Authorizes, finds the version, applies `fn` in the audited transaction, returns the fresh view. */
  private async change(
    ctx: Ctx,
    workspace: string,
    name: string,
    version: number,
    action: 'model.register' | 'model.delete',
    detail: Record<string, unknown>,
    fn: (tx: Db, v: VersionRow) => Promise<void>,
    wantView = true,
  ): Promise<VersionView> {
    return this.deps.authz.mutate(ctx, { action, workspace, target: `model/${name}/${version}`, detail }, async (tx, ws) => {
      const m = await requireModel(this.store, tx, Number(ws!.id), name, true);
      const v = await requireVersion(this.store, tx, m, version);
      await fn(tx, v);
      if (!wantView) return undefined as unknown as VersionView;
      const fresh = await this.store.version(tx, Number(m.id), version);
      if (!fresh) throw versionNotFound(name, version);
      return this.view(tx, m.name, fresh);
    });
  }

  private async view(db: Db, name: string, v: VersionRow): Promise<VersionView> {
    return (await versionViews(this.store, db, [v], new Map([[Number(v.model_id), name]])))[0];
  }
}

export function checkAlias(alias: unknown): string {
  if (typeof alias !== 'string' || alias === '') throw Invalid.field('alias', 'is required');
  if (alias.length > 256) throw Invalid.field('alias', 'must be at most 256 characters');
  if (RESERVED_ALIAS.test(alias)) throw Invalid.field('alias', `'${alias}' is reserved ('latest' and 'v<number>' name versions already)`);
  return alias;
}
