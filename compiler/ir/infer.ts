// Element types (and shapes where they can be known) for values the model does not describe.
// PyTorch's TorchScript exporter writes few value_info entries for intermediates, so types are
// propagated through the graph in execution order. Unknown operators leave their outputs untyped;
// nothing is guessed.

import type { Graph, Node, Value } from "./graph.js";
import { constantInts, constantTensor } from "./constants.js";
import { toposort } from "./toposort.js";
import type { Dim, ValueType } from "./types.js";

const BOOL = 9;
const INT64 = 7;
const FLOAT = 1;

/** Type one node's outputs that have no type yet (used for nodes the compiler inserts). */
export function inferNodeTypes(node: Node): void {
  const inferred = inferNode(node);
  recordContent(node);
  node.outputs.forEach((v, i) => {
    if (!v) return;
    const t = inferred[i];
    if (!t) return;
    if (!v.type || v.type.elemType === 0) v.type = t;
    else if (!v.type.shape && t.shape && t.elemType === v.type.elemType) v.type = { ...v.type, shape: t.shape };
  });
}

export function inferTypes(graph: Graph): void {
  for (const node of toposort(graph).order) {
    for (const sub of node.subgraphs.values()) inferTypes(sub);
    if (node.outputs.every((v) => !v || (v.type && v.type.elemType !== 0 && v.type.shape))) continue;
    inferNodeTypes(node);
  }
}

type T = ValueType | null;

// Contents of small 1-D int64 values that hold shapes (Shape → Gather → Unsqueeze → Concat, the
// plumbing exporters write before every Reshape), as dimensions: numbers, symbolic names
// (`batch`), or null. This gives Reshape and Expand outputs their rank and, often, their dims.
const contents = new WeakMap<Value, Dim[]>();

function contentOf(v: Value | null | undefined): Dim[] | null {
  if (!v) return null;
  const r = v.resolve();
  const known = contents.get(r);
  if (known) return known;
  const ints = constantInts(r);
  return ints && (r.type?.shape?.length ?? 1) <= 1 ? ints : null;
}

function computeContent(node: Node): Dim[] | null {
  const a = node.inputs[0];
  switch (node.opType) {
    case "Shape": {
      const shape = typeOf(a)?.shape;
      if (!shape) return null;
      const r = shape.length;
      const s = Math.max(0, Math.min(r, normAxis(intAttr(node, "start", 0), r)));
      const e = Math.max(0, Math.min(r, normAxis(intAttr(node, "end", r), r)));
      return shape.slice(s, e);
    }
    case "Gather": {
      const data = contentOf(a);
      const idx = node.inputs[1] ? constantInts(node.inputs[1]) : null;
      if (!data || !idx) return null;
      const picked = idx.map((i) => data[i < 0 ? i + data.length : i]);
      return picked.some((d) => d === undefined) ? null : (picked as Dim[]);
    }
    case "Unsqueeze":
    case "Squeeze":
    case "Identity":
      return contentOf(a);
    case "Cast":
      return intAttr(node, "to", 0) === 7 ? contentOf(a) : null;
    case "Concat": {
      const parts = node.inputs.map(contentOf);
      return parts.every((p) => p !== null) ? parts.flat() as Dim[] : null;
    }
    case "Slice": {
      const data = contentOf(a);
      const st = node.inputs[1] ? constantInts(node.inputs[1]) : null;
      const en = node.inputs[2] ? constantInts(node.inputs[2]) : null;
      if (!data || !st || !en || st.length !== 1) return null;
      const n = data.length;
      const s0 = Math.max(0, Math.min(n, st[0]! < 0 ? st[0]! + n : st[0]!));
      const e0 = Math.max(0, Math.min(n, en[0]! < 0 ? en[0]! + n : en[0]!));
      return data.slice(s0, e0);
    }
    default:
      return null;
  }
}

function recordContent(node: Node): void {
  const out = node.outputs[0];
  if (!out) return;
  const t = out.type;
  if (t && t.elemType !== 0 && t.elemType !== INT64) return;
  const c = computeContent(node);
  if (c) contents.set(out, c);
}

/** A shape value's length when it is static ([k]): the rank of what it shapes. */
function shapeLength(v: Value | null | undefined): number | null {
  const s = typeOf(v)?.shape;
  return s && s.length === 1 && typeof s[0] === "number" ? s[0] : null;
}

function typeOf(v: Value | null | undefined): T {
  return v ? v.resolve().type : null;
}

function intAttr(node: Node, name: string, dflt: number): number {
  const a = node.attribute(name);
  return a?.i !== undefined ? Number(a.i) : dflt;
}

function intsAttr(node: Node, name: string): number[] | null {
  const a = node.attribute(name);
  return a?.ints ? a.ints.map(Number) : null;
}

