// The built-in functions: one entry per built-in, in the order "did you mean" lists them. To add
// one, add its entry here (name, parameters, how many are required, its lowering) and its lowering
// next to its kind (elementwise.ts, reductions.ts, tensors.ts, model.ts); then document it in
// docs/language.md ("Built-in functions"; test/reliability-docs.test.ts checks every entry is
// there). Arity and keyword errors come from the entry.

import type { Span } from "../../../common/index.js";
import type { Arg, CVal } from "../values.js";
import { bind } from "./args.js";
import { cast, clamp, fillLike, gelu, unaryOp, where } from "./elementwise.js";
import { len, load, tensorByName } from "./model.js";
import { norm, reduction, softmax } from "./reductions.js";
import type { Builtin, BuiltinContext } from "./registry.js";
import { join, reshape, transpose, unbind } from "./tensors.js";

export type { Builtin, BuiltinCall, BuiltinContext } from "./registry.js";

const X = ["x"];
const REDUCTION = ["x", "axis", "keepdims"];

export const BUILTINS: readonly Builtin[] = [
  { name: "zeros_like", params: X, required: 1, lower: fillLike(0) },
  { name: "ones_like", params: X, required: 1, lower: fillLike(1) },
  { name: "full_like", params: ["x", "value"], required: 2, lower: fillLike(null) },
  { name: "mean", params: REDUCTION, required: 1, lower: reduction("mean") },
  { name: "sum", params: REDUCTION, required: 1, lower: reduction("sum") },
  { name: "max", params: REDUCTION, required: 1, lower: reduction("max") },
  { name: "min", params: REDUCTION, required: 1, lower: reduction("min") },
  { name: "relu", params: X, required: 1, lower: unaryOp("Relu") },
  { name: "gelu", params: ["x", "approximate"], required: 1, lower: gelu },
  { name: "tanh", params: X, required: 1, lower: unaryOp("Tanh") },
  { name: "sigmoid", params: X, required: 1, lower: unaryOp("Sigmoid") },
  { name: "exp", params: X, required: 1, lower: unaryOp("Exp") },
  { name: "log", params: X, required: 1, lower: unaryOp("Log") },
  { name: "sqrt", params: X, required: 1, lower: unaryOp("Sqrt") },
  { name: "abs", params: X, required: 1, lower: unaryOp("Abs") },
  { name: "softmax", params: ["x", "axis"], required: 1, lower: softmax },
  { name: "norm", params: REDUCTION, required: 1, lower: norm },
  { name: "stack", params: ["xs", "axis"], required: 1, lower: join("stack") },
  { name: "concat", params: ["xs", "axis"], required: 1, lower: join("concat") },
  { name: "unbind", params: ["x", "axis"], required: 1, lower: unbind },
  { name: "reshape", params: ["x", "shape"], required: 2, lower: reshape },
  { name: "transpose", params: ["x", "dims", "dim1"], required: 1, lower: transpose },
  { name: "where", params: ["condition", "x", "y"], required: 3, lower: where },
  { name: "cast", params: ["x", "dtype"], required: 2, lower: cast },
  { name: "clamp", params: ["x", "min", "max"], required: 1, lower: clamp },
  { name: "load", params: ["path"], required: 1, lower: load },
  { name: "len", params: X, required: 1, lower: len },
  { name: "tensor", params: ["name"], required: 1, lower: tensorByName },
];

const byName = new Map(BUILTINS.map((f) => [f.name, f]));

export const BUILTIN_NAMES: readonly string[] = BUILTINS.map((f) => f.name);

export function isBuiltin(name: string): boolean {
  return byName.has(name);
}

/** Bind the arguments of a call of the built-in `name` and lower it. */
export function callBuiltin(ctx: BuiltinContext, name: string, args: Arg[], kwargs: Map<string, Arg>, span: Span): CVal {
  const f = byName.get(name)!;
  const bound = bind(name, f.params, f.required, args, kwargs, span);
  return f.lower({ name, args: bound, span, ctx, b: ctx.b });
}
