// Sizes: `shape(x)` and `x.shape` (a list holding a number for each static dimension and an int64
// scalar tensor for each dynamic one), `arange`, and reading sizes given to built-ins — `reshape`'s
// shape, `topk`'s k, `one_hot`'s n — as compile-time numbers where they are static and as graph
// values where they are not.

import { fail, type Span } from "../../../common/index.js";
import type { Value } from "../../ir/index.js";
import { dimOf, elemName, elemOf, FLOAT, INT64, isFloatType, isIntType, literalFor, rankOf, shapeOf, squeeze, type Builder } from "../../lower/index.js";
import { describe, tensorVal, type Arg, type CVal } from "../values.js";
import type { BuiltinCall, BuiltinContext } from "./registry.js";

/** `arange` of numbers up to this length is a constant (its shape is static); longer, a Range node. */
const CONSTANT_RANGE = 1 << 16;

/** `x.shape`: one item per dimension, a number when static, an int64 scalar tensor when dynamic. */
export function shapeList(b: Builder, x: Value, span: Span): CVal {
  const shape = shapeOf(x);
  if (shape === null) fail("E0209", "the rank of this tensor is unknown, so its shape is not a list of sizes", span, "`reshape` it to a known rank first");
  return { k: "list", items: shape.map((d, i) => (typeof d === "number" ? { k: "num", v: d } : tensorVal(squeeze(b, dimOf(b, x, i), [0])))) };
}

export function shape(call: BuiltinCall): CVal {
  const a = call.args.get("x")!;
  return shapeList(call.b, call.ctx.tensor(a), a.span);
}

/** A size argument: a compile-time integer, or an integer scalar tensor (`x.shape[1]`) as int64 of shape []. */
export function sizeArg(ctx: BuiltinContext, a: Arg, what: string): number | Value {
  const v = a.value;
  if (v.k === "num") {
    if (!Number.isInteger(v.v)) fail("E0209", `${what} must be an integer, not \`${v.v}\``, a.span);
    return v.v;
  }
  if (v.k !== "tensor" && v.k !== "port") fail("E0209", `${what} must be an integer or a size such as \`x.shape[0]\`, not ${describe(v)}`, a.span);
  const t = ctx.tensor(a);
  const et = elemOf(t);
  if (et !== 0 && !isIntType(et)) fail("E0209", `${what} must be an integer, not a ${elemName(et)} tensor`, a.span);
  const shape = shapeOf(t);
  if (shape && shape.some((d) => typeof d === "number" && d !== 1)) fail("E0209", `${what} must be one integer, not a tensor of shape [${shape.join(", ")}]`, a.span);
  const i64 = et === INT64 || et === 0 ? t : ctx.b.op1("Cast", [t], { to: INT64 });
  return shape && shape.length === 0 ? i64 : ctx.b.op1("Reshape", [i64, ctx.b.ints([])]);
}

/**
 * A shape given to `reshape`: a list of sizes (numbers, and sizes such as `x.shape[0]`), or a 1-D
 * integer tensor. Numbers only: the list itself, so that `-1` is checked and shapes are static.
 */
export function shapeArg(ctx: BuiltinContext, a: Arg, what: string): number[] | Value {
  const { b } = ctx;
  const v = a.value;
  if (v.k === "num") return [sizeArg(ctx, a, what) as number];
  if (v.k === "list") {
    const sizes = v.items.map((item) => sizeArg(ctx, { value: item, span: a.span }, `each size in ${what}`));
    const numbers = sizes.filter((s): s is number => typeof s === "number");
    if (numbers.filter((d) => d === -1).length > 1) fail("E0209", "a shape can have only one `-1`", a.span);
    if (numbers.some((d) => d < -1)) fail("E0209", `a size in ${what} is negative (\`${numbers.find((d) => d < -1)}\`)`, a.span, "`-1` is the only negative size: it is inferred");
    if (numbers.length === sizes.length) return numbers;
    return b.op1("Concat", sizes.map((s) => (typeof s === "number" ? b.ints([s]) : b.op1("Reshape", [s, b.ints([1])]))), { axis: 0 });
  }
  if (v.k === "tensor" || v.k === "port") {
    const t = ctx.tensor(a);
    const et = elemOf(t);
    if ((et !== 0 && !isIntType(et)) || (rankOf(t) !== null && rankOf(t) !== 1)) {
      fail("E0209", `${what} must be a list of sizes or a 1-D integer tensor`, a.span, "`[x.shape[0], -1]`, or `shape(x)`");
    }
    return et === INT64 || et === 0 ? t : b.op1("Cast", [t], { to: INT64 });
  }
  fail("E0209", `${what} must be a list of sizes, not ${describe(v)}`, a.span, "`[2, -1]`, or `[x.shape[0], x.shape[1], 4, -1]`");
}

/**
 * `arange(stop)`, `arange(start, stop)`, `arange(start, stop, step)`, as numpy and torch: int64 for
 * integers, float32 for other numbers; a constant when every argument is a number, else a Range.
 */
export function arange(call: BuiltinCall): CVal {
  const { b, ctx, span } = call;
  const step = call.args.get("step");
  // `arange(n)` is `arange(0, n)`.
  const [start, stop] = call.args.has("stop") ? [call.args.get("start"), call.args.get("stop")] : [undefined, call.args.get("start")];
  if (!stop) fail("E0201", "`arange` needs at least its end: `arange(n)` or `arange(start, stop)`", span);
  const read = (a: Arg | undefined, dflt: number): number | Value => {
    if (!a) return dflt;
    const v = a.value;
    if (v.k === "num") return v.v;
    if (v.k === "tensor" || v.k === "port") return ctx.tensor(a);
    fail("E0209", `the arguments of \`arange\` are numbers or sizes such as \`x.shape[0]\`, not ${describe(v)}`, a.span);
  };
  const parts = [read(start, 0), read(stop, 0), read(step, 1)];
  if (parts[2] === 0) fail("E0209", "the step of `arange` cannot be zero", step!.span);
  const numbers = parts.filter((p): p is number => typeof p === "number");
  if (numbers.length === 3) {
    const [a, z, s] = numbers as [number, number, number];
    const count = Math.max(0, Math.ceil((z - a) / s));
    const integers = numbers.every(Number.isInteger);
    if (count <= CONSTANT_RANGE) {
      const values = Array.from({ length: count }, (_, i) => a + i * s);
      return tensorVal(integers ? b.constant(INT64, values.map((x) => BigInt(x)), [count]) : b.constant(FLOAT, values, [count]));
    }
    return tensorVal(b.op1("Range", integers ? [b.int(a), b.int(z), b.int(s)] : [b.scalar(FLOAT, a), b.scalar(FLOAT, z), b.scalar(FLOAT, s)]));
  }
  // A size among them: a Range of its element type (int64 for sizes).
  const like = parts.find((p): p is Value => typeof p !== "number")!;
  const et = elemOf(like) || INT64;
  if (!isIntType(et) && !isFloatType(et)) fail("E0209", `\`arange\` of a ${elemName(et)} tensor`, span);
  const scalars = parts.map((p) => {
    if (typeof p === "number") return literalFor(b, p, like, span);
    if (elemOf(p) !== et) fail("E0204", `the arguments of \`arange\` have different element types (${elemName(et)} and ${elemName(elemOf(p))})`, span);
    return rankOf(p) === 0 ? p : b.op1("Reshape", [p, b.ints([])]);
  });
  return tensorVal(b.op1("Range", scalars));
}
