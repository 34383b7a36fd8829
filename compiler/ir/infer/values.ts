// Known values of small tensors: the shapes, axes, pads and sizes exporters compute before a
// Reshape, Expand, Slice or Resize (`Shape → Gather → Unsqueeze → Concat`, with some arithmetic).
// Contents are flattened in C order; an entry is a number, a symbolic dimension (`batch`, which
// stands for some non-negative integer), or null. Constants are read by the driver; these rules
// compute node outputs from their inputs' contents. Rules answer null rather than guess.

import { DataType } from "../../onnx/index.js";
import type { Dim } from "../types.js";
import { product, sliceLength } from "./dims.js";
import { shapeRange } from "./generate.js";
import { isIntegral, MAX_CONTENT, tensorNumbers, type Content, type NodeCtx, type ValueRule } from "./context.js";

/** The element type of the node's output 0 (already inferred when contents are computed). */
const outElem = (c: NodeCtx): number => c.node.outputs[0]?.type?.elemType ?? 0;

/** Input i's contents, if it is a scalar or 1-D (flattened contents of higher ranks are not combined). */
function flat(c: NodeCtx, i: number): Content | null {
  const r = c.rank(i);
  return r !== null && r <= 1 ? c.content(i) : null;
}

/** Ranges of the integer types narrower than 53 bits (a value outside would wrap: unknown). */
const RANGES: Record<number, [number, number]> = {
  [DataType.INT8]: [-(2 ** 7), 2 ** 7 - 1], [DataType.UINT8]: [0, 2 ** 8 - 1], [DataType.INT16]: [-(2 ** 15), 2 ** 15 - 1],
  [DataType.UINT16]: [0, 2 ** 16 - 1], [DataType.INT32]: [-(2 ** 31), 2 ** 31 - 1], [DataType.UINT32]: [0, 2 ** 32 - 1],
};

/** A number as the element type holds it (float32 rounding, integer truncation), or null. */
function fit(x: number, elemType: number): number | null {
  if (!Number.isFinite(x)) return elemType === DataType.FLOAT || elemType === DataType.DOUBLE ? x : null;
  if (elemType === DataType.FLOAT) return Math.fround(x);
  if (elemType === DataType.DOUBLE) return x;
  if (elemType === DataType.BOOL) return x !== 0 ? 1 : 0;
  if (!isIntegral(elemType)) return null;
  const t = Math.trunc(x);
  const range = RANGES[elemType];
  return range && (t < range[0] || t > range[1]) ? null : t;
}

/** Types a symbolic dimension (a non-negative int64) converts to without changing its value. */
const HOLDS_SYMBOLS = new Set<number>([DataType.INT64, DataType.UINT64, DataType.INT32, DataType.UINT32, DataType.FLOAT, DataType.DOUBLE]);

type Binary = (a: Dim, b: Dim, elemType: number) => Dim;

/** An elementwise binary rule over scalars and 1-D contents (lengths equal, or one of them 1). */
function binary(f: Binary): ValueRule {
  return (c) => {
    const a = flat(c, 0);
    const b = flat(c, 1);
    if (!a || !b) return null;
    if (a.length !== b.length && a.length !== 1 && b.length !== 1) return null;
    const n = Math.max(a.length, b.length);
    const elemType = outElem(c);
    const out: Dim[] = [];
    for (let i = 0; i < n; i++) out.push(f(a[a.length === 1 ? 0 : i]!, b[b.length === 1 ? 0 : i]!, elemType));
    return out;
  };
}

/** Numbers only, rounded to the output type. */
function numeric(f: (a: number, b: number, elemType: number) => number): Binary {
  return (a, b, elemType) => (typeof a === "number" && typeof b === "number" ? fit(f(a, b, elemType), elemType) : null);
}

const BIG = 2 ** 62;

