// Built-ins that build or reshape tensors: `stack` and `concat` of a list (kept lazy, lazy.ts),
// `unbind` into a list, `reshape` and `transpose`.

import { fail, type Span } from "../../../common/index.js";
import { indexTensor, normalizeAxis, rankOf, shapeOf } from "../../lower/index.js";
import { lazyRank, stackAxis } from "../lazy.js";
import { describe, tensorVal, type Arg, type CVal, type Lazy } from "../values.js";
import { intList, listItems, num } from "./args.js";
import { tensorArg, type BuiltinCall, type BuiltinContext } from "./registry.js";

/** `stack(xs, axis)` or `concat(xs, axis)`: lazy until a tensor is needed. */
export function join(name: "stack" | "concat"): (call: BuiltinCall) => CVal {
  return (call) => {
    const xs = call.args.get("xs")!;
    const items = listItems(xs, name).map((item, i) => toLazy(call.ctx, { value: item, span: xs.span }, name, i));
    const axis = num(call.args.get("axis"), "`axis`") ?? 0;
    return { k: "tensor", t: { kind: name, items, axis, span: call.span } };
  };
}

function toLazy(ctx: BuiltinContext, arg: Arg, name: string, i: number): Lazy {
  const v = arg.value;
  if (v.k === "tensor") return v.t;
  if (v.k === "port") return { kind: "value", value: ctx.tensor(arg) };
  fail("E0209", `element ${i} of the list given to \`${name}\` is ${describe(v)}, not a tensor`, arg.span);
}

export function unbind(call: BuiltinCall): CVal {
  const { b, span } = call;
  const xa = call.args.get("x")!;
  const axis = num(call.args.get("axis"), "`axis`") ?? 0;
  // unbind(stack(xs, axis), axis) is xs itself: keep dependencies exact.
  if (xa.value.k === "tensor" && xa.value.t.kind === "stack") {
    const st = xa.value.t;
    const sa = stackAxis(st);
    const r = lazyRank(st);
    const ua = r !== null && axis < 0 ? axis + r : axis;
    if (sa !== null && sa === ua) return { k: "list", items: st.items.map((l) => ({ k: "tensor", t: l })) };
  }
  const xv = call.ctx.tensor(xa);
  const rank = rankOf(xv);
  const ax = normalizeAxis(axis, rank, span);
  const n = shapeOf(xv)?.[ax];
  if (typeof n !== "number") fail("E0209", "`unbind` needs a dimension of static size", span, "unbind a `stack(...)` of a list, or slice with static indices");
  b.reserve(n); // one node per item at least
  const items: CVal[] = [];
  for (let i = 0; i < n; i++) items.push(tensorVal(indexTensor(b, xv, [...fullSlices(ax, span), { kind: "int", value: i, span }], span)));
  return { k: "list", items };
}

function fullSlices(count: number, span: Span) {
  return Array.from({ length: count }, () => ({ kind: "slice" as const, start: null, stop: null, step: null, span }));
}

export function reshape(call: BuiltinCall): CVal {
  const xv = tensorArg(call, "x");
  const shape = intList(call.args.get("shape"), "the shape")!;
  if (shape.filter((d) => d === -1).length > 1) fail("E0209", "a shape can have only one `-1`", call.args.get("shape")!.span);
  return tensorVal(call.b.op1("Reshape", [xv, call.b.ints(shape)]));
}

export function transpose(call: BuiltinCall): CVal {
  const { b, span } = call;
  const xv = tensorArg(call, "x");
  const rank = rankOf(xv);
  const dims = call.args.get("dims");
  const dim1 = num(call.args.get("dim1"), "the second dimension");
  if (dim1 !== null) {
    // transpose(x, d0, d1) swaps two dimensions like torch.transpose.
    if (rank === null) fail("E0209", "swapping two dimensions needs a tensor of known rank", span);
    const d0 = normalizeAxis(num(dims, "the first dimension")!, rank, span);
    const d1 = normalizeAxis(dim1, rank, span);
    const perm = Array.from({ length: rank }, (_, i) => (i === d0 ? d1 : i === d1 ? d0 : i));
    return tensorVal(b.op1("Transpose", [xv], { perm }));
  }
  const perm = intList(dims, "the permutation");
  if (perm) {
    if (rank !== null && (perm.length !== rank || [...perm].sort((p, q) => p - q).some((p, i) => p !== i))) {
      fail("E0209", `\`[${perm.join(", ")}]\` is not a permutation of the ${rank} dimensions`, dims!.span);
    }
    return tensorVal(b.op1("Transpose", [xv], { perm }));
  }
  return tensorVal(b.op1("Transpose", [xv]));
}
