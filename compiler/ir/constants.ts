// Reading small constant tensors (shapes, axes, indices) out of initializers and Constant nodes.

import { DataType } from "../../common/index.js";
import type { TensorProto } from "../onnx/index.js";
import type { Value } from "./graph.js";

const { INT64, INT32, FLOAT, DOUBLE } = DataType;

/** The tensor behind a constant value (an initializer or a Constant node's `value`), if any. */
export function constantTensor(v: Value): TensorProto | null {
  const r = v.resolve();
  if (r.initializer && r.kind === "initializer") return r.initializer;
  const p = r.producer;
  if (p && p.opType === "Constant") return p.attribute("value")?.t ?? null;
  return null;
}

/** Integer contents of a small int32/int64 constant, or null when it is not one. */
export function constantInts(v: Value): number[] | null {
  const r = v.resolve();
  const p = r.producer;
  if (p && p.opType === "Constant") {
    const ints = p.attribute("value_ints")?.ints;
    if (ints) return ints.map(Number);
    const i = p.attribute("value_int")?.i;
    if (i !== undefined) return [Number(i)];
  }
  const t = constantTensor(v);
  if (!t || t.data_location === 1) return null;
  if (t.data_type === INT64) {
    if (t.int64_data && t.int64_data.length > 0) return t.int64_data.map(Number);
    const raw = t.raw_data;
    if (!raw) return [];
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = [];
    for (let i = 0; i + 8 <= raw.byteLength; i += 8) out.push(Number(view.getBigInt64(i, true)));
    return out;
  }
  if (t.data_type === INT32) {
    if (t.int32_data && t.int32_data.length > 0) return [...t.int32_data];
    const raw = t.raw_data;
    if (!raw) return [];
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = [];
    for (let i = 0; i + 4 <= raw.byteLength; i += 4) out.push(view.getInt32(i, true));
    return out;
  }
  return null;
}

/** A scalar float constant's value (for reading things like a LayerNorm epsilon), or null. */
export function constantFloat(v: Value): number | null {
  const t = constantTensor(v);
  if (!t || t.data_location === 1) return null;
  if (t.data_type === FLOAT) {
    if (t.float_data && t.float_data.length === 1) return t.float_data[0]!;
    if (t.raw_data && t.raw_data.byteLength === 4) return new DataView(t.raw_data.buffer, t.raw_data.byteOffset, 4).getFloat32(0, true);
  }
  if (t.data_type === DOUBLE && t.raw_data && t.raw_data.byteLength === 8) {
    return new DataView(t.raw_data.buffer, t.raw_data.byteOffset, 8).getFloat64(0, true);
  }
  return null;
}
