import { Invalid } from '../shared/errors.js';
import type { ArtifactListing } from './runs.read.js';
import { DOUBLE_MAX, type DatasetInput, type Experiment, type KeyValue, type LogBatch, type Metric, type MetricWithRunId, type Run, type RunInfo } from './model.js';

/**
 * MLflow's wire format (protobuf JSON) ⇄ the domain. Requests are read the
 * way MLflow's server reads them: int64 as numbers or digit strings, doubles
 * as numbers or "NaN"/"Infinity"/"-Infinity". Responses omit unset fields
 * and empty lists, as protobuf JSON does.
 */
type Json = Record<string, unknown>;

export function body(raw: unknown): Json {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw Invalid.field('body', 'a JSON object is expected');
  return raw as Json;
}

export function str(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return str(v[v.length - 1], field);
  if (typeof v !== 'string') throw Invalid.field(field, `a string is expected, got ${typeof v}`);
  return v;
}

const INT = /^-?\d{1,19}$/;

export function int(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (Array.isArray(v)) return int(v[v.length - 1], field);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string' && INT.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
  throw Invalid.field(field, `an integer is expected, got ${JSON.stringify(v)}`);
}

/** A metric value: ±Infinity is kept as ±DBL_MAX like MLflow; NaN stays NaN. */
export function double(v: unknown, field: string): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (v === 'NaN') return NaN;
  else if (v === 'Infinity') n = Infinity;
  else if (v === '-Infinity') n = -Infinity;
  else if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) n = Number(v);
  else if (v === undefined || v === null) throw Invalid.field(field, `missing value for required parameter '${field}'`);
  else throw Invalid.field(field, `a number (or "NaN", "Infinity", "-Infinity") is expected, got ${JSON.stringify(v)}`);
  if (n === Infinity) return DOUBLE_MAX;
  if (n === -Infinity) return -DOUBLE_MAX;
  return n;
}

export function strings(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x, i) => {
    if (typeof x !== 'string' && typeof x !== 'number') throw Invalid.field(`${field}[${i}]`, 'a string is expected');
    return String(x);
  });
}

function list(v: unknown, field: string): Json[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw Invalid.field(field, 'a list is expected');
  return v.map((x, i) => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw Invalid.field(`${field}[${i}]`, 'an object is expected');
    return x as Json;
  });
}

export function keyValues(v: unknown, field: string): KeyValue[] {
  return list(v, field).map((x, i) => {
    if (typeof x.key !== 'string' || x.key === '') throw Invalid.field(`${field}[${i}].key`, "missing value for required parameter 'key'");
    return { key: x.key, value: x.value as string };
  });
}

/** MLflow clients send both run_id and the older run_uuid; either will do. */
export function runIdOf(b: Json): string | undefined {
  return str(b.run_id, 'run_id') || str(b.run_uuid, 'run_uuid') || undefined;
}

export function metricOf(x: Json, field: string, defaults?: { timestamp?: number }): Metric {
  if (typeof x.key !== 'string' || x.key === '') throw Invalid.field(`${field}.key`, "missing value for required parameter 'key'");
  const timestamp = int(x.timestamp, `${field}.timestamp`) ?? defaults?.timestamp;
  if (timestamp === undefined) throw Invalid.field(`${field}.timestamp`, "missing value for required parameter 'timestamp'");
  return { key: x.key, value: double(x.value, `${field}.value`), timestamp, step: int(x.step, `${field}.step`) ?? 0 };
}

export function batchOf(b: Json): LogBatch {
  const raw = b.metrics;
  if (raw !== undefined && raw !== null && !Array.isArray(raw)) throw Invalid.field('metrics', 'a list is expected');
  const arr = (raw ?? []) as unknown[];
  const metrics = new Array<Metric>(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const x = arr[i];
    if (typeof x !== 'object' || x === null) throw Invalid.field(`metrics[${i}]`, 'an object is expected');
    metrics[i] = metricOf(x as Json, `metrics[${i}]`);
  }
  return { metrics, params: keyValues(b.params, 'params'), tags: keyValues(b.tags, 'tags') };
}

