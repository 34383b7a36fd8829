// Params with defaults. The compiler stores a param's default the standard ONNX way: an
// initializer with the same name as the graph input. onnxruntime-node only feeds the inputs it
// lists, and it does not list inputs that have an initializer, so such a param could never be
// set. The runtime therefore takes those initializers out of the model before loading it, keeps
// their values, and feeds the default itself when the caller gives no value.

import { ModelFormatError, Fields, MemorySource, type Field } from "./model-info.js";
import { ELEM_SIZE, elemTypeLabel, allocate, isElemName, sizeOf, viewOf, type ElemName, type Tensor } from "../common/index.js";

const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
// TensorProto
const T_DIMS = 1;
const T_DATA_TYPE = 2;
const T_FLOAT_DATA = 4;
const T_INT32_DATA = 5;
const T_INT64_DATA = 7;
const T_NAME = 8;
const T_RAW_DATA = 9;
const T_DOUBLE_DATA = 10;
const T_UINT64_DATA = 11;
const T_EXTERNAL_DATA = 13;

/**
 * Remove the initializers named in `names` from the model's main graph; returns the rewritten
 * model bytes and the removed initializers' values.
 */
export function detachInitializers(bytes: Uint8Array, names: ReadonlySet<string>): { model: Uint8Array; values: Map<string, Tensor> } {
  const src = new MemorySource(bytes);
  const values = new Map<string, Tensor>();
  const parts: Uint8Array[] = [];
  const top = new Fields(src, 0, bytes.length);
  for (let f = top.next(); f; f = top.next()) {
    if (f.field !== MODEL_GRAPH || f.wire !== 2) {
      parts.push(bytes.subarray(f.fieldStart, f.fieldEnd));
      continue;
    }
    const kept: Uint8Array[] = [];
    const graph = new Fields(src, f.start, f.start + f.length);
    for (let g = graph.next(); g; g = graph.next()) {
      if (g.field === GRAPH_INITIALIZER && g.wire === 2) {
        const name = tensorName(bytes, g);
        if (name !== null && names.has(name)) {
          values.set(name, decodeTensor(bytes, g, name));
          continue;
        }
      }
      kept.push(bytes.subarray(g.fieldStart, g.fieldEnd));
    }
    const length = kept.reduce((n, k) => n + k.length, 0);
    parts.push(new Uint8Array([(MODEL_GRAPH << 3) | 2, ...varint(length)]), ...kept);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return { model: out, values };
}

function tensorName(bytes: Uint8Array, f: Field): string | null {
  const fields = new Fields(new MemorySource(bytes), f.start, f.start + f.length);
  for (let t = fields.next(); t; t = fields.next()) {
    if (t.field === T_NAME && t.wire === 2) return new TextDecoder().decode(bytes.subarray(t.start, t.start + t.length));
  }
  return null;
}

/** Decode a TensorProto held in memory (raw_data or the typed repeated fields). */
function decodeTensor(bytes: Uint8Array, f: Field, name: string): Tensor {
  const src = new MemorySource(bytes);
  const fields = new Fields(src, f.start, f.start + f.length);
  const dims: number[] = [];
  let dataType = 0;
  let raw: Uint8Array | null = null;
  const numbers: number[] = [];
  const bigints: bigint[] = [];
  for (let t = fields.next(); t; t = fields.next()) {
    switch (t.field) {
      case T_DIMS:
        for (const v of varints(src, t)) dims.push(Number(v));
        break;
      case T_DATA_TYPE:
        dataType = Number(t.value);
        break;
      case T_RAW_DATA:
        raw = new Uint8Array(t.length); // a copy: aligned, and not a view into a pooled Buffer
        raw.set(bytes.subarray(t.start, t.start + t.length));
        break;
      case T_FLOAT_DATA:
        numbers.push(...fixed(bytes, t, 4));
        break;
      case T_DOUBLE_DATA:
        numbers.push(...fixed(bytes, t, 8));
        break;
      case T_INT32_DATA:
        for (const v of varints(src, t)) numbers.push(Number(BigInt.asIntN(32, v)));
        break;
      case T_INT64_DATA:
        for (const v of varints(src, t)) bigints.push(BigInt.asIntN(64, v));
        break;
      case T_UINT64_DATA:
        for (const v of varints(src, t)) bigints.push(v);
        break;
      case T_EXTERNAL_DATA:
        throw new ModelFormatError(`the default of param \`${name}\` is stored as external data, which the runtime cannot read`);
    }
  }
  const typeName = elemTypeLabel(dataType);
  if (!isElemName(typeName)) throw new ModelFormatError(`the default of param \`${name}\` has element type ${typeName}, which the runtime does not support`);
  const type: ElemName = typeName;
  const n = sizeOf(dims);
  if (raw) {
    if (raw.length !== n * ELEM_SIZE[type]) throw new ModelFormatError(`the default of param \`${name}\` has ${raw.length} bytes of data for ${n} elements`);
    return { type, dims, data: viewOf(type, raw.buffer as ArrayBuffer, 0, n) } as Tensor;
  }
  const data = allocate(type, n);
  const source: (number | bigint)[] = type === "int64" || type === "uint64" || (type === "uint32" && bigints.length) ? bigints : numbers;
  if (source.length !== n) throw new ModelFormatError(`the default of param \`${name}\` has ${source.length} values for ${n} elements`);
  for (let i = 0; i < n; i++) {
    const v = source[i]!;
    (data as unknown as (number | bigint)[])[i] = type === "int64" || type === "uint64" ? BigInt(v) : Number(v);
  }
  return { type, dims, data } as Tensor;
}

/** A repeated varint field, packed or not. */
function varints(src: MemorySource, f: Field): bigint[] {
  if (f.wire === 0) return [f.value];
  const out: bigint[] = [];
  const packed = new Fields(src, f.start, f.start + f.length);
  while (packed.pos < f.start + f.length) out.push(packed.varint());
  return out;
}

/** A repeated fixed32 float or fixed64 double field, packed or not. */
function fixed(bytes: Uint8Array, f: Field, size: 4 | 8): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset + f.start, f.length);
  const out: number[] = [];
  for (let at = 0; at + size <= f.length; at += size) out.push(size === 4 ? view.getFloat32(at, true) : view.getFloat64(at, true));
  return out;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}
