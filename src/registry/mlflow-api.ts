import { Invalid } from '../shared/errors.js';
import type { LoggedModel } from './logged-models.js';
import type { KV } from './store.js';
import type { ModelView, VersionView } from './views.js';

/**
 * The registry in MLflow's wire format (mlflow/protos/model_registry.proto):
 * version numbers are strings, timestamps epoch ms, empty lists omitted.
 * Request parsing reuses tracking's protobuf-JSON readers.
 */
export { body, int, keyValues, str, strings, withToken } from '../tracking/mlflow-api.js';

type Json = Record<string, unknown>;

const kvs = (list: KV[]) => list.map((t) => ({ key: t.key, value: t.value }));

export function versionJson(v: VersionView, opts: { aliases?: boolean } = {}): Json {
  const out: Json = {
    name: v.name,
    version: String(v.version),
    creation_timestamp: v.createdAt,
    last_updated_timestamp: v.updatedAt,
    current_stage: v.stage,
    description: v.description,
    source: v.source,
    run_id: v.runId,
    status: v.status,
  };
  if (v.statusMessage) out.status_message = v.statusMessage;
  if (v.tags.length) out.tags = kvs(v.tags);
  out.run_link = v.runLink;
  if (opts.aliases !== false && v.aliases.length) out.aliases = v.aliases;
  return out;
}

export function modelJson(m: ModelView): Json {
  const out: Json = { name: m.name, creation_timestamp: m.createdAt, last_updated_timestamp: m.updatedAt };
  if (m.description) out.description = m.description;
  if (m.latestVersions.length) out.latest_versions = m.latestVersions.map((v) => versionJson(v, { aliases: false }));
  if (m.tags.length) out.tags = kvs(m.tags);
  if (m.aliases.length) out.aliases = m.aliases.map((a) => ({ alias: a.alias, version: String(a.version) }));
  return out;
}

export function loggedModelJson(m: LoggedModel): Json {
  const info: Json = {
    model_id: m.modelId,
    experiment_id: m.experimentId,
    name: m.name,
    creation_timestamp_ms: m.createdAt,
    last_updated_timestamp_ms: m.updatedAt,
    artifact_uri: m.artifactUri,
    status: m.status,
  };
  if (m.statusMessage) info.status_message = m.statusMessage;
  if (m.modelType) info.model_type = m.modelType;
  if (m.sourceRunId) info.source_run_id = m.sourceRunId;
  if (m.tags.length) info.tags = kvs(m.tags);
  const data: Json = {};
  if (m.params.length) data.params = kvs(m.params);
  return { info, data };
}

/** A protobuf bool: JSON true/false, or "true"/"false" in a query string. */
export function bool(v: unknown, field: string): boolean | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True') return true;
  if (v === 'false' || v === 'False') return false;
  throw Invalid.field(field, `true or false is expected, got ${JSON.stringify(v)}`);
}

/** `[{model_id, step}]` of runs/outputs. */
export function outputsOf(v: unknown): Array<{ modelId: string; step: number }> {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw Invalid.field('models', 'a list of {model_id, step} is expected');
  return v.map((x: unknown, i) => {
    const o = (x ?? {}) as Json;
    if (typeof o.model_id !== 'string' || !o.model_id) throw Invalid.field(`models[${i}].model_id`, 'is required');
    const step = o.step === undefined ? 0 : Number(o.step);
    if (!Number.isSafeInteger(step)) throw Invalid.field(`models[${i}].step`, 'an integer is expected');
    return { modelId: o.model_id, step };
  });
}
