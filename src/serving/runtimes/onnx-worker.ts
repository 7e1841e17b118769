/**
 * One onnxruntime session in a worker thread. `session.run()` does its work
 * on the calling thread, so running it here keeps the gateway's event loop
 * free however busy the model is. Messages: see onnx-protocol.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { sessionTensorSpecs } from '../../registry/onnx.js';
import { threadUsage } from './usage.js';
import { elementTypeFromOnnx, normalizeShape, zeros, type ModelSignature, type Tensor, type TensorInfo, type Tensors } from '../predictor.js';
import { fromBatch, Outbox, toBatch, type FromWorker, type RunAnswer, type RunRequest, type ToWorker, type WorkerInit } from './onnx-protocol.js';

const port = parentPort!;
const init = workerData as WorkerInit;

function signatureOf(session: InferenceSession): ModelSignature {
  const specs = sessionTensorSpecs(session);
  const info = (s: { name: string; type: string | null; shape: Array<number | string> }, kind: string): TensorInfo => {
    const type = elementTypeFromOnnx(s.type);
    if (!type) throw new Error(`${kind} '${s.name}' has type ${s.type ?? 'non-tensor'}, which Slipway cannot serve`);
    return { name: s.name, type, shape: normalizeShape(s.shape) };
  };
  return { inputs: specs.inputs.map((s) => info(s, 'input')), outputs: specs.outputs.map((s) => info(s, 'output')) };
}

function toOrt(inputs: Tensors): Record<string, OrtTensor> {
  const feeds: Record<string, OrtTensor> = {};
  for (const [name, t] of Object.entries(inputs)) feeds[name] = new OrtTensor(t.type, t.data as never, t.dims);
  return feeds;
}

function fromOrt(results: InferenceSession.ReturnType): Tensors {
  const out: Tensors = {};
  for (const [name, t] of Object.entries(results)) {
    const type = elementTypeFromOnnx(t.type) ?? 'float32';
    out[name] = { type, dims: [...t.dims], data: t.data as Tensor['data'] };
  }
  return out;
}

/**
 * Closing is a message, never `worker.terminate()`: terminating while the
 * native side is completing a create or run throws inside N-API and aborts
 * the whole process. A close that arrives while loading or running waits
 * for that call to finish, releases the session and lets the thread end.
 */
let closeRequested = false;
const pending = new Set<Promise<void>>();
let session: InferenceSession | null = null;

async function shutdown(): Promise<void> {
  while (pending.size > 0) await Promise.allSettled([...pending]);
  replies.flush();
  await session?.release().catch(() => undefined);
  session = null;
  port.close();
}

port.on('message', (msg: ToWorker) => {
  if (msg.kind === 'close') {
    if (!closeRequested) {
      closeRequested = true;
      void shutdown();
    }
    return;
  }
  if (closeRequested || !session) return;
  for (const item of fromBatch(msg)) track(answer(session, item));
});

function track(p: Promise<void>): void {
  pending.add(p);
  void p.finally(() => pending.delete(p));
}

const replies = new Outbox<RunAnswer>((items) => {
  const batch = toBatch(items);
  port.postMessage({ kind: 'results', ...batch } satisfies FromWorker, batch.packed ? [batch.packed] : []);
});

async function answer(s: InferenceSession, { id, tensors }: RunRequest): Promise<void> {
  if (closeRequested) return;
  try {
    replies.push({ id, tensors: fromOrt(await s.run(toOrt(tensors))) });
  } catch (e) {
    replies.push({ id, error: (e as Error).message ?? String(e) });
  }
}

async function load(): Promise<void> {
  const started = performance.now();
  let signature: ModelSignature;
  try {
    const created =
      typeof init.model === 'string'
        ? await InferenceSession.create(init.model, init.sessionOptions)
        : await InferenceSession.create(init.model, init.sessionOptions);
    session = created;
    signature = signatureOf(created);
    // Warm-up: the first run allocates and plans; pay for it before Ready.
    const warm: Tensors = {};
    for (const i of signature.inputs) warm[i.name] = zeros(i);
    await created.run(toOrt(warm));
  } catch (e) {
    port.postMessage({ kind: 'failed', message: (e as Error).message ?? String(e) } satisfies FromWorker);
    return;
  }
  if (!closeRequested) port.postMessage({ kind: 'ready', signature, loadMs: performance.now() - started } satisfies FromWorker);
  reportUsage();
  // unref'd: the timer never keeps a closing thread alive.
  setInterval(reportUsage, USAGE_REPORT_MS).unref();
}

/** This thread's CPU time and heap, for the deployment's Prometheus series; only the thread itself can read them. */
const USAGE_REPORT_MS = 1_000;
function reportUsage(): void {
  const u = threadUsage();
  if (u && !closeRequested) port.postMessage({ kind: 'usage', ...u } satisfies FromWorker);
}

track(load());
