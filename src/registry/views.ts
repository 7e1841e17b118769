import { Invalid, SlipwayError } from '../shared/errors.js';
import { registryProxyPath } from '../artifacts/proxy.js';
import type { Signature } from './onnx.js';
import type { KV, ModelRow, RegistryStore, VersionRow } from './store.js';
import type { Db } from '../store/db.js';

/** A model version as the registry's services return it (native API and MLflow mapping start here). */
export interface VersionView {
  name: string;
  version: number;
  createdAt: number;
  updatedAt: number;
  createdBy: string;
  stage: string;
  description: string;
  source: string;
  runId: string;
  runLink: string;
  loggedModelId: string;
  status: string;
  statusMessage: string;
  tags: KV[];
  aliases: string[];
  digest: string | null;
  sizeBytes: number;
  signature: Signature | null;
  /** Where clients download the immutable copy through the artifact proxy. */
  artifactUri: string;
}

export interface ModelView {
  name: string;
  createdAt: number;
  updatedAt: number;
  createdBy: string;
  description: string;
  tags: KV[];
  aliases: Array<{ alias: string; version: number }>;
  /** Latest READY version per stage. */
  latestVersions: VersionView[];
}

export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;

/** Canonical stage name from any casing, as MLflow accepts them. */
export function canonicalStage(stage: string, field = 'stage'): string {
  const s = STAGES.find((x) => x.toLowerCase() === stage.trim().toLowerCase());
  if (!s) throw Invalid.field(field, `must be one of ${STAGES.join(', ')}`);
  return s;
}

export const MODEL_NAME_RULE = '1-256 characters, no "/" and no control characters';

export function checkModelName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || name === '') throw Invalid.field(field, 'is required (a registered model name)');
  if (name.length > 256 || /[\u0000-\u001f\u007f/]/.test(name)) throw Invalid.field(field, MODEL_NAME_RULE);
  return name;
}

/** MLflow sends version numbers as strings; they must be positive integers. */
export function parseVersion(v: unknown, field = 'version'): number {
  const s = typeof v === 'number' ? String(v) : v;
  if (typeof s !== 'string' || !/^\d{1,9}$/.test(s.trim()) || Number(s) < 1) throw Invalid.field(field, 'must be a positive integer model version number');
  return Number(s);
}

export function checkTag(key: unknown, value: unknown, field = 'key'): KV {
  if (typeof key !== 'string' || key === '') throw Invalid.field(field, 'is required (a tag key)');
  if (key.length > 250) throw Invalid.field(field, 'must be at most 250 characters');
  if (typeof value !== 'string') throw Invalid.field('value', 'is required (a string)');
  if (value.length > 5000) throw Invalid.field('value', 'must be at most 5000 characters');
  return { key, value };
}

// MLflow's own wording, which clients and people grep for.
export function modelNotFound(name: string): SlipwayError {
  return new SlipwayError('not_found', `Registered Model with name=${name} not found`);
}

export function versionNotFound(name: string, version: number | string): SlipwayError {
  return new SlipwayError('not_found', `Model Version (name=${name}, version=${version}) not found`);
}

export async function requireModel(store: RegistryStore, db: Db, workspaceId: number, name: string, lock = false): Promise<ModelRow> {
  const m = await store.model(workspaceId, checkModelName(name), db, lock);
  if (!m) throw modelNotFound(name);
  return m;
}

export async function requireVersion(store: RegistryStore, db: Db, model: ModelRow, version: number): Promise<VersionRow> {
  const v = await store.version(db, Number(model.id), version);
  if (!v) throw versionNotFound(model.name, version);
  return v;
}

/** The proxy URI of a version's immutable files (registry/<ws>/<id>/<v> → mlflow-artifacts:/[w/<ws>/]registry/<id>/<v>). */
export function downloadUri(storagePrefix: string): string {
  return `mlflow-artifacts:/${registryProxyPath(storagePrefix)}`;
}

/** Assembles views for versions, loading their tags and aliases in two queries. */
export async function versionViews(store: RegistryStore, db: Db, rows: Array<VersionRow & { model_name?: string }>, names: Map<number, string>): Promise<VersionView[]> {
  const tags = await store.versionTags(db, rows.map((r) => Number(r.id)));
  const aliases = await store.aliases(db, [...new Set(rows.map((r) => Number(r.model_id)))]);
  return rows.map((r) => {
    const mine = (aliases.get(Number(r.model_id)) ?? []).filter((a) => a.versionId === Number(r.id)).map((a) => a.alias);
    return versionView(r, r.model_name ?? names.get(Number(r.model_id)) ?? '', tags.get(Number(r.id)) ?? [], mine);
  });
}

export function versionView(r: VersionRow, name: string, tags: KV[], aliases: string[]): VersionView {
  return {
    name,
    version: Number(r.version),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    createdBy: r.created_by,
    stage: r.current_stage,
    description: r.description,
    source: r.source,
    runId: r.run_id,
    runLink: r.run_link,
    loggedModelId: r.logged_model_id,
    status: r.status,
    statusMessage: r.status_message,
    tags,
    aliases,
    digest: r.digest,
    sizeBytes: Number(r.size_bytes),
    signature: r.signature ? (JSON.parse(r.signature) as Signature) : null,
    artifactUri: downloadUri(r.storage_prefix),
  };
}

/** Views for models with tags, aliases and latest READY version per stage. */
export async function modelViews(store: RegistryStore, db: Db, models: ModelRow[]): Promise<ModelView[]> {
  const ids = models.map((m) => Number(m.id));
  const names = new Map(models.map((m) => [Number(m.id), m.name]));
  const [tags, aliases, versions] = await Promise.all([store.modelTags(db, ids), store.aliases(db, ids), store.versionsOf(db, ids)]);
  const latest = new Map<string, VersionRow>();
  for (const v of versions) {
    if (v.status !== 'READY') continue;
    const k = `${v.model_id}\u0000${v.current_stage}`;
    const cur = latest.get(k);
    if (!cur || Number(cur.version) < Number(v.version)) latest.set(k, v);
  }
  const latestViews = await versionViews(store, db, [...latest.values()], names);
  return models.map((m) => ({
    name: m.name,
    createdAt: Number(m.created_at),
    updatedAt: Number(m.updated_at),
    createdBy: m.created_by,
    description: m.description,
    tags: tags.get(Number(m.id)) ?? [],
    aliases: (aliases.get(Number(m.id)) ?? []).map((a) => ({ alias: a.alias, version: a.version })),
    latestVersions: latestViews.filter((v) => v.name === m.name).sort((a, b) => a.version - b.version),
  }));
}