const add: Binary = (a, b, t) => (b === 0 ? a : a === 0 ? b : numeric((x, y) => x + y)(a, b, t));
const sub: Binary = (a, b, t) => (b === 0 ? a : a !== null && a === b ? 0 : numeric((x, y) => x - y)(a, b, t));
const mul: Binary = (a, b, t) => (b === 1 ? a : a === 1 ? b : numeric((x, y) => x * y)(a, b, t));
const div: Binary = (a, b, t) => (b === 1 ? a : numeric((x, y, e) => (y === 0 && isIntegral(e) ? NaN : x / y))(a, b, t));
const mod: (fmod: boolean) => Binary = (fmod) => numeric((x, y) => (y === 0 ? NaN : fmod ? x % y : x - y * Math.floor(x / y)));
/** A symbol is never negative: max(batch, 0) is batch, min(batch, 0) is 0. */
const max: Binary = (a, b, t) => {
  if (a !== null && a === b) return a;
  if (typeof a === "string" && typeof b === "number" && b <= 0) return a;
  if (typeof b === "string" && typeof a === "number" && a <= 0) return b;
  return numeric(Math.max)(a, b, t);
};
const min: Binary = (a, b, t) => {
  if (a !== null && a === b) return a;
  if (typeof a === "string" && typeof b === "number") return b <= 0 ? b : b >= BIG ? a : null;
  if (typeof b === "string" && typeof a === "number") return a <= 0 ? a : a >= BIG ? b : null;
  return numeric(Math.min)(a, b, t);
};
const equal: Binary = (a, b) => {
  if (typeof a === "number" && typeof b === "number") return a === b ? 1 : 0;
  if (a !== null && a === b) return 1;
  if ((typeof a === "string" && typeof b === "number" && b < 0) || (typeof b === "string" && typeof a === "number" && a < 0)) return 0;
  return null;
};
const compare = (f: (x: number, y: number) => boolean): Binary => (a, b) => (typeof a === "number" && typeof b === "number" ? (f(a, b) ? 1 : 0) : null);

function unary(f: (x: Dim, elemType: number) => Dim): ValueRule {
  return (c) => {
    const a = c.content(0);
    const elemType = outElem(c);
    return a ? a.map((x) => f(x, elemType)) : null;
  };
}

/** Integers (and symbols, which are integers) are unchanged by rounding. */
const rounding = (f: (x: number) => number) => unary((x, t) => (typeof x === "number" ? fit(f(x), t) : x));

const passThrough: ValueRule = (c) => c.content(0);

function cast(c: NodeCtx): Content | null {
  const a = c.content(0);
  const to = c.attrInt("to", 0);
  if (!a) return null;
  if (to === DataType.BOOL) return a.map((x) => (typeof x === "number" ? (x !== 0 ? 1 : 0) : null));
  // Symbols are integer values: casting them to a type that holds them keeps them.
  return a.map((x) => (typeof x === "number" ? fit(x, to) : HOLDS_SYMBOLS.has(to) ? x : null));
}

function shape(c: NodeCtx): Content | null {
  const s = c.shape(0);
  if (!s) return null;
  const [start, end] = shapeRange(c, s.length);
  return s.slice(start, end);
}

function gather(c: NodeCtx): Content | null {
  const data = flat(c, 0);
  const idx = c.numbers(1);
  if (!data || !idx || c.rank(0) !== 1 || (c.attrInt("axis", 0) !== 0 && c.attrInt("axis", 0) !== -1)) return null;
  const picked = idx.map((i) => data[i < 0 ? i + data.length : i]);
  return picked.some((d) => d === undefined) ? null : (picked as Dim[]);
}

function concat(c: NodeCtx): Content | null {
  const parts = c.node.inputs.map((_, i) => flat(c, i));
  if (parts.some((p) => p === null)) return null;
  const out = (parts as Content[]).flat();
  return out.length <= MAX_CONTENT ? out : null;
}