/** numpy-style broadcast of shapes; null when a rank is unknown. */
export function broadcastShapes(shapes: (Dim[] | null)[]): Dim[] | null {
  if (shapes.some((s) => s === null)) return null;
  const rank = Math.max(0, ...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of shapes) {
      const d = s![s!.length - rank + i];
      if (d === undefined || d === 1) continue;
      if (dim === 1) dim = d;
      else if (d !== dim) dim = typeof d === "number" && typeof dim === "number" ? d : dim === null ? d : dim;
    }
    out.push(dim);
  }
  return out;
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function same(t: T): T[] {
  return [t];
}

function withElem(t: T, elemType: number): T {
  return { elemType, shape: t?.shape ?? null };
}

const ELEMENTWISE = new Set([
  "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "PRelu", "Mod", "BitShift",
  "BitwiseAnd", "BitwiseOr", "BitwiseXor",
]);
const COMPARISON = new Set(["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor"]);
const UNARY = new Set([
  "Relu", "Gelu", "Tanh", "Sigmoid", "Exp", "Log", "Sqrt", "Abs", "Neg", "Erf", "Softmax", "LogSoftmax",
  "Identity", "Dropout", "Clip", "LeakyRelu", "Elu", "Selu", "HardSigmoid", "HardSwish", "Softplus", "Softsign",
  "Reciprocal", "Floor", "Ceil", "Round", "Sin", "Cos", "Sign", "Mish", "Celu", "LayerNormalization",
  "BatchNormalization", "InstanceNormalization", "GroupNormalization", "LRN", "CumSum", "Trilu",
  "SkipLayerNormalization", "FastGelu", "BiasGelu", "QuickGelu",
]);
const REDUCE = new Set(["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2", "ReduceL1", "ReduceSumSquare", "ReduceLogSumExp"]);

