// Built-in functions. Each binds its arguments by position or keyword (unknown keywords and wrong
// arity are errors that name the function), checks what it can, and lowers to ONNX nodes.

import { suggest, type Span } from "../../common/index.js";
import type { Value } from "../ir/index.js";
import { elemTypeCode } from "../onnx/index.js";
import { BOOL, FLOAT, INT64, makeTensor, type Builder } from "../lower/builder.js";
import { fail } from "../lower/errors.js";
import { binary, checkBroadcast, checkSameElem, elemName, elemOf, isFloatType, literalFor, normalizeAxis, rankOf, reduce, shapeOf } from "../lower/ops.js";
import { indexTensor } from "../lower/indexing.js";
import { lazyRank, stackAxis } from "./lazy.js";
import { describe, type CVal, type Lazy } from "./values.js";

export interface Arg {
  value: CVal;
  span: Span;
}

/** What a built-in needs from the interpreter. */
export interface BuiltinContext {
  b: Builder;
  /** The tensor behind a value (materializing lazy stacks), or an error saying what it is instead. */
  tensor(arg: Arg, like?: Value): Value;
  load(path: string, span: Span): Value;
  len(arg: Arg): number;
  tensorByName(name: string, span: Span): CVal;
}

interface Spec {
  params: string[];
  required: number;
  defaults?: Record<string, CVal | undefined>;
}

const NONE = undefined;
const SPECS: Record<string, Spec> = {
  zeros_like: { params: ["x"], required: 1 },
  ones_like: { params: ["x"], required: 1 },
  full_like: { params: ["x", "value"], required: 2 },
  mean: { params: ["x", "axis", "keepdims"], required: 1 },
  sum: { params: ["x", "axis", "keepdims"], required: 1 },
  max: { params: ["x", "axis", "keepdims"], required: 1 },
  min: { params: ["x", "axis", "keepdims"], required: 1 },
  relu: { params: ["x"], required: 1 },
  gelu: { params: ["x", "approximate"], required: 1 },
  tanh: { params: ["x"], required: 1 },
  sigmoid: { params: ["x"], required: 1 },
  exp: { params: ["x"], required: 1 },
  log: { params: ["x"], required: 1 },
  sqrt: { params: ["x"], required: 1 },
  abs: { params: ["x"], required: 1 },
  softmax: { params: ["x", "axis"], required: 1 },
  norm: { params: ["x", "axis", "keepdims"], required: 1 },
  stack: { params: ["xs", "axis"], required: 1 },
  concat: { params: ["xs", "axis"], required: 1 },
  unbind: { params: ["x", "axis"], required: 1 },
  reshape: { params: ["x", "shape"], required: 2 },
  transpose: { params: ["x", "dims", "dim1"], required: 1 },
  where: { params: ["condition", "x", "y"], required: 3 },
  cast: { params: ["x", "dtype"], required: 2 },
  clamp: { params: ["x", "min", "max"], required: 1 },
  load: { params: ["path"], required: 1 },
  len: { params: ["x"], required: 1 },
  tensor: { params: ["name"], required: 1 },
};

export const BUILTIN_NAMES = Object.keys(SPECS);

export function isBuiltin(name: string): boolean {
  return Object.hasOwn(SPECS, name);
}

function bind(name: string, spec: Spec, args: Arg[], kwargs: Map<string, Arg>, span: Span): Map<string, Arg> {
  const out = new Map<string, Arg>();
  if (args.length > spec.params.length) {
    fail("E0201", `\`${name}\` takes at most ${spec.params.length} argument${spec.params.length === 1 ? "" : "s"} (${spec.params.join(", ")}), got ${args.length}`, span);
  }
  args.forEach((a, i) => out.set(spec.params[i]!, a));
  for (const [k, a] of kwargs) {
    if (!spec.params.includes(k)) {
      const hint = suggest(k, spec.params);
      fail("E0202", `\`${name}\` has no keyword argument \`${k}\``, a.span, hint ? `did you mean \`${hint}\`?` : `its arguments are ${spec.params.map((p) => `\`${p}\``).join(", ")}`);
    }
    if (out.has(k)) fail("E0201", `\`${name}\` got \`${k}\` twice`, a.span);
    out.set(k, a);
  }
  for (const p of spec.params.slice(0, spec.required)) {
    if (!out.has(p)) fail("E0201", `\`${name}\` is missing its argument \`${p}\``, span, `\`${name}(${spec.params.slice(0, spec.required).join(", ")})\``);
  }
  void NONE;
  return out;
}