/** Input i's contents with its static shape (any rank), or null. */
function tensor(c: NodeCtx, i: number): { data: Content; shape: number[] } | null {
  const data = c.content(i);
  const shape = c.shape(i);
  if (!data || !shape || !shape.every((d): d is number => typeof d === "number")) return null;
  return shape.reduce((a, b) => a * b, 1) === data.length ? { data, shape } : null;
}

/** Row-major strides of a shape. */
function strides(shape: number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) out[i] = out[i + 1]! * shape[i + 1]!;
  return out;
}

/** Gather the elements at the cartesian product of per-axis index lists. */
function pick(data: Content, shape: number[], index: number[][]): Content {
  const st = strides(shape);
  const out: Dim[] = [];
  const walk = (axis: number, offset: number) => {
    if (axis === shape.length) {
      out.push(data[offset]!);
      return;
    }
    for (const i of index[axis]!) walk(axis + 1, offset + i * st[axis]!);
  };
  walk(0, 0);
  return out;
}

function slice(c: NodeCtx): Content | null {
  const t = tensor(c, 0);
  if (!t) return null;
  const old = c.hasAttr("starts");
  const starts = old ? c.attrInts("starts") : c.numbers(1);
  const ends = old ? c.attrInts("ends") : c.numbers(2);
  const rank = t.shape.length;
  const axes = old ? (c.attrInts("axes") ?? starts?.map((_, k) => k)) : c.has(3) ? c.numbers(3) : starts?.map((_, k) => k);
  const steps = !old && c.has(4) ? c.numbers(4) : starts?.map(() => 1);
  if (!starts || !ends || !axes || !steps || starts.length !== ends.length || axes.length !== starts.length || steps.length !== starts.length) return null;
  const index = t.shape.map((n) => Array.from({ length: n }, (_, i) => i));
  for (let k = 0; k < axes.length; k++) {
    const ax = axes[k]! < 0 ? axes[k]! + rank : axes[k]!;
    const step = steps[k]!;
    if (ax < 0 || ax >= rank || step === 0) return null;
    const n = t.shape[ax]!;
    const len = sliceLength(n, starts[k]!, ends[k]!, step);
    const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));
    const s = starts[k]! < 0 ? starts[k]! + n : starts[k]!;
    const first = step > 0 ? clamp(s, 0, n) : clamp(s, -1, n - 1);
    index[ax] = Array.from({ length: len }, (_, i) => first + i * step);
  }
  return pick(t.data, t.shape, index);
}

function transpose(c: NodeCtx): Content | null {
  const t = tensor(c, 0);
  if (!t) return null;
  const rank = t.shape.length;
  const perm = c.attrInts("perm") ?? t.shape.map((_, i) => rank - 1 - i);
  if (perm.length !== rank) return null;
  const st = strides(t.shape);
  const outShape = perm.map((p) => t.shape[p]!);
  const out: Dim[] = [];
  const walk = (axis: number, offset: number) => {
    if (axis === rank) {
      out.push(t.data[offset]!);
      return;
    }
    for (let i = 0; i < outShape[axis]!; i++) walk(axis + 1, offset + i * st[perm[axis]!]!);
  };
  walk(0, 0);
  return out;
}

function where(c: NodeCtx): Content | null {
  const [cond, x, y] = [flat(c, 0), flat(c, 1), flat(c, 2)];
  if (!cond || !x || !y) return null;
  const n = Math.max(cond.length, x.length, y.length);
  if ([cond, x, y].some((p) => p.length !== n && p.length !== 1)) return null;
  const at = (p: Content, i: number) => p[p.length === 1 ? 0 : i]!;
  return Array.from({ length: n }, (_, i) => {
    const k = at(cond, i);
    const [a, b] = [at(x, i), at(y, i)];
    return k === null || typeof k === "string" ? (a !== null && a === b ? a : null) : k !== 0 ? a : b;
  });
}

