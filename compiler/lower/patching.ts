// Partial patches, `x[items] = v` and `x[items] += v`: a new tensor equal to `x` except where the
// indices select, which hold the patched value. Dimensions may be dynamic (batch and sequence), so
// basic indices are written through a position mask and a gather map computed at run time, never
// from a static size; integer tensors as indices (NumPy's advanced indexing) through ScatterND.
//
// Generation without a KV cache recomputes the whole sequence at each step. A patch indexed along
// the sequence axis then takes a `SequenceWindow`: the positions before the prompt's end are
// selected as the index selects them within the prompt, and every later position when the index
// selects anything from a sequence of one position — so each position is patched as it was when a
// cached model first computed it (docs/language.md, Generation).

import { fail, type Span } from "../../common/index.js";
import { formatShape, type Dim, type Value } from "../ir/index.js";
import { BOOL, INT64, makeTensor, type Builder } from "./builder.js";
import {
  advancedIndices, basicIndex, boundVector, checkStatic, fullSlice, inverse, isFull, isIdentity, placeB, placeItems, sliceBounds, sliceIndices,
  staticSlice,
  type IndexItem, type Placed,
} from "./indexing.js";
import { binary, checkSameElem, dimOf, elemName, elemOf, rankOf, shapeOf, squeeze, unsqueeze } from "./ops.js";

/** How a patch combines with the value it replaces: `=`, or the operator of `+=`, `-=`, `*=`, `/=`. */
export type PatchOp = "=" | "+" | "-" | "*" | "/";

/** The sequence axis of a patched tensor and the prompt's length (an int64 scalar), for generation without a cache. */
export interface SequenceWindow {
  axis: number;
  /** The prompt's length; created on first use (only patches that index the sequence axis need it). */
  promptLength: () => Value;
}

/**
 * `x[items] op= v`: `x` with the selected positions replaced by `v` (`=`) or by their value
 * combined with `v`. `window`: the sequence axis, when `x` has one (see above).
 */
export function patchTensor(b: Builder, x: Value, items: IndexItem[], op: PatchOp, v: Value, span: Span, window: SequenceWindow | null = null): Value {
  const rank = rankOf(x);
  if (rank === null) fail("E0207", "a partial patch needs a tensor of known rank", span, "patch the whole tensor instead (`REF = where(mask, v, REF)` selects elementwise)");
  const placed = placeItems(items, rank, span).map((p) => ({ ...p, axis: p.axis < 0 ? p.axis + rank : p.axis }));
  placed.forEach((p) => checkStatic(x, p));
  checkSameElem(x, v, "patch", span);
  if (elemOf(v) === 0 && elemOf(x) !== 0) fail("E0207", `the value has no known element type; expected ${elemName(elemOf(x))}`, span, `convert it: \`cast(v, "${elemName(elemOf(x))}")\``);
  const mask = placed.find((p) => p.item.kind === "tensor" && elemOf(p.item.value) === BOOL);
  if (mask) {
    fail("E0207", "a boolean mask as the index of a patch (NumPy's `x[mask] = v`) is not supported", mask.item.span,
      "patch the whole tensor where the mask holds: `REF = where(mask, v, REF)` (with `mask` of the tensor's shape, or one that broadcasts to it)");
  }
  if (placed.some((p) => p.item.kind === "tensor")) return advancedPatch(b, x, placed, op, v, span);
  if (window) {
    const windowed = windowedPatch(b, x, placed, op, v, span, window);
    if (windowed) return windowed;
  }
  const region = basicIndex(b, x, placed);
  return scatterBasic(b, x, placed, combine(b, op, region, v, span));
}

function combine(b: Builder, op: PatchOp, region: Value, v: Value, span: Span): Value {
  const value = fitRank(b, op === "=" ? v : binary(b, op, region, v, span), rankOf(region));
  checkFits(shapeOf(value), shapeOf(region), span);
  return value;
}

