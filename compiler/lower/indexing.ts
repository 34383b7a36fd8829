// Reading with numpy-style indices: `x[0]`, `x[:, -1, :]`, `x[..., 0:10]`, `x[1:3:2]` (basic
// indexing: compile-time integers and slices), and integer tensors as indices with NumPy's
// advanced-indexing rules (`x[arange(2), pos]`, `x[:, idx]`). Dimensions may be dynamic (batch and
// sequence). patching.ts writes through the same indices (partial patches).

import { fail, type Span } from "../../common/index.js";
import type { Value } from "../ir/index.js";
import { BOOL, INT64, type Builder } from "./builder.js";
import { checkBroadcast, dimOf, elemName, elemOf, INT64_MAX, INT64_MIN, isIntType, rankOf, shapeOf, squeeze, unsqueeze } from "./ops.js";

export type IndexItem =
  | { kind: "int"; value: number; span: Span }
  /** Bounds are compile-time integers, or int64 scalars known at run time (`x[:, start:]`, `x[:, 0:x.shape[1] - 1]`). */
  | { kind: "slice"; start: Bound; stop: Bound; step: number | null; span: Span }
  | { kind: "ellipsis"; span: Span }
  | { kind: "tensor"; value: Value; span: Span };

export type Bound = number | Value | null;

export type AxisItem = Exclude<IndexItem, { kind: "ellipsis" }>;

/** An index item with the axis it applies to. */
export interface Placed {
  axis: number;
  item: AxisItem;
}

/**
 * Assign each item its axis: items before `...` count from 0, items after it from the end (as
 * negative axes while the rank is unknown, as axes from 0 when it is known).
 */
export function placeItems(items: IndexItem[], rank: number | null, span: Span): Placed[] {
  const ell = items.findIndex((i) => i.kind === "ellipsis");
  if (items.filter((i) => i.kind === "ellipsis").length > 1) fail("E0206", "an index can have only one `...`", span);
  const before = ell < 0 ? items : items.slice(0, ell);
  const after = ell < 0 ? [] : items.slice(ell + 1);
  if (rank !== null && before.length + after.length > rank) {
    fail("E0206", `too many indices (${before.length + after.length}) for a tensor of rank ${rank}`, span);
  }
  const out: Placed[] = [];
  before.forEach((item, i) => out.push({ axis: i, item: item as AxisItem }));
  after.forEach((item, i) => out.push({ axis: rank !== null ? rank - after.length + i : i - after.length, item: item as AxisItem }));
  return out;
}

export function fullSlice(span: Span): AxisItem {
  return { kind: "slice", start: null, stop: null, step: null, span };
}

export function isFull(item: AxisItem): boolean {
  return item.kind === "slice" && item.start === null && item.stop === null && (item.step === null || item.step === 1);
}

/** Indices and slice bounds past a static dimension are errors at compile time. */
export function checkStatic(x: Value, { axis, item }: Placed): void {
  const shape = shapeOf(x);
  const n = shape && axis >= 0 ? shape[axis] : null;
  if (item.kind === "slice" && item.step === 0) fail("E0206", "slice step cannot be zero", item.span);
  if (typeof n !== "number") return;
  if (item.kind === "int" && (item.value >= n || item.value < -n)) {
    fail("E0206", `index ${item.value} is out of range for dimension ${axis} of size ${n}`, item.span, `indices go from ${-n} to ${n - 1}`);
  }
  if (item.kind === "slice") {
    for (const bound of [item.start, item.stop]) {
      if (typeof bound === "number" && (bound > n || bound < -n)) {
        fail("E0206", `slice bound ${bound} is past dimension ${axis} of size ${n}`, item.span, `bounds go from ${-n} to ${n}`);
      }
    }
  }
}

/** Whether a slice's bounds are all compile-time numbers. */
export function staticSlice(item: AxisItem): item is Extract<AxisItem, { kind: "slice" }> & { start: number | null; stop: number | null } {
  return item.kind === "slice" && isStatic(item.start) && isStatic(item.stop);
}

export function isStatic(bound: Bound): bound is number | null {
  return bound === null || typeof bound === "number";
}

/** The Slice bounds of an int or slice item (an int `i` is `i:i+1`); a run-time bound stays a Value. */
export function sliceBounds(item: AxisItem): [bigint | Value, bigint | Value, bigint] {
  if (item.kind === "int") return [BigInt(item.value), item.value === -1 ? INT64_MAX : BigInt(item.value + 1), 1n];
  if (item.kind !== "slice") throw new Error("not a slice");
  const step = item.step ?? 1;
  const bound = (x: Bound, dflt: bigint) => (x === null ? dflt : typeof x === "number" ? BigInt(x) : x);
  const start = bound(item.start, step > 0 ? 0n : INT64_MAX);
  const stop = bound(item.stop, step > 0 ? INT64_MAX : INT64_MIN);
  return [start, stop, BigInt(step)];
}

