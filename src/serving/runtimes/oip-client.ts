/**
 * A small Open Inference Protocol (KServe V2 REST) client over fetch
 * (undici: keep-alive connections are pooled per origin). Used by the
 * process and http runtimes.
 */
import { SlipwayError, Unavailable } from '../../shared/errors.js';
import { decodeOipResponse, encodeOipRequest } from '../codec.oip.js';
import { elementTypeOfOip } from '../codec.values.js';
import { normalizeShape, type ModelSignature, type TensorInfo, type Tensors } from '../predictor.js';

/** A network failure or 5xx is the server's state (503, try later); a 4xx is about the input. */
export async function httpFailure(res: Response, server: string): Promise<SlipwayError> {
  const text = (await res.text().catch(() => '')).slice(0, 300);
  let message = text;
  try {
    const j = JSON.parse(text) as { error?: unknown; message?: unknown };
    message = String(j.error ?? j.message ?? text);
  } catch {
    /* plain text */
  }
  if (res.status >= 400 && res.status < 500) return new SlipwayError('invalid', `model server refused the input: ${message}`);
  return new Unavailable(`model server ${server} answered ${res.status}: ${message}`, 1);
}

/** The server could not be reached at all, as opposed to answering with an error. */
export class Unreachable extends Unavailable {}

/** fetch that turns a refused or reset connection into Unreachable and keeps abort reasons. */
export async function call(url: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal });
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    throw new Unreachable(`model server ${new URL(url).origin} is unreachable (${(e as Error).cause ? String((e as { cause: Error }).cause.message) : (e as Error).message})`, 1);
  }
}

export async function isReady(url: string, signal: AbortSignal): Promise<boolean> {
  try {
    const res = await fetch(url, { signal });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

export class OipClient {
  constructor(
    readonly base: string,
    readonly model: string,
  ) {}

  ready(signal: AbortSignal): Promise<boolean> {
    return isReady(`${this.base}/v2/health/ready`, signal);
  }

  /** The model's metadata as a signature (`GET /v2/models/{name}`). */
  async signature(signal: AbortSignal): Promise<ModelSignature> {
    const url = `${this.base}/v2/models/${encodeURIComponent(this.model)}`;
    const res = await call(url, {}, signal);
    if (!res.ok) throw await httpFailure(res, this.base);
    const meta = (await res.json()) as { inputs?: unknown; outputs?: unknown };
    const infos = (list: unknown, kind: string): TensorInfo[] => {
      if (!Array.isArray(list)) throw new Unavailable(`model server ${this.base} sent no ${kind} in its metadata`, 1);
      return list.map((m: { name?: unknown; datatype?: unknown; shape?: unknown }) => {
        const type = elementTypeOfOip[String(m.datatype)];
        if (typeof m.name !== 'string' || !type || !Array.isArray(m.shape)) {
          throw new Unavailable(`model server ${this.base} sent unusable ${kind} metadata`, 1);
        }
        return { name: m.name, type, shape: normalizeShape(m.shape) };
      });
    };
    return { inputs: infos(meta.inputs, 'inputs'), outputs: infos(meta.outputs, 'outputs') };
  }

  async infer(inputs: Tensors, signal: AbortSignal): Promise<Tensors> {
    const url = `${this.base}/v2/models/${encodeURIComponent(this.model)}/infer`;
    const res = await call(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(encodeOipRequest(inputs)) }, signal);
    if (!res.ok) throw await httpFailure(res, this.base);
    let body: unknown;
    try {
      body = await res.json();
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      throw new Unavailable(`model server ${this.base} sent a response that is not JSON`, 1);
    }
    return decodeOipResponse(body, this.base);
  }
}