/** Leading dimensions of size 1 past the region's rank are dropped, as NumPy does in an assignment (`x[1] = y[0:1]`). */
function fitRank(b: Builder, v: Value, rank: number | null): Value {
  const shape = shapeOf(v);
  if (rank === null || !shape || shape.length <= rank) return v;
  const extra = shape.length - rank;
  // A dimension known only at run time is squeezed there (Squeeze fails unless it is 1).
  if (!shape.slice(0, extra).every((d) => d === 1 || typeof d !== "number")) return v;
  return squeeze(b, v, Array.from({ length: extra }, (_, i) => i));
}

/** A patch's value must broadcast to the indexed region without changing its shape. */
function checkFits(value: Dim[] | null, region: Dim[] | null, span: Span): void {
  if (!value || !region) return;
  const offset = region.length - value.length;
  const fits = offset >= 0 && value.every((d, i) => d === 1 || typeof d !== "number" || typeof region[offset + i] !== "number" || d === region[offset + i]);
  if (!fits) {
    fail("E0203", `the value has shape ${formatShape(value)}, which does not broadcast to the indexed part's shape ${formatShape(region)}`, span,
      "a partial patch's value broadcasts to the part the index selects (`REF[:, -1, :] = v` with `v` of shape [d] or [batch, d])");
  }
}

/**
 * Write `value` (broadcast to the shape of `x[placed]`) into the positions `placed` selects.
 * `extra`: one more axis mask (a 1-D boolean tensor along `axis`) that must hold as well.
 */
function scatterBasic(b: Builder, x: Value, placed: Placed[], v: Value, extra: { axis: number; mask: Value } | null = null): Value {
  const rank = rankOf(x)!;
  // The value, broadcast to the shape of x[items], then with the int-indexed axes put back.
  const region = basicIndex(b, x, placed);
  let value = b.op1("Expand", [v, b.op1("Shape", [region])]);
  const intAxes = placed.filter((p) => p.item.kind === "int").map((p) => p.axis);
  if (intAxes.length > 0) value = unsqueeze(b, value, intAxes);

  let mask: Value | null = null;
  const axisMask = (m: Value, axis: number) => b.op1("Reshape", [m, b.ints(Array.from({ length: rank }, (_, i) => (i === axis ? -1 : 1)))]);
  for (const p of placed) {
    if (isFull(p.item)) continue;
    const n = dimOf(b, x, p.axis); // [1] int64
    const positions = b.op1("Range", [b.int(0), squeeze(b, n, [0]), b.int(1)]);
    const selected = selectPositions(b, positions, p);
    const m = positionMask(b, n, selected);
    if (p.item.kind === "slice") {
      // Position i along this axis takes element inverse[i] of the value (meaningful where
      // selected). The value gets one padding element at the end of the axis, so that a slice
      // that selects nothing at run time (positions 1:3 of a one-position pass) is a patch of
      // nothing, not a Gather from an empty axis.
      const zeros = b.op1("ConstantOfShape", [n], { value: makeTensor(INT64, [0n], [1]) });
      const count = squeeze(b, b.op1("Shape", [selected]), [0]);
      const order = b.op1("Range", [b.int(0), count, b.int(1)]);
      const inverseMap = b.op1("ScatterElements", [zeros, selected, order], { axis: 0 });
      value = b.op1("Gather", [padAxis(b, value, p.axis), inverseMap], { axis: p.axis });
    }
    mask = mask ? b.op1("And", [mask, axisMask(m, p.axis)]) : axisMask(m, p.axis);
  }
  if (extra) mask = mask ? b.op1("And", [mask, axisMask(extra.mask, extra.axis)]) : axisMask(extra.mask, extra.axis);
  if (!mask) return value; // every item was `:`: the whole tensor
  return b.op1("Where", [mask, value, x]);
}