/** The positions `start:stop:step` selects from `n` (Python's rules for lists and slices). */
export function sliceIndices(n: number, start: number | null, stop: number | null, step: number | null): number[] {
  const s = step ?? 1;
  const norm = (x: number) => (x < 0 ? Math.max(x + n, s > 0 ? 0 : -1) : Math.min(x, s > 0 ? n : n - 1));
  const a = start === null ? (s > 0 ? 0 : n - 1) : norm(start);
  const b = stop === null ? (s > 0 ? n : -1) : norm(stop);
  const out: number[] = [];
  if (s > 0) for (let i = a; i < b; i += s) out.push(i);
  else for (let i = a; i > b; i += s) out.push(i);
  return out;
}

/** `x[items]`: basic indexing (Slice and Gather), or NumPy's advanced indexing when a tensor is among the items. */
export function indexTensor(b: Builder, x: Value, items: IndexItem[], span: Span): Value {
  const rank = rankOf(x);
  const placed = placeItems(items, rank, span);
  placed.forEach((p) => checkStatic(x, p));
  if (placed.some((p) => p.item.kind === "tensor")) return advancedIndex(b, x, placed, span);
  return basicIndex(b, x, placed);
}

/** Slices (one Slice node), then integer indices (Gathers, which drop their axes). */
export function basicIndex(b: Builder, x: Value, placed: Placed[]): Value {
  let out = sliceAll(b, x, placed);
  // An integer index is a Gather (not a Slice) so that an index past a dimension only known at
  // run time fails there — onnxruntime reports it against this script line — instead of selecting
  // nothing. Axes are removed so that the others keep their numbers: negative ones from the most
  // negative, then positive ones from the highest.
  const ints = placed.filter((p) => p.item.kind === "int");
  const order = [...ints.filter((p) => p.axis < 0).sort((p, q) => p.axis - q.axis), ...ints.filter((p) => p.axis >= 0).sort((p, q) => q.axis - p.axis)];
  for (const p of order) out = b.op1("Gather", [out, b.int((p.item as { value: number }).value)], { axis: p.axis });
  return out;
}

/** Every slice item that selects less than its whole axis, as one Slice node. */
function sliceAll(b: Builder, x: Value, placed: Placed[]): Value {
  const sliced = placed.filter((p) => p.item.kind === "slice" && !isFull(p.item));
  if (sliced.length === 0) return x;
  const bounds = sliced.map((p) => sliceBounds(p.item));
  const vec = (k: number) => boundVector(b, bounds.map((bd) => bd[k]!));
  return b.op1("Slice", [x, vec(0), vec(1), b.ints(sliced.map((p) => p.axis)), vec(2)]);
}

/** Slice bounds as one int64 vector: a constant, or a Concat where some are known at run time only. */
export function boundVector(b: Builder, bounds: (bigint | Value)[]): Value {
  if (bounds.every((x) => typeof x === "bigint")) return b.constant(INT64, bounds as bigint[], [bounds.length]);
  return b.op1("Concat", bounds.map((x) => (typeof x === "bigint" ? b.constant(INT64, [x], [1]) : b.op1("Reshape", [x, b.ints([1])]))), { axis: 0 });
}

// --- advanced indexing ---------------------------------------------------------------------------

/**
 * The advanced indices of `x[items]` (integer tensors, and the integers among them), NumPy's way:
 * they broadcast together to one shape B; `indices` is [...B, k] for GatherND / ScatterND over
 * the k indexed axes moved to the front (`perm`). Negative indices wrap at run time.
 */
export interface Advanced {
  /** The indexed axes, in order. */
  axes: number[];
  /** `x`'s axes with the indexed ones first (identity when they already are). */
  perm: number[];
  indices: Value;
  /** The rank of the broadcast index shape B. */
  rankB: number;
  /** Where the B dimensions go in the result: in place of the first indexed axis when the indexed axes are adjacent, else first. */
  at: number;
}

