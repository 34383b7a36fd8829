// Normalizations over the last axes: `layer_norm` (torch.nn.functional.layer_norm) and `rms_norm`
// (LLaMA's RMSNorm), written out as ONNX ops at any opset. Float16 and bfloat16 tensors are
// normalized in float32 and converted back, as PyTorch's kernels accumulate.

import { fail } from "../../../common/index.js";
import type { Value } from "../../ir/index.js";
import { BFLOAT16, binary, elemOf, FLOAT, FLOAT16, isFloatType, elemName, rankOf, reduce, type Builder } from "../../lower/index.js";
import { tensorVal, type Arg, type CVal } from "../values.js";
import { num } from "./args.js";
import type { BuiltinCall } from "./registry.js";

/**
 * The normalized axes: the last `rank(weight)` axes when a weight (or bias) is given — torch's
 * `normalized_shape` is the weight's shape — else the last axis.
 */
function normalizedAxes(call: BuiltinCall, x: Value, params: Value[]): number[] {
  const ranks = params.map(rankOf).filter((r): r is number => r !== null);
  const k = ranks.length > 0 ? Math.max(...ranks) : 1;
  const rank = rankOf(x);
  if (rank !== null && k > rank) fail("E0203", `the weight has ${k} dimensions, more than the tensor's ${rank}`, call.span);
  return Array.from({ length: k }, (_, i) => i - k);
}

/** `x`, in float32 when it is float16 or bfloat16 (`back` converts a result back); `orig` as given. */
function floatInput(call: BuiltinCall): { x: Value; orig: Value; back: (y: Value) => Value } {
  const { b } = call;
  const xArg = call.args.get("x")!;
  const x = call.ctx.tensor(xArg);
  const et = elemOf(x);
  if (et !== 0 && !isFloatType(et)) fail("E0204", `\`${call.name}\` takes a floating-point tensor, not ${elemName(et)}`, xArg.span, 'convert it: `cast(x, "float32")`');
  if (et !== FLOAT16 && et !== BFLOAT16) return { x, orig: x, back: (y) => y };
  return { x: b.op1("Cast", [x], { to: FLOAT }), orig: x, back: (y) => b.op1("Cast", [y], { to: et }) };
}

function optionalParam(call: BuiltinCall, name: string, like: Value): Value | null {
  const a: Arg | undefined = call.args.get(name);
  return a ? call.ctx.tensor(a, like) : null;
}

function epsilon(b: Builder, call: BuiltinCall, dflt: number, like: Value): Value {
  const eps = num(call.args.get("eps"), "`eps`") ?? dflt;
  return b.scalar(elemOf(like) || FLOAT, eps);
}

/** `layer_norm(x, weight, bias, eps=1e-5)`: (x - mean) / sqrt(var + eps) * weight + bias. */
export function layerNorm(call: BuiltinCall): CVal {
  const { b, span } = call;
  const { x, orig, back } = floatInput(call);
  const weight = optionalParam(call, "weight", orig);
  const bias = optionalParam(call, "bias", orig);
  const axes = normalizedAxes(call, x, [weight, bias].filter((v): v is Value => v !== null));
  const mean = reduce(b, "ReduceMean", x, axes, true, span);
  const centered = b.op1("Sub", [x, mean]);
  const variance = reduce(b, "ReduceMean", b.op1("Mul", [centered, centered]), axes, true, span);
  let y = back(b.op1("Div", [centered, b.op1("Sqrt", [b.op1("Add", [variance, epsilon(b, call, 1e-5, x)])])]));
  if (weight) y = binary(b, "*", y, weight, span);
  if (bias) y = binary(b, "+", y, bias, span);
  return tensorVal(y);
}

/** `rms_norm(x, weight, eps=1e-6)`: x / sqrt(mean(x²) + eps) * weight, as LLaMA's RMSNorm. */
export function rmsNorm(call: BuiltinCall): CVal {
  const { b, span } = call;
  const { x, orig, back } = floatInput(call);
  const weight = optionalParam(call, "weight", orig);
  const axes = normalizedAxes(call, x, weight ? [weight] : []);
  const meanSquare = reduce(b, "ReduceMean", b.op1("Mul", [x, x]), axes, true, span);
  // LLaMA converts back to the input's type before scaling by the weight.
  let y = back(b.op1("Div", [x, b.op1("Sqrt", [b.op1("Add", [meanSquare, epsilon(b, call, 1e-6, x)])])]));
  if (weight) y = binary(b, "*", y, weight, span);
  return tensorVal(y);
}