/** The positions an int or slice item selects among `positions` (a Range). */
function selectPositions(b: Builder, positions: Value, p: Placed): Value {
  const [start, stop, step] = sliceBounds(p.item);
  return b.op1("Slice", [positions, boundVector(b, [start]), boundVector(b, [stop]), b.ints([0]), b.constant(INT64, [step], [1])]);
}

/** A boolean vector of length `n` ([1] int64), true at `selected`. */
function positionMask(b: Builder, n: Value, selected: Value): Value {
  const falses = b.op1("ConstantOfShape", [n], { value: makeTensor(BOOL, [0], [1]) });
  const trues = b.op1("ConstantOfShape", [b.op1("Shape", [selected])], { value: makeTensor(BOOL, [1], [1]) });
  return b.op1("ScatterElements", [falses, selected, trues], { axis: 0 });
}

/** `t` with one more element (a zero) at the end of `axis`. */
function padAxis(b: Builder, t: Value, axis: number): Value {
  const shape = b.op1("Shape", [t]);
  const one = b.op1("ScatterElements", [shape, b.ints([axis]), b.ints([1])], { axis: 0 });
  const et = elemOf(t) || 1;
  const zero = b.op1("ConstantOfShape", [one], { value: makeTensor(et, et === INT64 ? [0n] : [0], [1]) });
  return b.op1("Concat", [t, zero], { axis });
}

// --- the sequence window (generation without a cache) ----------------------------------------------

/**
 * A patch indexed along the sequence axis, with the window's positions: its value is computed for
 * every position of the axis (`x OP v`, or `v` broadcast), and written where the window mask
 * holds. Null when the value varies along the axis (`REF[:, 1:3] = w[:, 1:3]`): such a patch is
 * written as the index selects in each pass (the caller falls back).
 */
function windowedPatch(b: Builder, x: Value, placed: Placed[], op: PatchOp, v: Value, span: Span, window: SequenceWindow): Value | null {
  const seq = placed.find((p) => p.axis === window.axis && !isFull(p.item));
  // A slice with a bound known only at run time selects as it does in each pass (no window).
  if (!seq || (seq.item.kind === "slice" && !staticSlice(seq.item))) return null;
  const full = placed.map((p) => (p === seq ? { axis: p.axis, item: fullSlice(p.item.span) } : p));
  const regionFull = basicIndex(b, x, full);
  const fullShape = shapeOf(regionFull);
  // The sequence axis among the region's axes (the int-indexed axes before it are gone).
  const at = seq.axis - placed.filter((p) => p.item.kind === "int" && p.axis < seq.axis).length;
  const vShape = shapeOf(v);
  if (!fullShape || !vShape) return null;
  const fromEnd = fullShape.length - at; // the sequence axis counted from the end of the region
  let value: Value;
  if (seq.item.kind === "int") {
    // `v` broadcasts to the region without the sequence axis: give it that axis, of size 1.
    const userRegion = fullShape.filter((_, i) => i !== at);
    v = fitRank(b, v, userRegion.length);
    const vShape = shapeOf(v)!;
    checkFits(op === "=" ? vShape : broadcastShapes(vShape, userRegion), userRegion, span);
    let vv = v;
    if (vShape.length >= fromEnd) vv = unsqueeze(b, b.op1("Expand", [v, shapeWithout(b, regionFull, at)]), [at]);
    value = op === "=" ? vv : binary(b, op, regionFull, vv, span);
  } else {
    // A slice: the value must not vary along the axis (size 1 there, or no such axis).
    const k = vShape.length - fromEnd;
    if (k >= 0 && vShape[k] !== 1) return null;
    value = combine(b, op, regionFull, v, span);
  }
  return scatterBasic(b, x, full, value, { axis: seq.axis, mask: windowMask(b, x, seq, window.promptLength()) });
}

/** Numpy broadcasting of two static shapes (unknown dimensions stay unknown). */
function broadcastShapes(a: Dim[], c: Dim[]): Dim[] {
  const n = Math.max(a.length, c.length);
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length - n + i] ?? 1;
    const y = c[c.length - n + i] ?? 1;
    return x === 1 ? y : x;
  });
}