function num(a: Arg | undefined, what: string): number | null {
  if (!a) return null;
  if (a.value.k === "num") return a.value.v;
  fail("E0209", `${what} must be a number, not ${describe(a.value)}`, a.span);
}

function intList(a: Arg | undefined, what: string): number[] | null {
  if (!a) return null;
  if (a.value.k === "num") return [checkInt(a.value.v, a.span, what)];
  if (a.value.k === "list") {
    return a.value.items.map((x) => {
      if (x.k !== "num") fail("E0209", `${what} must be a list of integers, not a list holding ${describe(x)}`, a.span);
      return checkInt(x.v, a.span, what);
    });
  }
  fail("E0209", `${what} must be an integer or a list of integers, not ${describe(a.value)}`, a.span);
}

function checkInt(v: number, span: Span, what: string): number {
  if (!Number.isInteger(v)) fail("E0209", `${what} must be an integer, not \`${v}\``, span);
  return v;
}

function bool(a: Arg | undefined, what: string): boolean {
  if (!a) return false;
  if (a.value.k === "bool") return a.value.v;
  fail("E0209", `${what} must be \`true\` or \`false\`, not ${describe(a.value)}`, a.span);
}

function str(a: Arg | undefined, what: string): string | null {
  if (!a) return null;
  if (a.value.k === "str") return a.value.v;
  fail("E0209", `${what} must be a string, not ${describe(a.value)}`, a.span);
}

function listItems(a: Arg, name: string): CVal[] {
  if (a.value.k === "list") return a.value.items;
  fail("E0209", `\`${name}\` takes a list of tensors, not ${describe(a.value)}`, a.span, `\`${name}([a, b, c])\``);
}

const UNARY: Record<string, string> = { relu: "Relu", tanh: "Tanh", sigmoid: "Sigmoid", exp: "Exp", log: "Log", sqrt: "Sqrt", abs: "Abs" };
const REDUCE: Record<string, string> = { mean: "ReduceMean", sum: "ReduceSum", max: "ReduceMax", min: "ReduceMin" };

