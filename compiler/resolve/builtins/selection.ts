// Built-ins that select or locate elements: `argmax`/`argmin`, `topk`, `gather` (torch.gather),
// `one_hot`, `cumsum`, and `tril`/`triu`.

import { elemTypeCode, fail } from "../../../common/index.js";
import {
  BOOL, elemName, elemOf, INT64, isIntType, literalFor, makeTensor, normalizeAxis, rankOf, shapeOf, unsqueeze, dimOf, squeeze,
} from "../../lower/index.js";
import { tensorVal, type CVal } from "../values.js";
import { bool, num, str } from "./args.js";
import { tensorArg, type BuiltinCall } from "./registry.js";
import { sizeArg } from "./sizes.js";

/** `argmax(x, axis, keepdims=false)` / `argmin`: int64 positions, the first of equal values (as torch); over all elements without `axis`. */
export function argReduce(opType: "ArgMax" | "ArgMin"): (call: BuiltinCall) => CVal {
  return (call) => {
    const { b, span } = call;
    const xv = tensorArg(call, "x");
    const rank = rankOf(xv);
    const axisArg = call.args.get("axis");
    const keepdims = bool(call.args.get("keepdims"), "`keepdims`");
    const axis = num(axisArg, "`axis`");
    if (axis === null) {
      // torch.argmax(x) without a dimension: the position in the flattened tensor.
      const flat = b.op1(opType, [b.op1("Reshape", [xv, b.ints([-1])])], { axis: 0, keepdims: 0 });
      if (!keepdims) return tensorVal(flat);
      if (rank === null) fail("E0209", "`keepdims` over all axes needs a tensor of known rank", span);
      return tensorVal(b.op1("Reshape", [flat, b.ints(new Array<number>(rank).fill(1))]));
    }
    const a = normalizeAxis(axis, rank, axisArg!.span);
    return tensorVal(b.op1(opType, [xv], { axis: a, keepdims: keepdims ? 1 : 0 }));
  };
}

/** `topk(x, k, axis=-1, largest=true)`: `[values, indices]`, largest first (as torch.topk). */
export function topk(call: BuiltinCall): CVal {
  const { b, ctx } = call;
  const xv = tensorArg(call, "x");
  const axisArg = call.args.get("axis");
  const axis = normalizeAxis(num(axisArg, "`axis`") ?? -1, rankOf(xv), axisArg?.span ?? call.span);
  const kArg = call.args.get("k")!;
  const k = sizeArg(ctx, kArg, "`k`");
  const largest = call.args.has("largest") ? bool(call.args.get("largest"), "`largest`") : true;
  if (typeof k === "number") {
    const n = shapeOf(xv)?.[axis < 0 ? axis + (rankOf(xv) ?? 0) : axis];
    if (k < 0 || (typeof n === "number" && k > n)) {
      fail("E0206", `\`k\` is ${k}, but the axis has ${typeof n === "number" ? n : "fewer"} elements`, kArg.span, typeof n === "number" ? `k goes from 0 to ${n}` : undefined);
    }
  }
  const kv = typeof k === "number" ? b.ints([k]) : b.op1("Reshape", [k, b.ints([1])]);
  const [values, indices] = b.op("TopK", [xv, kv], { axis, largest: largest ? 1 : 0, sorted: 1 }, 2);
  return { k: "list", items: [tensorVal(values!), tensorVal(indices!)] };
}

/** `gather(x, index, axis)`: torch.gather / numpy.take_along_axis (GatherElements). */
export function gather(call: BuiltinCall): CVal {
  const { b } = call;
  const xv = tensorArg(call, "x");
  const indexArg = call.args.get("index")!;
  const index = call.ctx.tensor(indexArg);
  const axisArg = call.args.get("axis")!;
  const axis = normalizeAxis(num(axisArg, "`axis`")!, rankOf(xv), axisArg.span);
  const et = elemOf(index);
  if (et !== 0 && !isIntType(et)) fail("E0204", `the index of \`gather\` must hold integers, not ${elemName(et)}`, indexArg.span, "convert it: `cast(i, \"int64\")`");
  const rx = rankOf(xv);
  const ri = rankOf(index);
  if (rx !== null && ri !== null && rx !== ri) {
    fail("E0203", `\`gather\` needs an index of the same rank as the tensor (${rx}), not ${ri}`, indexArg.span, "as torch.gather: index[i][j][k] picks x[i][index[i][j][k]][k] along axis 1; `unsqueeze` with `reshape` to add dimensions");
  }
  const i64 = et === INT64 || et === 0 ? index : b.op1("Cast", [index], { to: INT64 });
  return tensorVal(b.op1("GatherElements", [xv, i64], { axis }));
}