/** `Shape(t)` without `axis`. */
function shapeWithout(b: Builder, t: Value, axis: number): Value {
  const rank = rankOf(t)!;
  const keep = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis);
  return b.op1("Gather", [b.op1("Shape", [t]), b.ints(keep)], { axis: 0 });
}

/**
 * The positions of the sequence axis a patch applies to when the prompt has `promptLength`
 * positions: within the prompt, those the index selects in a sequence of the prompt's length;
 * after it, all of them if the index selects anything in a sequence of one position, else none.
 * The length is capped at the axis' size, so an absent prompt length (its default is the largest
 * int64) or a pass that computes fewer positions (a cached model's later steps) is the index's
 * plain selection.
 */
function windowMask(b: Builder, x: Value, seq: Placed, promptLength: Value): Value {
  const n = dimOf(b, x, seq.axis);
  const size = squeeze(b, n, [0]);
  const prompt = b.op1("Min", [promptLength, size]);
  const positions = b.op1("Range", [b.int(0), size, b.int(1)]);
  const inPrompt = b.op1("Range", [b.int(0), prompt, b.int(1)]);
  let mask: Value;
  if (seq.item.kind === "int") {
    // A Gather, so that an index past the prompt fails at run time as the plain index does.
    mask = b.op1("Equal", [positions, b.op1("Gather", [inPrompt, b.int(seq.item.value)], { axis: 0 })]);
  } else {
    mask = positionMask(b, n, selectPositions(b, inPrompt, seq));
  }
  if (selectsFromOne(seq)) mask = b.op1("Or", [mask, b.op1("GreaterOrEqual", [positions, prompt])]);
  return mask;
}

/** Whether the item selects a position of a sequence of one position (`-1`, `0`, `-1:`, `:1`, …). */
function selectsFromOne(p: Placed): boolean {
  const item = p.item;
  if (item.kind === "int") return item.value === 0 || item.value === -1;
  if (staticSlice(item)) return sliceIndices(1, item.start, item.stop, item.step).length > 0;
  return false;
}

// --- advanced indices --------------------------------------------------------------------------------

/**
 * `x[items] op= v` with integer tensors among the items: the rows the advanced indices select
 * (GatherND), patched by the basic items that remain, written back (ScatterND). Where an index
 * repeats, one of the writes is kept (ScatterND's rule; NumPy keeps the last).
 */
function advancedPatch(b: Builder, x: Value, placed: Placed[], op: PatchOp, v: Value, span: Span): Value {
  const rank = rankOf(x)!;
  const adv = advancedIndices(b, x, placed, span);
  const moved = isIdentity(adv.perm) ? x : b.op1("Transpose", [x], { perm: adv.perm });
  const rows = b.op1("GatherND", [moved, adv.indices]); // [...B, ...rest]
  // The basic items of the remaining axes, as items of `rows`.
  const restAxes = adv.perm.slice(adv.axes.length);
  const restItems: Placed[] = [
    ...Array.from({ length: adv.rankB }, (_, i) => ({ axis: i, item: fullSlice(span) })),
    ...restAxes.map((axis, j) => ({ axis: adv.rankB + j, item: placed.find((p) => p.axis === axis)?.item ?? fullSlice(span) })),
  ];
  const regionRows = basicIndex(b, rows, restItems);
  const region = placeB(b, regionRows, adv, rank - adv.axes.length);
  const value = b.op1("Expand", [combine(b, op, region, v, span), b.op1("Shape", [region])]);
  const valueRows = placeB(b, value, adv, rank - adv.axes.length, true);
  const updates = restItems.every((p) => isFull(p.item)) ? valueRows : scatterBasic(b, rows, restItems, valueRows);
  const written = b.op1("ScatterND", [moved, adv.indices, updates]);
  return isIdentity(adv.perm) ? written : b.op1("Transpose", [written], { perm: inverse(adv.perm) });
}
