/**
 * A sampled request as the gateway holds it, and its conversion into the
 * stored record: tensors into named feature columns, then the endpoint's
 * `drop` and `hash` applied. Conversion runs in the flusher, never on the
 * request path.
 */
import { createHash } from 'node:crypto';
import { toNested } from '../serving/codec.values.js';
import type { Tensor, Tensors } from '../serving/predictor.js';
import type { Capture } from '../serving/schema.js';
import type { CaptureRecord } from '../telemetry/sink.js';

export interface PendingCapture {
  endpointId: number;
  /** The endpoint's name, for metric labels. */
  endpoint: string;
  policy: Capture;
  deployment: string;
  model: { name: string; version: number };
  requestId: string;
  at: number;
  format: string;
  /** Column names sent with a dataframe body. */
  columns: string[] | undefined;
  /** The request's own tensors: predictors never take ownership of their inputs (see Predictor.predict). */
  inputs: Tensors;
  outputs: Tensors | null;
  status: number;
  latencyMs: number;
}

/** Roughly what a capture holds in memory: its tensors' bytes (strings counted by length). */
export function tensorBytes(ts: Tensors): number {
  let n = 0;
  for (const t of Object.values(ts)) n += Array.isArray(t.data) ? t.data.reduce((s, v) => s + v.length + 16, 0) : t.data.byteLength;
  return n;
}

const nested = (ts: Tensors) => Object.fromEntries(Object.entries(ts).map(([k, t]) => [k, toNested(t)]));

/**
 * The request as a table when it is one: a single [N, F] input (columns
 * from the request, else f0…fN), or inputs of shape [N] / [N, 1] (a column
 * per input, named by the model signature).
 */
export function toFeatures(inputs: Tensors, columns: string[] | undefined): { columns: string[]; rows: unknown[][] } | null {
  const entries = Object.entries(inputs);
  if (entries.length === 1 && entries[0][1].dims.length === 2) {
    const t = entries[0][1];
    const width = t.dims[1];
    const names = columns?.length === width ? columns : Array.from({ length: width }, (_, i) => `f${i}`);
    return { columns: names, rows: toNested(t) as unknown[][] };
  }
  const n = entries[0]?.[1].dims[0];
  const columnar = entries.length > 0 && entries.every(([, t]) => t.dims[0] === n && (t.dims.length === 1 || (t.dims.length === 2 && t.dims[1] === 1)));
  if (!columnar) return null;
  const flat = entries.map(([, t]) => (toNested(t) as unknown[]).map((v) => (Array.isArray(v) ? v[0] : v)));
  return { columns: entries.map(([k]) => k), rows: Array.from({ length: n }, (_, r) => flat.map((col) => col[r])) };
}

const sha256 = (v: unknown) => createHash('sha256').update(typeof v === 'string' ? v : JSON.stringify(v)).digest('hex');
const hashDeep = (v: unknown): unknown => (Array.isArray(v) ? v.map(hashDeep) : sha256(v));

/** Removes `drop` fields and hashes `hash` fields: feature columns, input names and output names alike. */
export function redact(rec: CaptureRecord, policy: Capture): CaptureRecord {
  const drop = new Set(policy.drop ?? []);
  const hash = new Set(policy.hash ?? []);
  if (!drop.size && !hash.size) return rec;
  const byName = (m: Record<string, unknown> | null) => {
    if (!m) return m;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(m)) if (!drop.has(k)) out[k] = hash.has(k) ? hashDeep(v) : v;
    return out;
  };
  let features = rec.features;
  if (features) {
    const keep = features.columns.map((c, i) => (drop.has(c) ? -1 : i)).filter((i) => i >= 0);
    const hashed = features.columns.map((c) => hash.has(c));
    features = {
      columns: keep.map((i) => features!.columns[i]),
      rows: features.rows.map((row) => keep.map((i) => (hashed[i] ? sha256(row[i]) : row[i]))),
    };
  }
  return { ...rec, features, inputs: byName(rec.inputs), outputs: byName(rec.outputs) };
}

export function toRecord(p: PendingCapture): CaptureRecord {
  const features = toFeatures(p.inputs, p.columns);
  const rec: CaptureRecord = {
    endpointId: p.endpointId,
    deployment: p.deployment,
    model: p.model,
    requestId: p.requestId,
    at: p.at,
    latencyMs: p.latencyMs,
    status: p.status,
    format: p.format,
    features,
    inputs: features ? null : nested(p.inputs),
    outputs: p.outputs && nested(p.outputs),
  };
  return redact(rec, p.policy);
}
