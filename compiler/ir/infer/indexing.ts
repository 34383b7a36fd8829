// Indexing and selection: Gather/GatherElements/GatherND, Scatter*, TopK, ArgMax/ArgMin, NonZero,
// Compress, and the reductions (axes as attribute or, from opset 13/18, as input).

import { DataType } from "../../onnx/index.js";
import type { Dim } from "../types.js";
import { axisIn } from "./dims.js";
import type { NodeCtx, Out, ShapeRule } from "./context.js";

function gather(c: NodeCtx): Out[] {
  const a = c.shape(0);
  const idx = c.shape(1);
  if (!a || !idx) return [{ elemType: c.elem(0), shape: null }];
  const axis = axisIn(c.attrInt("axis", 0), a.length);
  if (axis === null) return [{ elemType: c.elem(0), shape: null }];
  return [{ elemType: c.elem(0), shape: [...a.slice(0, axis), ...idx, ...a.slice(axis + 1)] }];
}

function gatherND(c: NodeCtx): Out[] {
  const a = c.shape(0);
  const idx = c.shape(1);
  const b = c.attrInt("batch_dims", 0);
  const last = idx?.[idx.length - 1];
  if (!a || !idx || typeof last !== "number") return [{ elemType: c.elem(0), shape: null }];
  return [{ elemType: c.elem(0), shape: [...idx.slice(0, -1), ...a.slice(b + last)] }];
}

function topK(c: NodeCtx): Out[] {
  const a = c.shape(0);
  let shape: Dim[] | null = null;
  if (a) {
    const axis = axisIn(c.attrInt("axis", -1), a.length);
    const k = c.hasAttr("k") ? [c.attrInt("k", 0)] : c.content(1);
    if (axis !== null) shape = a.map((d, i) => (i === axis ? (k && k.length === 1 ? k[0]! : null) : d));
  }
  return [{ elemType: c.elem(0), shape }, { elemType: DataType.INT64, shape }];
}

function argReduce(c: NodeCtx): Out[] {
  const a = c.shape(0);
  if (!a) return [{ elemType: DataType.INT64, shape: null }];
  const axis = axisIn(c.attrInt("axis", 0), a.length);
  const keep = c.attrInt("keepdims", 1) === 1;
  if (axis === null) return [{ elemType: DataType.INT64, shape: null }];
  return [{ elemType: DataType.INT64, shape: a.flatMap((d, i) => (i === axis ? (keep ? [1] : []) : [d])) }];
}

function reduce(c: NodeCtx): Out[] {
  const a = c.shape(0);
  const elemType = c.elem(0);
  const keep = c.attrInt("keepdims", 1) === 1;
  if (!a) return [{ elemType, shape: null }];
  const given = c.hasAxes(1);
  const axes = c.axes(1);
  if (!given || axes?.length === 0) {
    if (c.attrInt("noop_with_empty_axes", 0) === 1) return [c.type(0)];
    return [{ elemType, shape: keep ? a.map(() => 1) : [] }];
  }
  if (!axes) {
    const n = c.length(1);
    const rank = keep ? a.length : n === null ? null : a.length - n;
    return [{ elemType, shape: rank === null ? null : new Array<Dim>(rank).fill(null) }];
  }
  const drop = new Set(axes.map((x) => axisIn(x, a.length)));
  if (drop.has(null)) return [{ elemType, shape: null }];
  return [{ elemType, shape: a.flatMap((d, i) => (drop.has(i) ? (keep ? [1] : []) : [d])) }];
}

function compress(c: NodeCtx): Out[] {
  const a = c.shape(0);
  if (!c.hasAttr("axis")) return [{ elemType: c.elem(0), shape: [null] }];
  if (!a) return [{ elemType: c.elem(0), shape: null }];
  const axis = axisIn(c.attrInt("axis", 0), a.length);
  return [{ elemType: c.elem(0), shape: axis === null ? null : a.map((d, i) => (i === axis ? null : d)) }];
}

const REDUCE = ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"];

export const indexingRules: Record<string, ShapeRule> = {
  Gather: gather,
  GatherElements: (c) => [{ elemType: c.elem(0), shape: c.shape(1) }],
  GatherND: gatherND,
  Scatter: (c) => [c.type(0)],
  ScatterElements: (c) => [c.type(0)],
  ScatterND: (c) => [c.type(0)],
  TopK: topK,
  ArgMax: argReduce,
  ArgMin: argReduce,
  NonZero: (c) => [{ elemType: DataType.INT64, shape: [c.rank(0), null] }],
  Compress: compress,
  ...Object.fromEntries(REDUCE.map((op) => [op, reduce])),
};
