// Built-ins that reach outside the expression: `load` a NumPy file, `len` of a list, module or
// tensor, and `tensor("name")` for a tensor of the model by its ONNX name.

import { tensorVal, type CVal } from "../values.js";
import { str } from "./args.js";
import type { BuiltinCall } from "./registry.js";

export function load(call: BuiltinCall): CVal {
  const path = str(call.args.get("path"), "the path")!;
  return tensorVal(call.ctx.load(path, call.args.get("path")!.span));
}

export function len(call: BuiltinCall): CVal {
  return { k: "num", v: call.ctx.len(call.args.get("x")!) };
}

export function tensorByName(call: BuiltinCall): CVal {
  return call.ctx.tensorByName(str(call.args.get("name"), "the tensor name")!, call.args.get("name")!.span);
}
