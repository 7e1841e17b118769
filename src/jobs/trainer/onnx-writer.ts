/**
 * A small ONNX writer: the handful of protobuf messages a tabular model needs
 * (onnx.proto3: ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto, TypeProto, TensorShapeProto), encoded byte by
 * byte so that exporting a model needs neither Python nor a protobuf
 * library. Field numbers are onnx.proto's.
 */

// --- protobuf wire encoding -------------------------------------------------

function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n; // two's complement, as protobuf does for negative int64
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}

/** One encoded field (or several, concatenated). */
export type Field = number[];
const key = (field: number, wire: number) => varint((field << 3) | wire);
export const int = (field: number, n: number | bigint): Field => [...key(field, 0), ...varint(n)];
export const bytes = (field: number, b: Uint8Array | number[]): Field => [...key(field, 2), ...varint(b.length), ...b];
export const str = (field: number, s: string): Field => bytes(field, [...Buffer.from(s, 'utf8')]);
export const msg = (field: number, ...parts: Field[]): Field => bytes(field, parts.flat());

function float32Bytes(values: readonly number[]): number[] {
  const raw = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => raw.writeFloatLE(v, i * 4));
  return [...raw];
}

function int64Bytes(values: readonly (number | bigint)[]): number[] {
  const raw = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => raw.writeBigInt64LE(BigInt(v), i * 8));
  return [...raw];
}

// --- ONNX messages ----------------------------------------------------------

/** onnx.TensorProto.DataType */
export const ElemType = { FLOAT: 1, STRING: 8, INT64: 7, DOUBLE: 11 } as const;

/** A dimension: a fixed size, or a symbolic name such as 'N'. */
export type Dim = number | string;

function tensorType(elemType: number, shape: Dim[]): Field {
  const dims = shape.map((d) => msg(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  return msg(2, msg(1, int(1, elemType), msg(2, ...dims)));
}

/** A graph input (field 11) or output (field 12). */
export function valueInfo(field: 11 | 12, name: string, elemType: number, shape: Dim[]): Field {
  return msg(field, str(1, name), tensorType(elemType, shape));
}

/** A float32 initializer (graph field 5), stored as raw little-endian bytes. */
export function floatInitializer(name: string, dims: number[], values: readonly number[]): Field {
  return msg(5, ...dims.map((d) => int(1, d)), int(2, ElemType.FLOAT), str(8, name), bytes(9, float32Bytes(values)));
}

/** An int64 initializer (graph field 5). */
export function int64Initializer(name: string, dims: number[], values: readonly (number | bigint)[]): Field {
  return msg(5, ...dims.map((d) => int(1, d)), int(2, ElemType.INT64), str(8, name), bytes(9, int64Bytes(values)));
}

/** A string initializer (graph field 5): strings go in string_data, never raw_data. */
export function stringInitializer(name: string, dims: number[], values: readonly string[]): Field {
  return msg(5, ...dims.map((d) => int(1, d)), int(2, ElemType.STRING), ...values.map((v) => str(6, v)), str(8, name));
}

/** onnx.AttributeProto.AttributeType */
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

/** Node attributes (AttributeProto: name 1, f 2, i 3, s 4, floats 7, ints 8, strings 9, type 20). */
export const attr = {
  int: (name: string, value: number): Field => msg(5, str(1, name), int(3, value), int(20, AttrType.INT)),
  float: (name: string, value: number): Field => msg(5, str(1, name), [...key(2, 5), ...float32Bytes([value])], int(20, AttrType.FLOAT)),
  string: (name: string, value: string): Field => msg(5, str(1, name), str(4, value), int(20, AttrType.STRING)),
  /** Repeated numbers are written packed, which every protobuf parser reads. */
  floats: (name: string, values: readonly number[]): Field => msg(5, str(1, name), bytes(7, float32Bytes(values)), int(20, AttrType.FLOATS)),
  ints: (name: string, values: readonly number[]): Field => msg(5, str(1, name), bytes(8, values.flatMap((v) => varint(v))), int(20, AttrType.INTS)),
  strings: (name: string, values: readonly string[]): Field => msg(5, str(1, name), ...values.map((v) => str(9, v)), int(20, AttrType.STRINGS)),
};

/** A node (graph field 1); `domain` is '' for the default operator set or 'ai.onnx.ml'. */
export function node(opType: string, inputs: string[], outputs: string[], name: string, attributes: Field[] = [], domain = ''): Field {
  return msg(
    1,
    ...inputs.map((i) => str(1, i)),
    ...outputs.map((o) => str(2, o)),
    str(3, name),
    str(4, opType),
    ...attributes,
    domain ? str(7, domain) : [],
  );
}

export interface ModelParts {
  graphName: string;
  /** Nodes, initializers, inputs and outputs, in any order (protobuf fields are tagged). */
  graph: Field[];
  producer?: { name: string; version: string };
  /** Operator sets: '' (default, opset 13 unless given) and e.g. { 'ai.onnx.ml': 3 }. */
  opsets?: Record<string, number>;
}

/** A ModelProto: IR version 8, the opsets asked for, one graph. */
export function model(parts: ModelParts): Buffer {
  const producer = parts.producer ?? { name: 'slipway', version: '1' };
  const opsets = { '': 13, ...parts.opsets };
  return Buffer.from([
    ...int(1, 8),
    ...str(2, producer.name),
    ...str(3, producer.version),
    ...msg(7, ...parts.graph, str(2, parts.graphName)),
    ...Object.entries(opsets).flatMap(([domain, version]) => msg(8, str(1, domain), int(2, version))),
  ]);
}