export function datasetInputsOf(v: unknown): DatasetInput[] {
  return list(v, 'datasets').map((x, i) => {
    const f = `datasets[${i}]`;
    const d = (x.dataset ?? undefined) as Json | undefined;
    if (!d || typeof d !== 'object') throw Invalid.field(`${f}.dataset`, "missing value for required parameter 'dataset'");
    const need = (k: string) => {
      const s = str(d[k], `${f}.dataset.${k}`);
      if (!s) throw Invalid.field(`${f}.dataset.${k}`, `missing value for required parameter '${k}'`);
      return s;
    };
    return {
      tags: keyValues(x.tags, `${f}.tags`),
      dataset: { name: need('name'), digest: need('digest'), sourceType: need('source_type'), source: need('source'), schema: str(d.schema, `${f}.dataset.schema`) ?? null, profile: str(d.profile, `${f}.dataset.profile`) ?? null },
    };
  });
}

export function modelInputsOf(v: unknown): string[] {
  return list(v, 'models').map((x, i) => {
    const id = str(x.model_id, `models[${i}].model_id`);
    if (!id) throw Invalid.field(`models[${i}].model_id`, "missing value for required parameter 'model_id'");
    return id;
  });
}

// ---- responses ----

function kvs(list: KeyValue[]) {
  return list.map((t) => ({ key: t.key, value: t.value }));
}

export function experimentJson(e: Experiment): Json {
  const out: Json = {
    experiment_id: e.experimentId,
    name: e.name,
    artifact_location: e.artifactLocation,
    lifecycle_stage: e.lifecycleStage,
    last_update_time: e.lastUpdateTime,
    creation_time: e.creationTime,
  };
  if (e.tags.length) out.tags = kvs(e.tags);
  return out;
}

export function runInfoJson(i: RunInfo): Json {
  const out: Json = { run_uuid: i.runId, experiment_id: i.experimentId, run_name: i.runName, user_id: i.userId, status: i.status };
  if (i.startTime !== null) out.start_time = i.startTime;
  if (i.endTime !== null) out.end_time = i.endTime;
  out.artifact_uri = i.artifactUri;
  out.lifecycle_stage = i.lifecycleStage;
  out.run_id = i.runId;
  return out;
}

/** NaN has no JSON number; protobuf JSON writes it as the string "NaN". */
export function metricJson(m: Metric): Json {
  return { key: m.key, value: Number.isNaN(m.value) ? 'NaN' : m.value, timestamp: m.timestamp, step: m.step };
}

export function metricWithRunJson(m: MetricWithRunId): Json {
  return { ...metricJson(m), run_id: m.runId };
}

export function runJson(r: Run): Json {
  const data: Json = {};
  if (r.data.metrics.length) data.metrics = r.data.metrics.map(metricJson);
  if (r.data.params.length) data.params = kvs(r.data.params);
  if (r.data.tags.length) data.tags = kvs(r.data.tags);
  const inputs: Json = {};
  if (r.inputs.datasetInputs.length) {
    inputs.dataset_inputs = r.inputs.datasetInputs.map((d) => {
      const ds: Json = { name: d.dataset.name, digest: d.dataset.digest, source_type: d.dataset.sourceType, source: d.dataset.source };
      if (d.dataset.schema) ds.schema = d.dataset.schema;
      if (d.dataset.profile) ds.profile = d.dataset.profile;
      return d.tags.length ? { tags: kvs(d.tags), dataset: ds } : { dataset: ds };
    });
  }
  if (r.inputs.modelInputs.length) inputs.model_inputs = r.inputs.modelInputs.map((model_id) => ({ model_id }));
  return { info: runInfoJson(r.info), data, inputs };
}

export function artifactListJson(l: ArtifactListing): Json {
  const out: Json = { root_uri: l.rootUri };
  if (l.files.length) out.files = l.files.map((f) => (f.isDir ? { path: f.path, is_dir: true } : { path: f.path, is_dir: false, file_size: f.fileSize }));
  return out;
}

export function withToken(out: Json, token: string | undefined): Json {
  if (token) out.next_page_token = token;
  return out;
}
