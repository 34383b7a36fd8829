// Arithmetic on dimensions. A dimension is a number when static, a symbolic name (`batch`) when
// named, null when unknown. A symbol stands for one fixed non-negative integer: two equal names
// are the same value, two different names may or may not be. Every function here answers null
// rather than guess.

import type { Dim } from "../types.js";

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** A valid axis in [0, rank), or null. */
export function axisIn(axis: number, rank: number): number | null {
  const a = normAxis(axis, rank);
  return a >= 0 && a < rank ? a : null;
}

/**
 * numpy-style broadcast of shapes; null when a rank is unknown. Per output dimension: a static
 * dimension other than 1 wins (the others must be 1 or equal to it); else the non-1 dimensions
 * must agree, and they do when they are one symbol, possibly met with unknown dimensions (an
 * unknown dimension next to `seq` is taken to be `seq` or 1, as ONNX Runtime's symbolic shape
 * inference does); two different symbols give an unknown dimension.
 */
export function broadcastShapes(shapes: (Dim[] | null)[]): Dim[] | null {
  if (shapes.some((s) => s === null)) return null;
  const known = shapes as Dim[][];
  const rank = Math.max(0, ...known.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const dims: Dim[] = [];
    for (const s of known) {
      const d = s[s.length - rank + i];
      if (d !== undefined && d !== 1) dims.push(d);
    }
    out.push(broadcastDim(dims));
  }
  return out;
}

/** One broadcast dimension from the non-1 dimensions met there. */
function broadcastDim(dims: Dim[]): Dim {
  if (dims.length === 0) return 1;
  const stat = dims.find((d) => typeof d === "number");
  if (stat !== undefined) return stat;
  const syms = new Set(dims.filter((d) => d !== null));
  return syms.size === 1 ? [...syms][0]! : null;
}

/** Two dimensions the model requires to be equal (Concat's other axes, MatMul's inner one). */
export function unifyDim(a: Dim | undefined, b: Dim | undefined): Dim {
  if (typeof a === "number") return a;
  if (typeof b === "number") return b;
  return a ?? b ?? null;
}

/** Dimensions that may differ (the branches of an If): kept only when they agree. */
export function joinDim(a: Dim | undefined, b: Dim | undefined): Dim {
  return a !== undefined && a !== null && a === b ? a : null;
}

export function joinShapes(a: Dim[] | null, b: Dim[] | null): Dim[] | null {
  if (!a || !b || a.length !== b.length) return null;
  return a.map((d, i) => joinDim(d, b[i]));
}

/** Product of dimensions: a number, a single symbol (times 1), or null. */
export function product(dims: readonly Dim[]): Dim {
  let n = 1;
  let sym: string | null = null;
  for (const d of dims) {
    if (typeof d === "number") n *= d;
    else if (d === null || sym !== null) return null;
    else sym = d;
  }
  if (sym === null) return n;
  return n === 1 ? sym : n === 0 ? 0 : null;
}

/** `a + b` when it can be known (`batch + 0` is `batch`). */
export function addDim(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a + b;
  if (b === 0) return a;
  if (a === 0) return b;
  return null;
}

/** `a * b` when it can be known (`batch * 1` is `batch`). */
export function mulDim(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a * b;
  if (b === 1) return a;
  if (a === 1) return b;
  if (a === 0 || b === 0) return 0;
  return null;
}

/** `a / b` for a dimension known to divide (`batch / 1` is `batch`); null when it does not. */
export function divDim(a: Dim, b: Dim): Dim {
  if (b === 1) return a;
  if (typeof a === "number" && typeof b === "number") return b !== 0 && a % b === 0 ? a / b : null;
  return null;
}

/** Length of `range(start, end, step)` over a dimension of size n, with ONNX Slice's clamping. */
export function sliceLength(n: number, start: number, end: number, step: number): number {
  const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));
  if (step > 0) {
    const s = clamp(start < 0 ? start + n : start, 0, n);
    const e = clamp(end < 0 ? end + n : end, 0, n);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  const s = clamp(start < 0 ? start + n : start, -1, n - 1);
  const e = clamp(end < 0 ? end + n : end, -1, n - 1);
  return Math.max(0, Math.ceil((e - s) / step));
}

/**
 * Slice of a dimension that may be symbolic: exact for static ones, and the whole dimension for
 * `[0:end:1]` with `end` past it (INT64_MAX, or the dimension itself read back by `Shape`).
 */
export function sliceDim(n: Dim, start: Dim, end: Dim, step: Dim): Dim {
  if (typeof n === "number" && typeof start === "number" && typeof end === "number" && typeof step === "number" && step !== 0) {
    return sliceLength(n, start, end, step);
  }
  if (n !== null && start === 0 && step === 1 && (end === n || (typeof end === "number" && end >= 2 ** 31 - 1))) return n;
  return null;
}

/** The factor `-1` stands for in a Reshape: input dims divided by the other target dims. */
export function reshapeRest(input: readonly Dim[], others: readonly (Dim | { copy: number })[]): Dim {
  // Unknown input dims are factors of their own, cancelled only by a `0` copying the same place.
  const num: (number | string)[] = input.map((d, i) => (d === null ? `#${i}` : d));
  const den: (number | string)[] = [];
  for (const o of others) {
    if (o !== null && typeof o === "object") den.push(input[o.copy] === null ? `#${o.copy}` : input[o.copy]!);
    else if (o === null) return null;
    else den.push(o);
  }
  let n = 1;
  let d = 1;
  const syms = new Map<string, number>();
  for (const f of num) {
    if (typeof f === "number") n *= f;
    else syms.set(f, (syms.get(f) ?? 0) + 1);
  }
  for (const f of den) {
    if (typeof f === "number") d *= f;
    else {
      const c = syms.get(f) ?? 0;
      if (c === 0) return null;
      syms.set(f, c - 1);
    }
  }
  const left = [...syms.entries()].filter(([, c]) => c > 0);
  if (left.length === 0) return d !== 0 && n % d === 0 ? n / d : null;
  if (left.length === 1 && left[0]![1] === 1 && n === d && !left[0]![0].startsWith("#")) return left[0]![0];
  return null;
}
