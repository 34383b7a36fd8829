// Params with defaults. The compiler stores a param's default the standard ONNX way: an
// initializer with the same name as the graph input. onnxruntime-node only feeds the inputs it
// lists, and it does not list inputs that have an initializer, so such a param could never be
// set. The runtime therefore takes those initializers out of the model before loading it
// (withoutInitializers, in the compiler's ONNX codec), keeps their values, and feeds the default
// itself when the caller gives no value.

import { ELEM_SIZE, allocate, elemTypeLabel, isElemName, sizeOf, viewOf, type ElemName, type Tensor } from "../common/index.js";
import { OnnxFormatError, withoutInitializers, type TensorProto } from "../compiler/index.js";

/**
 * Remove the initializers named in `names` from the model's main graph; returns the rewritten
 * model bytes and the removed initializers' values.
 */
export function detachInitializers(bytes: Uint8Array, names: ReadonlySet<string>): { model: Uint8Array; values: Map<string, Tensor> } {
  const { model, removed } = withoutInitializers(bytes, names);
  const values = new Map<string, Tensor>();
  for (const [name, t] of removed) values.set(name, tensorFromProto(t, name));
  return { model, values };
}

/** A TensorProto held in memory (raw_data or the typed repeated fields) as a runtime tensor. */
function tensorFromProto(t: TensorProto, name: string): Tensor {
  const problem = (what: string) => new OnnxFormatError(`the default of param \`${name}\` ${what}`);
  if (t.data_location === 1 || (t.external_data?.length ?? 0) > 0) throw problem("is stored as external data, which the runtime cannot read");
  const typeName = elemTypeLabel(t.data_type ?? 0);
  if (!isElemName(typeName)) throw problem(`has element type ${typeName}, which the runtime does not support`);
  const type: ElemName = typeName;
  const dims = (t.dims ?? []).map(Number);
  const n = sizeOf(dims);
  if (t.raw_data) {
    if (t.raw_data.length !== n * ELEM_SIZE[type]) throw problem(`has ${t.raw_data.length} bytes of data for ${n} elements`);
    const raw = new Uint8Array(t.raw_data); // a copy: aligned, and not a view into the model's bytes
    return { type, dims, data: viewOf(type, raw.buffer as ArrayBuffer, 0, n) } as Tensor;
  }
  const numbers: number[] = [...(t.float_data ?? []), ...(t.double_data ?? []), ...(t.int32_data ?? [])];
  const bigints: bigint[] = [...(t.int64_data ?? []), ...(t.uint64_data ?? [])];
  const data = allocate(type, n);
  const source: (number | bigint)[] = type === "int64" || type === "uint64" || (type === "uint32" && bigints.length) ? bigints : numbers;
  if (source.length !== n) throw problem(`has ${source.length} values for ${n} elements`);
  for (let i = 0; i < n; i++) {
    const v = source[i]!;
    (data as unknown as (number | bigint)[])[i] = type === "int64" || type === "uint64" ? BigInt(v) : Number(v);
  }
  return { type, dims, data } as Tensor;
}
