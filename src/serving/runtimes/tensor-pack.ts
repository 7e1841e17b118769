/**
 * A batch of tensor sets packed into one ArrayBuffer for a worker message.
 *
 * Structured clone costs several microseconds per typed array it meets
 * (measured: a 30-float request cost 3x a plain number to post), so the
 * onnx runtime sends each batch of requests, and each batch of answers, as
 * one buffer that is transferred, not cloned. Unpacking makes views over
 * that buffer: no copy on the receiving side.
 *
 * Layout, little-endian: u32 count, then per item: u32 id, u32 tensors,
 * then per tensor: u16 name bytes, name (UTF-8), u8 type, u8 rank, u32 dims
 * × rank, u32 data bytes, padding to 8, data.
 */
import type { ElementType, Tensor, TensorData, Tensors } from '../predictor.js';

export interface TensorSet {
  id: number;
  tensors: Tensors;
}

const TYPES: ElementType[] = ['float32', 'float64', 'int32', 'int64', 'bool'];
const CODE = new Map(TYPES.map((t, i) => [t, i]));
const VIEW = [Float32Array, Float64Array, Int32Array, BigInt64Array, Uint8Array] as const;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** String tensors cannot be packed; such sets travel by structured clone. */
export function packable(tensors: Tensors): boolean {
  for (const t of Object.values(tensors)) if (!CODE.has(t.type) || Array.isArray(t.data)) return false;
  return true;
}

const align8 = (n: number) => (n + 7) & ~7;

function sizeOf(sets: TensorSet[], names: Map<string, Uint8Array>): number {
  let size = 4;
  for (const s of sets) {
    size += 8;
    for (const [name, t] of Object.entries(s.tensors)) {
      let bytes = names.get(name);
      if (!bytes) names.set(name, (bytes = utf8.encode(name)));
      size = align8(size + 2 + bytes.length + 2 + 4 * t.dims.length + 4) + align8((t.data as Exclude<TensorData, string[]>).byteLength);
    }
  }
  return size;
}

export function pack(sets: TensorSet[]): ArrayBuffer {
  const names = new Map<string, Uint8Array>();
  const buf = new ArrayBuffer(sizeOf(sets, names));
  const dv = new DataView(buf);
  const bytes = new Uint8Array(buf);
  let o = 0;
  dv.setUint32(o, sets.length, true);
  o += 4;
  for (const s of sets) {
    const entries = Object.entries(s.tensors);
    dv.setUint32(o, s.id, true);
    dv.setUint32(o + 4, entries.length, true);
    o += 8;
    for (const [name, t] of entries) {
      const n = names.get(name)!;
      dv.setUint16(o, n.length, true);
      bytes.set(n, o + 2);
      o += 2 + n.length;
      dv.setUint8(o, CODE.get(t.type)!);
      dv.setUint8(o + 1, t.dims.length);
      o += 2;
      for (const d of t.dims) (dv.setUint32(o, d, true), (o += 4));
      const data = t.data as Exclude<TensorData, string[]>;
      dv.setUint32(o, data.byteLength, true);
      o = align8(o + 4);
      bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), o);
      o += align8(data.byteLength);
    }
  }
  return buf;
}

export function unpack(buf: ArrayBuffer): TensorSet[] {
  const dv = new DataView(buf);
  let o = 0;
  const count = dv.getUint32(o, true);
  o += 4;
  const out: TensorSet[] = [];
  for (let i = 0; i < count; i++) {
    const id = dv.getUint32(o, true);
    const n = dv.getUint32(o + 4, true);
    o += 8;
    const tensors: Tensors = {};
    for (let j = 0; j < n; j++) {
      const len = dv.getUint16(o, true);
      const name = fromUtf8.decode(new Uint8Array(buf, o + 2, len));
      o += 2 + len;
      const code = dv.getUint8(o);
      const rank = dv.getUint8(o + 1);
      o += 2;
      const dims: number[] = [];
      for (let k = 0; k < rank; k++) (dims.push(dv.getUint32(o, true)), (o += 4));
      const byteLength = dv.getUint32(o, true);
      o = align8(o + 4);
      const View = VIEW[code];
      const data = new View(buf, o, byteLength / View.BYTES_PER_ELEMENT);
      o += align8(byteLength);
      tensors[name] = { type: TYPES[code], dims, data } as Tensor;
    }
    out.push({ id, tensors });
  }
  return out;
}