export function callBuiltin(ctx: BuiltinContext, name: string, args: Arg[], kwargs: Map<string, Arg>, span: Span): CVal {
  const a = bind(name, SPECS[name]!, args, kwargs, span);
  const b = ctx.b;
  const t = (v: Value): CVal => ({ k: "tensor", t: { kind: "value", value: v } });
  const x = () => ctx.tensor(a.get("x")!);
  if (UNARY[name]) return t(b.op1(UNARY[name]!, [x()]));
  if (REDUCE[name]) {
    // max(a, b) / min(a, b) with a second tensor are elementwise.
    const second = a.get("axis");
    if ((name === "max" || name === "min") && second && (second.value.k === "tensor" || second.value.k === "port")) {
      const xa = x();
      const xb = ctx.tensor(second, xa);
      checkSameElem(xa, xb, `\`${name}\``, span);
      checkBroadcast([shapeOf(xa), shapeOf(xb)], span);
      return t(b.op1(name === "max" ? "Max" : "Min", [xa, xb]));
    }
    const axes = intList(second, "`axis`");
    const keepdims = bool(a.get("keepdims"), "`keepdims`");
    // mean/sum/max/min(stack(xs), axis=k) over the stacked axis is ONNX's variadic Mean/Sum/Max/
    // Min of xs: the same numbers without copying every element into a stacked tensor first.
    const xv = a.get("x")!.value;
    if (xv.k === "tensor" && xv.t.kind === "stack" && !keepdims && axes?.length === 1 && xv.t.items.length > 0) {
      const st = xv.t;
      const r = lazyRank(st);
      if (stackAxis(st) !== null && stackAxis(st) === (axes[0]! < 0 && r !== null ? axes[0]! + r : axes[0])) {
        const parts = st.items.map((item) => ctx.tensor({ value: { k: "tensor", t: item }, span: a.get("x")!.span }));
        const shapes = parts.map(shapeOf);
        const sameShapes = shapes.every((sh) => sh !== null && sh.length === shapes[0]!.length && sh.every((d, i) => typeof d !== "number" || typeof shapes[0]![i] !== "number" || d === shapes[0]![i]));
        if (sameShapes) {
          parts.slice(1).forEach((p) => checkSameElem(parts[0]!, p, `\`${name}\``, span));
          const variadic = { mean: "Mean", sum: "Sum", max: "Max", min: "Min" }[name as "mean"];
          return t(parts.length === 1 ? parts[0]! : b.op1(variadic, parts));
        }
      }
    }
    return t(reduce(b, REDUCE[name]!, x(), axes, keepdims, span));
  }
  switch (name) {
    case "zeros_like":
    case "ones_like":
    case "full_like": {
      const xv = x();
      const fill = name === "zeros_like" ? 0 : name === "ones_like" ? 1 : num(a.get("value"), "the fill value")!;
      const et = elemOf(xv) || FLOAT;
      const value = et === INT64 ? makeTensor(INT64, [BigInt(fill)], [1]) : makeTensor(et, [fill], [1]);
      return t(b.op1("ConstantOfShape", [b.op1("Shape", [xv])], { value }));
    }
    case "gelu": {
      const xv = x();
      const approx = str(a.get("approximate"), "`approximate`") ?? "none";
      if (approx !== "none" && approx !== "tanh") fail("E0209", `\`approximate\` is "none" or "tanh", not "${approx}"`, a.get("approximate")!.span);
      if (b.opset >= 20) return t(b.op1("Gelu", [xv], { approximate: approx }));
      const c = (v: number) => literalFor(b, v, xv, span);
      if (approx === "tanh") {
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        const inner = b.op1("Mul", [c(Math.sqrt(2 / Math.PI)), b.op1("Add", [xv, b.op1("Mul", [c(0.044715), b.op1("Mul", [xv, b.op1("Mul", [xv, xv])])])])]);
        return t(b.op1("Mul", [b.op1("Mul", [c(0.5), xv]), b.op1("Add", [c(1), b.op1("Tanh", [inner])])]));
      }
      const erf = b.op1("Erf", [b.op1("Div", [xv, c(Math.SQRT2)])]);
      return t(b.op1("Mul", [b.op1("Mul", [c(0.5), xv]), b.op1("Add", [c(1), erf])]));
    }
    case "softmax": {
      const xv = x();
      const axis = normalizeAxis(num(a.get("axis"), "`axis`") ?? -1, rankOf(xv), a.get("axis")?.span ?? span);
      return t(b.op1("Softmax", [xv], { axis }));
    }
    case "norm": {
      const xv = x();
      const axes = intList(a.get("axis"), "`axis`");
      const keep = bool(a.get("keepdims"), "`keepdims`");
      return t(b.op1("Sqrt", [reduce(b, "ReduceSum", b.op1("Mul", [xv, xv]), axes, keep, span)]));
    }
    case "stack":
    case "concat": {
      const xs = a.get("xs")!;
      const items = listItems(xs, name).map((item, i) => toLazy(ctx, { value: item, span: xs.span }, name, i));
      const axis = num(a.get("axis"), "`axis`") ?? 0;
      return { k: "tensor", t: { kind: name, items, axis, span } };
    }
    case "unbind": {
      const xa = a.get("x")!;
      const axis = num(a.get("axis"), "`axis`") ?? 0;
      // unbind(stack(xs, axis), axis) is xs itself: keep dependencies exact.
      if (xa.value.k === "tensor" && xa.value.t.kind === "stack") {
        const st = xa.value.t;
        const sa = stackAxis(st);
        const r = lazyRank(st);
        const ua = r !== null && axis < 0 ? axis + r : axis;
        if (sa !== null && sa === ua) return { k: "list", items: st.items.map((l) => ({ k: "tensor", t: l })) };
      }
      const xv = ctx.tensor(xa);
      const rank = rankOf(xv);
      const ax = normalizeAxis(axis, rank, span);
      const n = shapeOf(xv)?.[ax];
      if (typeof n !== "number") fail("E0209", "`unbind` needs a dimension of static size", span, "unbind a `stack(...)` of a list, or slice with static indices");
      b.reserve(n); // one node per item at least
      const items: CVal[] = [];
      for (let i = 0; i < n; i++) {
        const idx = [...Array(ax).fill(null).map(() => ({ kind: "slice" as const, start: null, stop: null, step: null, span })), { kind: "int" as const, value: i, span }];
        items.push(t(indexTensor(b, xv, idx, span)));
      }
      return { k: "list", items };
    }
    case "reshape": {
      const xv = x();
      const shape = intList(a.get("shape"), "the shape")!;
      if (shape.filter((d) => d === -1).length > 1) fail("E0209", "a shape can have only one `-1`", a.get("shape")!.span);
      return t(b.op1("Reshape", [xv, b.ints(shape)]));
    }
    case "transpose": {
      const xv = x();
      const rank = rankOf(xv);
      const dims = a.get("dims");
      const dim1 = num(a.get("dim1"), "the second dimension");
      if (dim1 !== null) {
        // transpose(x, d0, d1) swaps two dimensions like torch.transpose.
        if (rank === null) fail("E0209", "swapping two dimensions needs a tensor of known rank", span);
        const d0 = normalizeAxis(num(dims, "the first dimension")!, rank, span);
        const d1 = normalizeAxis(dim1, rank, span);
        const perm = Array.from({ length: rank }, (_, i) => (i === d0 ? d1 : i === d1 ? d0 : i));
        return t(b.op1("Transpose", [xv], { perm }));
      }
      const perm = intList(dims, "the permutation");
      if (perm) {
        if (rank !== null && (perm.length !== rank || [...perm].sort((p, q) => p - q).some((p, i) => p !== i))) {
          fail("E0209", `\`[${perm.join(", ")}]\` is not a permutation of the ${rank} dimensions`, dims!.span);
        }
        return t(b.op1("Transpose", [xv], { perm }));
      }
      return t(b.op1("Transpose", [xv]));
    }
    case "where": {
      const cond = ctx.tensor(a.get("condition")!);
      if (elemOf(cond) !== 0 && elemOf(cond) !== BOOL) fail("E0204", `the condition of \`where\` must be boolean, not ${elemName(elemOf(cond))}`, a.get("condition")!.span, "compare it: `where(x > 0, x, 0)`");
      const xa = a.get("x")!;
      const ya = a.get("y")!;
      const like = xa.value.k === "num" ? (ya.value.k === "num" ? null : ctx.tensor(ya)) : ctx.tensor(xa);
      if (!like) fail("E0209", "`where` needs at least one tensor among its values", span);
      const xv = ctx.tensor(xa, like);
      const yv = ctx.tensor(ya, like);
      checkSameElem(xv, yv, "`where`", span);
      checkBroadcast([shapeOf(cond), shapeOf(xv), shapeOf(yv)], span);
      return t(b.op1("Where", [cond, xv, yv]));
    }
    case "cast": {
      const xv = x();
      const dt = str(a.get("dtype"), "the element type")!;
      const code = elemTypeCode(dt);
      if (code === undefined) fail("E0209", `unknown element type \`${dt}\``, a.get("dtype")!.span, 'element types are written like "float32", "float16", "int64", "bool"');
      return t(b.op1("Cast", [xv], { to: code }));
    }
    case "clamp": {
      const xv = x();
      const lo = a.get("min");
      const hi = a.get("max");
      if (!lo && !hi) fail("E0201", "`clamp` needs `min`, `max` or both", span);
      if (!isFloatType(elemOf(xv)) && elemOf(xv) !== 0) {
        // Clip supports integers too, but keep numbers as the tensor's type.
      }
      const bound = (arg: Arg | undefined) => (arg ? ctx.tensor(arg, xv) : null);
      return t(b.op1("Clip", [xv, bound(lo), bound(hi)]));
    }
    case "load": {
      const path = str(a.get("path"), "the path")!;
      return t(ctx.load(path, a.get("path")!.span));
    }
    case "len":
      return { k: "num", v: ctx.len(a.get("x")!) };
    case "tensor":
      return ctx.tensorByName(str(a.get("name"), "the tensor name")!, a.get("name")!.span);
    default:
      fail("E0210", `unknown function \`${name}\``, span);
  }
}

function toLazy(ctx: BuiltinContext, arg: Arg, name: string, i: number): Lazy {
  const v = arg.value;
  if (v.k === "tensor") return v.t;
  if (v.k === "port") return { kind: "value", value: ctx.tensor(arg) };
  fail("E0209", `element ${i} of the list given to \`${name}\` is ${describe(v)}, not a tensor`, arg.span);
}

/** A binary operation on two tensors, with numbers taking the tensor's element type. */
export function tensorBinary(ctx: BuiltinContext, op: string, l: Arg, r: Arg, span: Span): Value {
  const left = l.value.k === "num" ? null : ctx.tensor(l);
  const right = ctx.tensor(r, left ?? undefined);
  return binary(ctx.b, op, left ?? ctx.tensor(l, right), right, span);
}
