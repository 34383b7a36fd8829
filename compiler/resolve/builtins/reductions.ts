// Built-ins that reduce over axes: `mean`, `sum`, `max`, `min` (`max`/`min` of two tensors are
// elementwise), `norm`, and `softmax` along one axis.

import { checkBroadcast, checkSameElem, normalizeAxis, rankOf, reduce as reduceOp, shapeOf } from "../../lower/index.js";
import { lazyRank, stackAxis } from "../lazy.js";
import { tensorVal, type CVal } from "../values.js";
import { bool, intList, num } from "./args.js";
import { tensorArg, type BuiltinCall } from "./registry.js";

const REDUCE = { mean: "ReduceMean", sum: "ReduceSum", max: "ReduceMax", min: "ReduceMin" } as const;
const VARIADIC = { mean: "Mean", sum: "Sum", max: "Max", min: "Min" } as const;

/** `mean`, `sum`, `max`, `min` over `axis` (all axes without it). */
export function reduction(name: keyof typeof REDUCE): (call: BuiltinCall) => CVal {
  return (call) => {
    const { b, ctx, span } = call;
    // max(a, b) / min(a, b) with a second tensor are elementwise.
    const second = call.args.get("axis");
    if ((name === "max" || name === "min") && second && (second.value.k === "tensor" || second.value.k === "port")) {
      const xa = tensorArg(call, "x");
      const xb = ctx.tensor(second, xa);
      checkSameElem(xa, xb, `\`${name}\``, span);
      checkBroadcast([shapeOf(xa), shapeOf(xb)], span);
      return tensorVal(b.op1(name === "max" ? "Max" : "Min", [xa, xb]));
    }
    const axes = intList(second, "`axis`");
    const keepdims = bool(call.args.get("keepdims"), "`keepdims`");
    // mean/sum/max/min(stack(xs), axis=k) over the stacked axis is ONNX's variadic Mean/Sum/Max/
    // Min of xs: the same numbers without copying every element into a stacked tensor first.
    const xv = call.args.get("x")!.value;
    if (xv.k === "tensor" && xv.t.kind === "stack" && !keepdims && axes?.length === 1 && xv.t.items.length > 0) {
      const st = xv.t;
      const r = lazyRank(st);
      if (stackAxis(st) !== null && stackAxis(st) === (axes[0]! < 0 && r !== null ? axes[0]! + r : axes[0])) {
        const parts = st.items.map((item) => ctx.tensor({ value: { k: "tensor", t: item }, span: call.args.get("x")!.span }));
        const shapes = parts.map(shapeOf);
        const sameShapes = shapes.every((sh) => sh !== null && sh.length === shapes[0]!.length && sh.every((d, i) => typeof d !== "number" || typeof shapes[0]![i] !== "number" || d === shapes[0]![i]));
        if (sameShapes) {
          parts.slice(1).forEach((p) => checkSameElem(parts[0]!, p, `\`${name}\``, span));
          return tensorVal(parts.length === 1 ? parts[0]! : b.op1(VARIADIC[name], parts));
        }
      }
    }
    return tensorVal(reduceOp(b, REDUCE[name], tensorArg(call, "x"), axes, keepdims, span));
  };
}

export function softmax(call: BuiltinCall): CVal {
  const xv = tensorArg(call, "x");
  const axis = normalizeAxis(num(call.args.get("axis"), "`axis`") ?? -1, rankOf(xv), call.args.get("axis")?.span ?? call.span);
  return tensorVal(call.b.op1("Softmax", [xv], { axis }));
}

export function norm(call: BuiltinCall): CVal {
  const { b } = call;
  const xv = tensorArg(call, "x");
  const axes = intList(call.args.get("axis"), "`axis`");
  const keep = bool(call.args.get("keepdims"), "`keepdims`");
  return tensorVal(b.op1("Sqrt", [reduceOp(b, "ReduceSum", b.op1("Mul", [xv, xv]), axes, keep, call.span)]));
}