function constantOfShape(c: NodeCtx): Content | null {
  const dims = c.numbers(0);
  if (!dims) return null;
  const n = dims.reduce((x, y) => x * y, 1);
  if (n > MAX_CONTENT) return null;
  const t = c.attrTensor("value");
  const v = t ? tensorNumbers(t) : [0];
  return v && v.length === 1 ? new Array<Dim>(n).fill(v[0]!) : null;
}

function range(c: NodeCtx): Content | null {
  const [s, l, d] = [c.numbers(0), c.numbers(1), c.numbers(2)];
  if (s?.length !== 1 || l?.length !== 1 || d?.length !== 1 || d[0] === 0) return null;
  const n = Math.max(Math.ceil((l[0]! - s[0]!) / d[0]!), 0);
  if (n > MAX_CONTENT) return null;
  const elemType = outElem(c);
  return Array.from({ length: n }, (_, i) => fit(s[0]! + i * d[0]!, elemType));
}

function expand(c: NodeCtx): Content | null {
  const a = c.content(0);
  const target = c.numbers(1);
  if (!a || a.length !== 1 || !target || (c.rank(0) ?? Infinity) > target.length) return null;
  const n = target.reduce((x, y) => x * y, 1);
  return n <= MAX_CONTENT ? new Array<Dim>(n).fill(a[0]!) : null;
}

/** A reduction over all of a 1-D content (axes absent, or [0]). */
function reduce(f: (xs: Content, elemType: number) => Dim): ValueRule {
  return (c) => {
    const a = flat(c, 0);
    if (!a) return null;
    const axes = c.axes(1);
    if (c.hasAxes(1) && (!axes || (axes.length > 0 && axes.some((x) => x !== 0 && x !== -1)))) return null;
    return [f(a, outElem(c))];
  };
}

const allNumbers = (xs: Content): xs is number[] => xs.every((x) => typeof x === "number");

export const valueRules: Record<string, ValueRule> = {
  Identity: passThrough,
  Squeeze: passThrough,
  Unsqueeze: passThrough,
  Reshape: passThrough,
  Flatten: passThrough,
  Cast: cast,
  Shape: shape,
  Size: (c) => {
    const s = c.shape(0);
    return s ? [product(s)] : null;
  },
  Gather: gather,
  Concat: concat,
  Slice: slice,
  Transpose: transpose,
  Add: binary(add),
  Sub: binary(sub),
  Mul: binary(mul),
  Div: binary(div),
  Mod: (c) => binary(mod(c.attrInt("fmod", 0) === 1))(c),
  Max: binary(max),
  Min: binary(min),
  Equal: binary(equal),
  Less: binary(compare((x, y) => x < y)),
  LessOrEqual: binary(compare((x, y) => x <= y)),
  Greater: binary(compare((x, y) => x > y)),
  GreaterOrEqual: binary(compare((x, y) => x >= y)),
  And: binary(compare((x, y) => x !== 0 && y !== 0)),
  Or: binary(compare((x, y) => x !== 0 || y !== 0)),
  Not: unary((x) => (typeof x === "number" ? (x === 0 ? 1 : 0) : null)),
  Neg: unary((x, t) => (x === 0 ? 0 : typeof x === "number" ? fit(-x, t) : null)),
  Abs: unary((x, t) => (typeof x === "number" ? fit(Math.abs(x), t) : x)),
  Floor: rounding(Math.floor),
  Ceil: rounding(Math.ceil),
  // Round: half to even, as ONNX says.
  Round: rounding((x) => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x))),
  Where: where,
  ConstantOfShape: constantOfShape,
  Range: range,
  Expand: expand,
  ReduceProd: reduce((xs) => product(xs)),
  ReduceSum: reduce((xs, t) => (allNumbers(xs) ? fit(xs.reduce((x, y) => x + y, 0), t) : null)),
  ReduceMax: reduce((xs) => (allNumbers(xs) && xs.length > 0 ? Math.max(...xs) : null)),
  ReduceMin: reduce((xs) => (allNumbers(xs) && xs.length > 0 ? Math.min(...xs) : null)),
};
