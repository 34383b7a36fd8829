// Operators that make a tensor from attributes or from another tensor's shape: Constant, Shape,
// Size, ConstantOfShape, Range, EyeLike, the Random* family.

import { DataType } from "../../onnx/index.js";
import type { Dim } from "../types.js";
import { axisIn } from "./dims.js";
import type { NodeCtx, Out, ShapeRule } from "./context.js";

function constant(c: NodeCtx): Out[] {
  const t = c.attrTensor("value");
  if (t) return [{ elemType: t.data_type ?? 0, shape: (t.dims ?? []).map(Number) }];
  const sparse = c.node.attribute("sparse_value")?.sparse_tensor;
  if (sparse) return [{ elemType: sparse.values?.data_type ?? 0, shape: (sparse.dims ?? []).map(Number) }];
  const a = c.node.proto.attribute?.[0];
  switch (a?.name) {
    case "value_int":
      return [{ elemType: DataType.INT64, shape: [] }];
    case "value_ints":
      return [{ elemType: DataType.INT64, shape: [a.ints?.length ?? 0] }];
    case "value_float":
      return [{ elemType: DataType.FLOAT, shape: [] }];
    case "value_floats":
      return [{ elemType: DataType.FLOAT, shape: [a.floats?.length ?? 0] }];
    case "value_string":
      return [{ elemType: DataType.STRING, shape: [] }];
    case "value_strings":
      return [{ elemType: DataType.STRING, shape: [a.strings?.length ?? 0] }];
    default:
      return [null];
  }
}

/** Shape (with opset 15's start and end): a 1-D int64 of the selected rank. */
function shape(c: NodeCtx): Out[] {
  const r = c.rank(0);
  if (r === null) return [{ elemType: DataType.INT64, shape: [null] }];
  const [s, e] = shapeRange(c, r);
  return [{ elemType: DataType.INT64, shape: [e - s] }];
}

/** The [start, end) that Shape selects of a rank-r input (clamped as ONNX does). */
export function shapeRange(c: NodeCtx, r: number): [number, number] {
  const clamp = (x: number) => Math.max(0, Math.min(r, x < 0 ? x + r : x));
  const s = clamp(c.attrInt("start", 0));
  const e = clamp(c.attrInt("end", r));
  return [s, Math.max(s, e)];
}

function constantOfShape(c: NodeCtx): Out[] {
  const elemType = c.attrTensor("value")?.data_type ?? DataType.FLOAT;
  const dims = c.content(0);
  if (dims) return [{ elemType, shape: dims }];
  const n = c.length(0);
  return [{ elemType, shape: n === null ? null : new Array<Dim>(n).fill(null) }];
}

function range(c: NodeCtx): Out[] {
  const [start, limit, delta] = [c.content(0), c.content(1), c.content(2)];
  let n: Dim = null;
  if (start?.length === 1 && limit?.length === 1 && delta?.length === 1) {
    const [s, l, d] = [start[0]!, limit[0]!, delta[0]!];
    if (typeof s === "number" && typeof l === "number" && typeof d === "number" && d !== 0) n = Math.max(Math.ceil((l - s) / d), 0);
    else if (s === 0 && d === 1) n = l; // range(0, seq)
  }
  return [{ elemType: c.elem(0) || c.elem(1) || c.elem(2), shape: [n] }];
}

/** `dtype` if given, else the input's element type (EyeLike, Random*Like, Bernoulli). */
const like: ShapeRule = (c) => [{ elemType: c.attrInt("dtype", c.elem(0)), shape: c.shape(0) }];

const random: ShapeRule = (c) => [{ elemType: c.attrInt("dtype", DataType.FLOAT), shape: c.attrInts("shape") }];

function oneHot(c: NodeCtx): Out[] {
  const idx = c.shape(0);
  const elemType = c.elem(2);
  if (!idx) return [{ elemType, shape: null }];
  const depth = c.numbers(1);
  const axis = axisIn(c.attrInt("axis", -1), idx.length + 1);
  if (axis === null) return [{ elemType, shape: null }];
  // A depth of another type is cast to int64.
  const d: Dim = depth && depth.length === 1 ? Math.trunc(depth[0]!) : null;
  return [{ elemType, shape: [...idx.slice(0, axis), d, ...idx.slice(axis)] }];
}

export const generateRules: Record<string, ShapeRule> = {
  Constant: constant,
  Shape: shape,
  Size: () => [{ elemType: DataType.INT64, shape: [] }],
  ConstantOfShape: constantOfShape,
  Range: range,
  OneHot: oneHot,
  EyeLike: like,
  RandomNormalLike: like,
  RandomUniformLike: like,
  Bernoulli: like,
  RandomNormal: random,
  RandomUniform: random,
};
