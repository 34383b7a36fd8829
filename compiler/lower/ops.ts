// Tensor operations as ONNX nodes at the model's opset (13 and later). Each function checks what
// it can at compile time — element types, static shapes, ranks — and fails with a diagnostic
// pointing at the script rather than letting onnxruntime fail later.

import { DataType, elemTypeLabel, fail, type Span } from "../../common/index.js";
import { formatShape, type Dim, type Value } from "../ir/index.js";
import { BOOL, FLOAT, INT64, type Builder, typeOfValue } from "./builder.js";

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

const { FLOAT16, DOUBLE, BFLOAT16, UINT8, INT8, UINT16, INT16, INT32, UINT32, UINT64 } = DataType;
const FLOATS = new Set<number>([FLOAT, FLOAT16, DOUBLE, BFLOAT16]);
const INTS = new Set<number>([UINT8, INT8, UINT16, INT16, INT32, INT64, UINT32, UINT64]);

export function isFloatType(t: number): boolean {
  return FLOATS.has(t);
}
export function isIntType(t: number): boolean {
  return INTS.has(t);
}

/** `float32`, or `type N` for a code the element-type table does not know. */
export const elemName = elemTypeLabel;

export function elemOf(v: Value): number {
  return typeOfValue(v)?.elemType ?? 0;
}

export function shapeOf(v: Value): Dim[] | null {
  return typeOfValue(v)?.shape ?? null;
}

export function rankOf(v: Value): number | null {
  return shapeOf(v)?.length ?? null;
}

/** A number combined with a tensor takes the tensor's element type. */
export function literalFor(b: Builder, value: number, like: Value, span: Span): Value {
  const t = elemOf(like) || FLOAT;
  if (isIntType(t) && !Number.isInteger(value)) {
    fail("E0204", `\`${value}\` is not an integer, but the tensor it combines with is ${elemName(t)}`, span, "convert the tensor first: `cast(x, \"float32\")`");
  }
  if (t === BOOL) return b.constant(BOOL, [value ? 1 : 0], []);
  return t === INT64 ? b.constant(INT64, [BigInt(value)], []) : b.scalar(t, value);
}

export function checkSameElem(a: Value, b: Value, what: string, span: Span): void {
  const ta = elemOf(a);
  const tb = elemOf(b);
  if (ta && tb && ta !== tb) {
    fail("E0204", `${what}: element types differ (${elemName(ta)} and ${elemName(tb)})`, span, `convert one side with \`cast(x, "${elemName(ta)}")\``);
  }
}

export function checkBroadcast(shapes: (Dim[] | null)[], span: Span): void {
  const known = shapes.filter((s): s is Dim[] => s !== null);
  if (known.length < 2) return;
  const rank = Math.max(...known.map((s) => s.length));
  for (let i = 0; i < rank; i++) {
    let seen: number | null = null;
    for (const s of known) {
      const d = s[s.length - rank + i];
      if (typeof d !== "number" || d === 1) continue;
      if (seen === null) seen = d;
      else if (seen !== d) fail("E0203", `shapes ${known.map(formatShape).join(" and ")} do not broadcast`, span, "numpy broadcasting: trailing dimensions must be equal or 1");
    }
  }
}

const BINARY_OPS: Record<string, string> = { "+": "Add", "-": "Sub", "*": "Mul", "/": "Div", "**": "Pow", "@": "MatMul", "<": "Less", "<=": "LessOrEqual", ">": "Greater", ">=": "GreaterOrEqual", "==": "Equal", "!=": "Equal" };

export function binary(b: Builder, op: string, x: Value, y: Value, span: Span): Value {
  const onnxOp = BINARY_OPS[op]!;
  if (op !== "**") checkSameElem(x, y, `\`${op}\``, span);
  if (op === "@") {
    const sx = shapeOf(x);
    const sy = shapeOf(y);
    if (sx && sy && sx.length >= 1 && sy.length >= 1) {
      const k1 = sx[sx.length - 1];
      const k2 = sy.length === 1 ? sy[0] : sy[sy.length - 2];
      if (typeof k1 === "number" && typeof k2 === "number" && k1 !== k2) {
        fail("E0203", `\`@\` of ${formatShape(sx)} and ${formatShape(sy)}: inner dimensions ${k1} and ${k2} differ`, span);
      }
    }
    return b.op1("MatMul", [x, y]);
  }
  checkBroadcast([shapeOf(x), shapeOf(y)], span);
  if (op === "**" && elemOf(y) !== elemOf(x) && elemOf(y) !== 0 && elemOf(x) !== 0) {
    // Pow allows a different exponent type, but keep it simple and predictable.
    y = b.op1("Cast", [y], { to: elemOf(x) });
  }
  const out = b.op1(onnxOp, [x, y]);
  return op === "!=" ? b.op1("Not", [out]) : out;
}

export function unary(b: Builder, opType: string, x: Value): Value {
  return b.op1(opType, [x]);
}

export function normalizeAxis(axis: number, rank: number | null, span: Span): number {
  if (rank === null) return axis;
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail("E0205", `axis ${axis} is out of range for a tensor of rank ${rank}`, span, `axes go from ${-rank} to ${rank - 1}`);
  return a;
}

/** Reductions: `ReduceMean` and friends, with axes as attribute or input depending on the opset. */
export function reduce(b: Builder, opType: string, x: Value, axes: number[] | null, keepdims: boolean, span: Span): Value {
  const rank = rankOf(x);
  if (axes) axes.forEach((a) => normalizeAxis(a, rank, span));
  const axesAsInput = opType === "ReduceSum" ? b.opset >= 13 : b.opset >= 18;
  const attrs: Record<string, number | number[]> = { keepdims: keepdims ? 1 : 0 };
  if (axesAsInput) return b.op1(opType, axes ? [x, b.ints(axes)] : [x], attrs);
  if (axes) attrs.axes = axes;
  return b.op1(opType, [x], attrs);
}

export function unsqueeze(b: Builder, x: Value, axes: number[]): Value {
  return b.opset >= 13 ? b.op1("Unsqueeze", [x, b.ints(axes)]) : b.op1("Unsqueeze", [x], { axes });
}

export function squeeze(b: Builder, x: Value, axes: number[]): Value {
  return b.opset >= 13 ? b.op1("Squeeze", [x, b.ints(axes)]) : b.op1("Squeeze", [x], { axes });
}

/** `Shape(x)[axis]` as a 1-element int64 tensor (dynamic dimensions work). */
export function dimOf(b: Builder, x: Value, axis: number): Value {
  const s = shapeOf(x)?.[axis];
  if (typeof s === "number") return b.ints([s]);
  return b.opset >= 15 ? b.op1("Shape", [x], { start: axis, end: axis + 1 }) : b.op1("Gather", [b.op1("Shape", [x]), b.ints([axis])], { axis: 0 });
}
