/**
 * Open Inference Protocol (KServe V2) bodies: requests from clients,
 * requests to and responses from model servers, responses to clients.
 */
import { Invalid, SlipwayError } from '../shared/errors.js';
import { elementCount, type ModelSignature, type Tensor, type TensorInfo, type Tensors } from './predictor.js';
import { checkShape, elementTypeOfOip, fromFlat, invalidInput, oipDatatype, shapeText, toFlat } from './codec.values.js';

export interface OipTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

export interface OipRequest {
  id?: string;
  inputs: OipTensor[];
  outputs?: Array<{ name: string }>;
}

export interface OipResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  outputs: OipTensor[];
}

/** True for `{inputs: [{name, datatype, ...}]}`, false for MLflow's `inputs` list. */
export function isOipRequest(body: Record<string, unknown>): boolean {
  const inputs = body.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) return false;
  const first = inputs[0] as Record<string, unknown> | null;
  return typeof first === 'object' && first !== null && !Array.isArray(first) && 'datatype' in first && 'name' in first;
}

function oipShape(v: unknown, field: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => Number.isInteger(d) && d >= 0)) {
    throw Invalid.field(field, 'a list of non-negative integers');
  }
  return v as number[];
}

/** One OIP tensor checked against the signature's input of that name. */
function decodeInput(raw: unknown, k: number, byName: Map<string, TensorInfo>): [string, Tensor] {
  const field = `inputs[${k}]`;
  if (typeof raw !== 'object' || raw === null) throw Invalid.field(field, 'an object with name, shape, datatype and data');
  const t = raw as Record<string, unknown>;
  if (typeof t.name !== 'string') throw Invalid.field(`${field}.name`, 'a string naming a model input');
  const info = byName.get(t.name);
  if (!info) throw Invalid.field(`${field}.name`, `one of the model's inputs (${[...byName.keys()].join(', ')}), got '${t.name}'`);
  const dims = oipShape(t.shape, `input '${info.name}' shape`);
  if (elementTypeOfOip[String(t.datatype)] !== info.type) {
    throw invalidInput(info.name, `expected datatype ${oipDatatype[info.type]}, got ${JSON.stringify(t.datatype)}`);
  }
  checkShape(info, dims);
  if (!Array.isArray(t.data)) throw invalidInput(info.name, `expected data as a list of ${elementCount(dims)} values`);
  const data = fromFlat(t.data, info);
  if (data.length !== elementCount(dims)) {
    throw invalidInput(info.name, `shape ${shapeText(dims)} needs ${elementCount(dims)} values, got ${data.length}`);
  }
  return [info.name, { type: info.type, dims, data }];
}

export function decodeOipRequest(body: Record<string, unknown>, signature: ModelSignature): { inputs: Tensors; outputs?: string[]; id?: string } {
  const byName = new Map(signature.inputs.map((i) => [i.name, i]));
  const inputs: Tensors = {};
  (body.inputs as unknown[]).forEach((raw, k) => {
    const [name, tensor] = decodeInput(raw, k, byName);
    if (name in inputs) throw Invalid.field(`inputs[${k}].name`, `each input once; '${name}' is repeated`);
    inputs[name] = tensor;
  });
  for (const i of signature.inputs) if (!(i.name in inputs)) throw invalidInput(i.name, `missing; the model needs ${signature.inputs.map((x) => x.name).join(', ')}`);
  const requested = Array.isArray(body.outputs) ? body.outputs.map((o) => String((o as { name?: unknown })?.name)) : undefined;
  const known = new Set(signature.outputs.map((o) => o.name));
  const unknown = requested?.find((n) => !known.has(n));
  if (unknown !== undefined) throw Invalid.field('outputs', `names among the model's outputs (${[...known].join(', ')}), got '${unknown}'`);
  return { inputs, outputs: requested, id: typeof body.id === 'string' ? body.id : undefined };
}

function encodeTensor(name: string, t: Tensor): OipTensor {
  return { name, shape: t.dims, datatype: oipDatatype[t.type], data: toFlat(t) };
}

export function encodeOipResponse(modelName: string, outputs: Tensors, opts: { id?: string; modelVersion?: string; only?: string[] } = {}): OipResponse {
  const names = opts.only ?? Object.keys(outputs);
  return {
    model_name: modelName,
    ...(opts.modelVersion !== undefined ? { model_version: opts.modelVersion } : {}),
    ...(opts.id !== undefined ? { id: opts.id } : {}),
    outputs: names.map((n) => encodeTensor(n, outputs[n])),
  };
}

/** What Slipway sends to a model server (process and http runtimes). */
export function encodeOipRequest(inputs: Tensors): OipRequest {
  return { inputs: Object.entries(inputs).map(([n, t]) => encodeTensor(n, t)) };
}

/** A model server's reply; a malformed one is the server's fault, not the client's (502-ish: unavailable). */
export function decodeOipResponse(body: unknown, server: string): Tensors {
  const bad = (why: string) => new SlipwayError('unavailable', `model server ${server} sent an unusable response: ${why}`);
  const outs = (body as { outputs?: unknown } | null)?.outputs;
  if (!Array.isArray(outs)) throw bad('no outputs list');
  const result: Tensors = {};
  for (const o of outs as Array<Record<string, unknown>>) {
    const type = elementTypeOfOip[String(o?.datatype)];
    if (!type || typeof o.name !== 'string' || !Array.isArray(o.shape) || !Array.isArray(o.data)) throw bad('an output needs name, shape, datatype and data');
    const info: TensorInfo = { name: o.name, type, shape: o.shape as number[] };
    let data;
    try {
      data = fromFlat(o.data, info);
    } catch (e) {
      throw bad((e as Error).message);
    }
    if (data.length !== elementCount(info.shape)) throw bad(`output '${o.name}' has ${data.length} values for shape ${shapeText(info.shape)}`);
    result[o.name] = { type, dims: info.shape, data };
  }
  return result;
}