function inferNode(node: Node): T[] {
  const op = node.domain === "" || node.domain === "ai.onnx" ? node.opType : `${node.domain}:${node.opType}`;
  const a = typeOf(node.inputs[0]);
  const b = typeOf(node.inputs[1]);
  if (ELEMENTWISE.has(op)) {
    const ts = node.inputs.map(typeOf);
    return [{ elemType: a?.elemType ?? 0, shape: broadcastShapes(ts.map((t) => t?.shape ?? null)) }];
  }
  if (COMPARISON.has(op)) return [{ elemType: BOOL, shape: broadcastShapes([a?.shape ?? null, b?.shape ?? null]) }];
  if (op === "Not" || op === "IsNaN" || op === "IsInf") return [withElem(a, BOOL)];
  if (UNARY.has(op)) return op === "Dropout" ? [a, withElem(a, BOOL)] : same(a);
  switch (op) {
    case "Constant": {
      const t = constantTensor(node.outputs[0]!);
      if (t) return [{ elemType: t.data_type ?? 0, shape: (t.dims ?? []).map(Number) }];
      if (node.attribute("value_ints")) return [{ elemType: INT64, shape: [node.attribute("value_ints")!.ints!.length] }];
      if (node.attribute("value_int")) return [{ elemType: INT64, shape: [] }];
      if (node.attribute("value_floats")) return [{ elemType: FLOAT, shape: [node.attribute("value_floats")!.floats!.length] }];
      if (node.attribute("value_float")) return [{ elemType: FLOAT, shape: [] }];
      return [null];
    }
    case "Cast":
      return [withElem(a, intAttr(node, "to", 0))];
    case "CastLike":
      return [{ elemType: b?.elemType ?? 0, shape: a?.shape ?? null }];
    case "Shape": {
      const start = intAttr(node, "start", 0);
      const r = a?.shape?.length;
      let n: number | null = null;
      if (r !== undefined) {
        const s = Math.max(0, Math.min(r, normAxis(start, r)));
        const e = Math.max(0, Math.min(r, normAxis(intAttr(node, "end", r), r)));
        n = Math.max(0, e - s);
      }
      return [{ elemType: INT64, shape: [n] }];
    }
    case "Size":
      return [{ elemType: INT64, shape: [] }];
    case "NonZero":
      return [{ elemType: INT64, shape: [a?.shape?.length ?? null, null] }];
    case "ArgMax":
    case "ArgMin": {
      if (!a?.shape) return [{ elemType: INT64, shape: null }];
      const ax = normAxis(intAttr(node, "axis", 0), a.shape.length);
      const keep = intAttr(node, "keepdims", 1) === 1;
      return [{ elemType: INT64, shape: a.shape.flatMap((d, i) => (i === ax ? (keep ? [1] : []) : [d])) }];
    }
    case "MatMul": {
      if (!a?.shape || !b?.shape) return [{ elemType: a?.elemType ?? 0, shape: null }];
      const sa = a.shape.length === 1 ? [1, a.shape[0]!] : a.shape;
      const sb = b.shape.length === 1 ? [b.shape[0]!, 1] : b.shape;
      const batch = broadcastShapes([sa.slice(0, -2), sb.slice(0, -2)]) ?? [];
      const out: Dim[] = [...batch, sa[sa.length - 2]!, sb[sb.length - 1]!];
      if (a.shape.length === 1) out.splice(out.length - 2, 1);
      if (b.shape.length === 1) out.pop();
      return [{ elemType: a.elemType, shape: out }];
    }
    case "Gemm": {
      if (!a?.shape || !b?.shape) return [{ elemType: a?.elemType ?? 0, shape: null }];
      const m = intAttr(node, "transA", 0) ? a.shape[1]! : a.shape[0]!;
      const n = intAttr(node, "transB", 0) ? b.shape[0]! : b.shape[1]!;
      return [{ elemType: a.elemType, shape: [m, n] }];
    }
    case "Transpose": {
      if (!a?.shape) return [a];
      const perm = intsAttr(node, "perm") ?? a.shape.map((_, i) => a.shape!.length - 1 - i);
      return [{ elemType: a.elemType, shape: perm.map((p) => a.shape![p] ?? null) }];
    }
    case "Reshape": {
      const target = contentOf(node.inputs[1]);
      if (!target) {
        const len = shapeLength(node.inputs[1]);
        return [{ elemType: a?.elemType ?? 0, shape: len === null ? null : new Array<Dim>(len).fill(null) }];
      }
      const shape: Dim[] = target.map((d, i) => (d === 0 ? (a?.shape?.[i] ?? null) : d === -1 ? null : d));
      if (a?.shape && a.shape.every((d) => typeof d === "number") && target.includes(-1) && target.every((d) => typeof d === "number")) {
        const total = (a.shape as number[]).reduce((x, y) => x * y, 1);
        const known = shape.reduce<number>((x, d) => (typeof d === "number" ? x * d : x), 1);
        shape[(target as number[]).indexOf(-1)] = known === 0 ? 0 : total / known;
      }
      return [{ elemType: a?.elemType ?? 0, shape }];
    }
    case "Flatten": {
      if (!a?.shape) return [{ elemType: a?.elemType ?? 0, shape: [null, null] }];
      const ax = normAxis(intAttr(node, "axis", 1), a.shape.length);
      const prod = (ds: Dim[]) => (ds.every((d) => typeof d === "number") ? (ds as number[]).reduce((x, y) => x * y, 1) : null);
      return [{ elemType: a.elemType, shape: [prod(a.shape.slice(0, ax)), prod(a.shape.slice(ax))] }];
    }
    case "Unsqueeze":
    case "Squeeze": {
      const axes = intsAttr(node, "axes") ?? (node.inputs[1] ? constantInts(node.inputs[1]) : null);
      if (!a?.shape) return [{ elemType: a?.elemType ?? 0, shape: null }];
      if (op === "Unsqueeze") {
        if (!axes) return [{ elemType: a.elemType, shape: null }];
        const rank = a.shape.length + axes.length;
        const norm = new Set(axes.map((x) => normAxis(x, rank)));
        const out: Dim[] = [];
        let j = 0;
        for (let i = 0; i < rank; i++) out.push(norm.has(i) ? 1 : a.shape[j++]!);
        return [{ elemType: a.elemType, shape: out }];
      }
      if (!axes) return [{ elemType: a.elemType, shape: a.shape.every((d) => d !== null) ? a.shape.filter((d) => d !== 1) : null }];
      const norm = new Set(axes.map((x) => normAxis(x, a.shape!.length)));
      return [{ elemType: a.elemType, shape: a.shape.filter((_, i) => !norm.has(i)) }];
    }
    case "Concat": {
      const ts = node.inputs.map(typeOf);
      if (ts.some((t) => !t?.shape)) return [{ elemType: a?.elemType ?? 0, shape: null }];
      const rank = ts[0]!.shape!.length;
      const ax = normAxis(intAttr(node, "axis", 0), rank);
      const out = [...ts[0]!.shape!];
      const dims = ts.map((t) => t!.shape![ax]);
      out[ax] = dims.every((d) => typeof d === "number") ? (dims as number[]).reduce((x, y) => x + y, 0) : null;
      return [{ elemType: a!.elemType, shape: out }];
    }
    case "Gather": {
      if (!a?.shape || !b?.shape) return [{ elemType: a?.elemType ?? 0, shape: null }];
      const ax = normAxis(intAttr(node, "axis", 0), a.shape.length);
      return [{ elemType: a.elemType, shape: [...a.shape.slice(0, ax), ...b.shape, ...a.shape.slice(ax + 1)] }];
    }
    case "Slice": {
      if (!a?.shape) return [a];
      const starts = node.inputs[1] ? constantInts(node.inputs[1]) : null;
      const ends = node.inputs[2] ? constantInts(node.inputs[2]) : null;
      const axes = node.inputs[3] ? constantInts(node.inputs[3]) : starts?.map((_, i) => i) ?? null;
      const steps = node.inputs[4] ? constantInts(node.inputs[4]) : starts?.map(() => 1) ?? null;
      const out = [...a.shape];
      if (!starts || !ends || !axes || !steps) return [{ elemType: a.elemType, shape: out.map(() => null) }];
      axes.forEach((axRaw, i) => {
        const ax = normAxis(axRaw, out.length);
        const n = out[ax];
        out[ax] = typeof n === "number" ? sliceLength(n, starts[i]!, ends[i]!, steps[i]!) : null;
      });
      return [{ elemType: a.elemType, shape: out }];
    }
    case "Expand": {
      const target = contentOf(node.inputs[1]);
      if (!target) {
        const len = shapeLength(node.inputs[1]);
        const r = a?.shape ? Math.max(a.shape.length, len ?? 0) : null;
        return [{ elemType: a?.elemType ?? 0, shape: len === null || r === null ? null : new Array<Dim>(r).fill(null) }];
      }
      return [{ elemType: a?.elemType ?? 0, shape: broadcastShapes([a?.shape ?? null, target]) }];
    }
    case "Where": {
      const c = typeOf(node.inputs[2]);
      return [{ elemType: b?.elemType ?? c?.elemType ?? 0, shape: broadcastShapes([a?.shape ?? null, b?.shape ?? null, c?.shape ?? null]) }];
    }
    case "ConstantOfShape": {
      const t = node.attribute("value")?.t;
      const dims = contentOf(node.inputs[0]);
      return [{ elemType: t?.data_type ?? FLOAT, shape: dims ?? (a?.shape?.[0] != null && typeof a.shape[0] === "number" ? new Array(a.shape[0]).fill(null) : null) }];
    }
    case "Range":
      return [{ elemType: a?.elemType ?? 0, shape: [null] }];
    case "Split": {
      const n = node.outputs.length;
      return new Array(n).fill(null).map(() => ({ elemType: a?.elemType ?? 0, shape: a?.shape ? a.shape.map(() => null) : null }));
    }
    case "TopK":
      return [withElem(a, a?.elemType ?? 0), withElem(a, INT64)];
    case "EyeLike":
      return [withElem(a, intAttr(node, "dtype", a?.elemType ?? FLOAT))];
    case "Conv":
    case "ConvTranspose":
    case "MaxPool":
    case "AveragePool":
    case "GlobalAveragePool":
    case "GlobalMaxPool":
    case "Resize":
    case "Pad":
    case "Tile":
    case "ScatterND":
    case "ScatterElements":
    case "GatherElements":
    case "GatherND":
    case "Einsum":
    case "DepthToSpace":
    case "SpaceToDepth": {
      if (op === "GlobalAveragePool" || op === "GlobalMaxPool") {
        return [{ elemType: a?.elemType ?? 0, shape: a?.shape ? a.shape.map((d, i) => (i < 2 ? d : 1)) : null }];
      }
      if (op === "ScatterND" || op === "ScatterElements") return [a];
      return [{ elemType: a?.elemType ?? 0, shape: a?.shape ? a.shape.map(() => null) : null }];
    }
    default:
      if (REDUCE.has(op)) {
        const axes = intsAttr(node, "axes") ?? (node.inputs[1] ? constantInts(node.inputs[1]) : null);
        const keep = intAttr(node, "keepdims", 1) === 1;
        if (!a?.shape) return [{ elemType: a?.elemType ?? 0, shape: null }];
        const rank = a.shape.length;
        const all = !axes || axes.length === 0;
        if (all && intAttr(node, "noop_with_empty_axes", 0) === 1) return [a];
        const set = new Set(all ? a.shape.map((_, i) => i) : axes!.map((x) => normAxis(x, rank)));
        return [{ elemType: a.elemType, shape: a.shape.flatMap((d, i) => (set.has(i) ? (keep ? [1] : []) : [d])) }];
      }
      return node.outputs.map(() => null);
  }
}

export function sliceLength(n: number, start: number, end: number, step: number): number {
  const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));
  if (step > 0) {
    const s = clamp(start < 0 ? start + n : start, 0, n);
    const e = clamp(end < 0 ? end + n : end, 0, n);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  const s = clamp(start < 0 ? start + n : start, -1, n - 1);
  const e = clamp(end < 0 ? end + n : end, -1, n - 1);
  return Math.max(0, Math.ceil((e - s) / step));
}