export function advancedIndices(b: Builder, x: Value, placed: Placed[], span: Span): Advanced {
  const rank = rankOf(x);
  if (rank === null) fail("E0206", "indexing with a tensor needs a tensor of known rank", span, "index in two steps, or `reshape` the tensor first");
  const adv = placed.filter((p) => p.item.kind === "int" || p.item.kind === "tensor");
  const axes = adv.map((p) => p.axis);
  const idx = adv.map((p) => indexValue(b, x, p));
  const ranks = idx.map(rankOf);
  if (ranks.some((r) => r === null)) fail("E0206", "an index tensor of unknown rank", adv[ranks.indexOf(null)]!.item.span, "give the index a known shape, e.g. through a `param` with dimensions");
  checkBroadcast(idx.map(shapeOf), span);
  const rankB = Math.max(...(ranks as number[]));
  // All index tensors broadcast to one shape, then stacked along a new last axis.
  let expanded = idx;
  if (idx.length > 1) {
    const common = b.op1("Shape", [idx.reduce((acc, i) => b.op1("Add", [acc, i]))]);
    expanded = idx.map((i) => b.op1("Expand", [i, common]));
  }
  const columns = expanded.map((i) => unsqueeze(b, i, [-1]));
  const indices = columns.length === 1 ? columns[0]! : b.op1("Concat", columns, { axis: -1 });
  const rest = Array.from({ length: rank }, (_, i) => i).filter((i) => !axes.includes(i));
  const adjacent = axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1);
  return { axes, perm: [...axes, ...rest], indices, rankB, at: adjacent ? axes[0]! : 0 };
}

/** One advanced index as int64, negative values wrapped (at run time when the dimension is dynamic) unless `wrap` is false. */
function indexValue(b: Builder, x: Value, p: Placed, wrap = true): Value {
  if (p.item.kind === "int") {
    const n = shapeOf(x)?.[p.axis];
    if (p.item.value >= 0) return b.int(p.item.value);
    if (typeof n === "number") return b.int(p.item.value + n);
    return b.op1("Add", [b.int(p.item.value), squeeze(b, dimOf(b, x, p.axis), [0])]);
  }
  const t = (p.item as { value: Value }).value;
  const et = elemOf(t);
  if (et === BOOL) fail("E0206", "a boolean tensor is not an index here", p.item.span, "keep the shape with `where(mask, x, 0)`, or patch with `REF = where(mask, v, REF)`");
  if (et !== 0 && !isIntType(et)) fail("E0206", `an index tensor must hold integers, not ${elemName(et)}`, p.item.span, "convert it: `cast(i, \"int64\")`");
  const i = et === INT64 || et === 0 ? t : b.op1("Cast", [t], { to: INT64 });
  if (!wrap) return i;
  const n = squeeze(b, dimOf(b, x, p.axis), [0]);
  return b.op1("Where", [b.op1("Less", [i, b.int(0)]), b.op1("Add", [i, n]), i]);
}

/** Move the B dimensions of a [...B, ...rest] tensor to `at` (from the front) or back (`back`). */
export function placeB(b: Builder, t: Value, adv: Advanced, restRank: number, back = false): Value {
  if (adv.at === 0) return t;
  const r = adv.rankB;
  const total = r + restRank;
  const front = Array.from({ length: total }, (_, i) => i);
  // [...B, ...rest] → [rest[0:at], ...B, rest[at:]]
  const perm = [...front.slice(r, r + adv.at), ...front.slice(0, r), ...front.slice(r + adv.at)];
  return b.op1("Transpose", [t], { perm: back ? inverse(perm) : perm });
}

export function inverse(perm: number[]): number[] {
  const out = new Array<number>(perm.length);
  perm.forEach((p, i) => (out[p] = i));
  return out;
}

export function isIdentity(perm: number[]): boolean {
  return perm.every((p, i) => p === i);
}

/** `x[items]` with integer tensors among the items (NumPy's advanced indexing). */
function advancedIndex(b: Builder, x: Value, placed: Placed[], span: Span): Value {
  const rank = rankOf(x);
  const advCount = placed.filter((p) => p.item.kind === "int" || p.item.kind === "tensor").length;
  // One tensor index alone is a Gather: its dimensions replace the axis (Gather wraps negative indices).
  if (advCount === 1) {
    const p = placed.find((q) => q.item.kind === "tensor")!;
    const axis = rank !== null && p.axis < 0 ? p.axis + rank : p.axis;
    return b.op1("Gather", [sliceAll(b, x, placed), indexValue(b, x, { axis, item: p.item }, false)], { axis });
  }
  const norm = placed.map((p) => ({ ...p, axis: p.axis < 0 && rank !== null ? p.axis + rank : p.axis }));
  const sliced = sliceAll(b, x, norm);
  const adv = advancedIndices(b, sliced, norm, span);
  const moved = isIdentity(adv.perm) ? sliced : b.op1("Transpose", [sliced], { perm: adv.perm });
  const gathered = b.op1("GatherND", [moved, adv.indices]);
  return placeB(b, gathered, adv, rank! - adv.axes.length);
}
