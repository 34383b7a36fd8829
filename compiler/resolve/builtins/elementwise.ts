// Built-ins that work element by element: activations and maths, `where`, `clamp`, `cast`, and
// the `*_like` fills.

import { elemTypeCode, fail } from "../../../common/index.js";
import { BOOL, FLOAT, INT64, checkBroadcast, checkSameElem, elemName, elemOf, literalFor, makeTensor, shapeOf } from "../../lower/index.js";
import { tensorVal, type CVal } from "../values.js";
import { num, str } from "./args.js";
import { tensorArg, type BuiltinCall } from "./registry.js";

/** A one-input ONNX operator applied to `x`. */
export function unaryOp(opType: string): (call: BuiltinCall) => CVal {
  return (call) => tensorVal(call.b.op1(opType, [tensorArg(call, "x")]));
}

/** `zeros_like(x)`, `ones_like(x)` (`fill` given), `full_like(x, value)` (`fill` null). */
export function fillLike(fill: number | null): (call: BuiltinCall) => CVal {
  return (call) => {
    const xv = tensorArg(call, "x");
    const value = fill ?? num(call.args.get("value"), "the fill value")!;
    const et = elemOf(xv) || FLOAT;
    const tensor = et === INT64 ? makeTensor(INT64, [BigInt(value)], [1]) : makeTensor(et, [value], [1]);
    return tensorVal(call.b.op1("ConstantOfShape", [call.b.op1("Shape", [xv])], { value: tensor }));
  };
}

export function gelu(call: BuiltinCall): CVal {
  const { b, span } = call;
  const xv = tensorArg(call, "x");
  const approx = str(call.args.get("approximate"), "`approximate`") ?? "none";
  if (approx !== "none" && approx !== "tanh") fail("E0209", `\`approximate\` is "none" or "tanh", not "${approx}"`, call.args.get("approximate")!.span);
  if (b.opset >= 20) return tensorVal(b.op1("Gelu", [xv], { approximate: approx }));
  const c = (v: number) => literalFor(b, v, xv, span);
  if (approx === "tanh") {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    const inner = b.op1("Mul", [c(Math.sqrt(2 / Math.PI)), b.op1("Add", [xv, b.op1("Mul", [c(0.044715), b.op1("Mul", [xv, b.op1("Mul", [xv, xv])])])])]);
    return tensorVal(b.op1("Mul", [b.op1("Mul", [c(0.5), xv]), b.op1("Add", [c(1), b.op1("Tanh", [inner])])]));
  }
  const erf = b.op1("Erf", [b.op1("Div", [xv, c(Math.SQRT2)])]);
  return tensorVal(b.op1("Mul", [b.op1("Mul", [c(0.5), xv]), b.op1("Add", [c(1), erf])]));
}

export function where(call: BuiltinCall): CVal {
  const { ctx, span } = call;
  const cond = tensorArg(call, "condition");
  if (elemOf(cond) !== 0 && elemOf(cond) !== BOOL) fail("E0204", `the condition of \`where\` must be boolean, not ${elemName(elemOf(cond))}`, call.args.get("condition")!.span, "compare it: `where(x > 0, x, 0)`");
  const xa = call.args.get("x")!;
  const ya = call.args.get("y")!;
  const like = xa.value.k === "num" ? (ya.value.k === "num" ? null : ctx.tensor(ya)) : ctx.tensor(xa);
  if (!like) fail("E0209", "`where` needs at least one tensor among its values", span);
  const xv = ctx.tensor(xa, like);
  const yv = ctx.tensor(ya, like);
  checkSameElem(xv, yv, "`where`", span);
  checkBroadcast([shapeOf(cond), shapeOf(xv), shapeOf(yv)], span);
  return tensorVal(call.b.op1("Where", [cond, xv, yv]));
}

export function cast(call: BuiltinCall): CVal {
  const xv = tensorArg(call, "x");
  const dt = str(call.args.get("dtype"), "the element type")!;
  const code = elemTypeCode(dt);
  if (code === undefined) fail("E0209", `unknown element type \`${dt}\``, call.args.get("dtype")!.span, 'element types are written like "float32", "float16", "int64", "bool"');
  return tensorVal(call.b.op1("Cast", [xv], { to: code }));
}

export function clamp(call: BuiltinCall): CVal {
  const xv = tensorArg(call, "x");
  const lo = call.args.get("min");
  const hi = call.args.get("max");
  if (!lo && !hi) fail("E0201", "`clamp` needs `min`, `max` or both", call.span);
  // Clip supports integers too; numbers take the tensor's element type.
  const bound = (arg: typeof lo) => (arg ? call.ctx.tensor(arg, xv) : null);
  return tensorVal(call.b.op1("Clip", [xv, bound(lo), bound(hi)]));
}