/** `one_hot(x, n, dtype="int64")`: a new last axis of length n, 1 at each index (as torch.nn.functional.one_hot). */
export function oneHot(call: BuiltinCall): CVal {
  const { b, ctx } = call;
  const xArg = call.args.get("x")!;
  const xv = ctx.tensor(xArg);
  const et = elemOf(xv);
  if (et !== 0 && !isIntType(et)) fail("E0204", `\`one_hot\` takes integer indices, not ${elemName(et)}`, xArg.span, "convert them: `cast(x, \"int64\")`");
  const n = sizeArg(ctx, call.args.get("n")!, "the number of classes");
  if (typeof n === "number" && n < 1) fail("E0209", `the number of classes must be positive, not ${n}`, call.args.get("n")!.span);
  const dtypeArg = call.args.get("dtype");
  const dtype = str(dtypeArg, "the element type") ?? "int64";
  const code = elemTypeCode(dtype);
  if (code === undefined) fail("E0209", `unknown element type \`${dtype}\``, dtypeArg!.span, 'element types are written like "float32", "float16", "int64", "bool"');
  const values = b.initializer(makeTensor(code, code === INT64 ? [0n, 1n] : [0, 1], [2]), `one_hot|${code}`);
  const depth = typeof n === "number" ? b.int(n) : n;
  return tensorVal(b.op1("OneHot", [xv, depth, values], { axis: -1 }));
}

/** `cumsum(x, axis)`: running sums along an axis (as torch.cumsum). */
export function cumsum(call: BuiltinCall): CVal {
  const xv = tensorArg(call, "x");
  const axisArg = call.args.get("axis")!;
  const axis = normalizeAxis(num(axisArg, "`axis`")!, rankOf(xv), axisArg.span);
  return tensorVal(call.b.op1("CumSum", [xv, call.b.int(axis)]));
}

/**
 * `tril(x, k=0)` / `triu(x, k=0)`: the lower / upper triangle of the last two axes, from diagonal
 * `k` (as torch.tril / torch.triu), the rest zero. A position mask, so any element type and opset.
 */
export function triangle(part: "lower" | "upper"): (call: BuiltinCall) => CVal {
  return (call) => {
    const { b, span } = call;
    const xArg = call.args.get("x")!;
    const xv = call.ctx.tensor(xArg);
    const rank = rankOf(xv);
    if (rank !== null && rank < 2) fail("E0209", `\`${call.name}\` takes a tensor of at least 2 dimensions, not ${rank}`, xArg.span);
    const kArg = call.args.get("k");
    const k = num(kArg, "the diagonal `k`") ?? 0;
    if (!Number.isInteger(k)) fail("E0209", `the diagonal \`k\` must be an integer, not \`${k}\``, kArg!.span);
    const axis = (i: number) => (rank === null ? i : rank + i);
    const range = (ax: number) => b.op1("Range", [b.int(0), squeeze(b, dimOf(b, xv, ax), [0]), b.int(1)]);
    // column - row, as a [rows, cols] matrix
    const diff = b.op1("Sub", [unsqueeze(b, range(axis(-1)), [0]), unsqueeze(b, range(axis(-2)), [1])]);
    const keep = b.op1(part === "lower" ? "LessOrEqual" : "GreaterOrEqual", [diff, b.int(k)]);
    const zero = elemOf(xv) === BOOL ? b.constant(BOOL, [0], []) : literalFor(b, 0, xv, span);
    return tensorVal(b.op1("Where", [keep, xv, zero]));
  };
}
