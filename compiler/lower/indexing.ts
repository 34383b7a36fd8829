// numpy-style indexing of tensors (`x[0]`, `x[:, -1, :]`, `x[..., 0:10]`, `x[1:3:2]`) and its
// inverse for partial patches (`x[:, -1, :] = v`). Indices are compile-time integers; dimensions
// may be dynamic (batch and sequence), so a partial patch is built from a position mask and a
// gather map computed at run time, never from a static size.

import { fail, type Span } from "../../common/index.js";
import type { Value } from "../ir/index.js";
import { BOOL, INT64, makeTensor, type Builder } from "./builder.js";
import { checkSameElem, dimOf, elemName, elemOf, INT64_MAX, INT64_MIN, rankOf, shapeOf, squeeze, unsqueeze } from "./ops.js";

export type IndexItem =
  | { kind: "int"; value: number; span: Span }
  | { kind: "slice"; start: number | null; stop: number | null; step: number | null; span: Span }
  | { kind: "ellipsis"; span: Span }
  | { kind: "tensor"; value: Value; span: Span };

interface AxisItem {
  axis: number;
  item: Exclude<IndexItem, { kind: "ellipsis" }>;
}

/** Assign each item its axis: items before `...` count from 0, items after it from the end. */
function placeItems(items: IndexItem[], rank: number | null, span: Span): AxisItem[] {
  const ell = items.findIndex((i) => i.kind === "ellipsis");
  if (items.filter((i) => i.kind === "ellipsis").length > 1) fail("E0206", "an index can have only one `...`", span);
  const before = ell < 0 ? items : items.slice(0, ell);
  const after = ell < 0 ? [] : items.slice(ell + 1);
  if (rank !== null && before.length + after.length > rank) {
    fail("E0206", `too many indices (${before.length + after.length}) for a tensor of rank ${rank}`, span);
  }
  const out: AxisItem[] = [];
  before.forEach((item, i) => out.push({ axis: i, item: item as AxisItem["item"] }));
  after.forEach((item, i) => out.push({ axis: rank !== null ? rank - after.length + i : i - after.length, item: item as AxisItem["item"] }));
  return out;
}

function isFull(item: AxisItem["item"]): boolean {
  return item.kind === "slice" && item.start === null && item.stop === null && (item.step === null || item.step === 1);
}

function checkStatic(x: Value, { axis, item }: AxisItem): void {
  const shape = shapeOf(x);
  const n = shape && axis >= 0 ? shape[axis] : null;
  if (typeof n !== "number") return;
  if (item.kind === "int" && (item.value >= n || item.value < -n)) {
    fail("E0206", `index ${item.value} is out of range for dimension ${axis} of size ${n}`, item.span, `indices go from ${-n} to ${n - 1}`);
  }
  if (item.kind === "slice") {
    for (const bound of [item.start, item.stop]) {
      if (bound !== null && (bound > n || bound < -n)) {
        fail("E0206", `slice bound ${bound} is past dimension ${axis} of size ${n}`, item.span, `bounds go from ${-n} to ${n}`);
      }
    }
    if (item.step === 0) fail("E0206", "slice step cannot be zero", item.span);
  }
}

function sliceBounds(item: AxisItem["item"]): [bigint, bigint, bigint] {
  if (item.kind === "int") return [BigInt(item.value), item.value === -1 ? INT64_MAX : BigInt(item.value + 1), 1n];
  if (item.kind !== "slice") throw new Error("not a slice");
  const step = item.step ?? 1;
  const start = item.start !== null ? BigInt(item.start) : step > 0 ? 0n : INT64_MAX;
  const stop = item.stop !== null ? BigInt(item.stop) : step > 0 ? INT64_MAX : INT64_MIN;
  return [start, stop, BigInt(step)];
}

/** `x[items]`: one Slice for every int and slice item, one Squeeze for the int items, Gathers for tensor items. */
export function indexTensor(b: Builder, x: Value, items: IndexItem[], span: Span): Value {
  const rank = rankOf(x);
  const placed = placeItems(items, rank, span);
  placed.forEach((p) => checkStatic(x, p));
  const sliced = placed.filter((p) => p.item.kind === "slice" && !isFull(p.item));
  let out = x;
  if (sliced.length > 0) {
    const bounds = sliced.map((p) => sliceBounds(p.item));
    const vec = (k: number) => b.constant(INT64, bounds.map((bd) => bd[k]!), [bounds.length]);
    out = b.op1("Slice", [out, vec(0), vec(1), b.ints(sliced.map((p) => p.axis)), vec(2)]);
  }
  // Integer and tensor indices are Gathers. An integer index is a Gather (not a Slice) so that an
  // index past a dimension only known at run time fails there — onnxruntime reports it against
  // this script line — instead of selecting nothing. Axes are removed so that the others keep
  // their numbers: negative ones from the most negative, then positive ones from the highest.
  const gathered = placed.filter((p) => p.item.kind === "int" || p.item.kind === "tensor");
  if (gathered.some((p) => p.item.kind === "tensor") && gathered.some((p) => p.item.kind === "int")) {
    fail("E0206", "mixing integer and tensor indices is not supported", span, "index in two steps: `x[i][idx]`");
  }
  const order = [...gathered.filter((p) => p.axis < 0).sort((p, q) => p.axis - q.axis), ...gathered.filter((p) => p.axis >= 0).sort((p, q) => q.axis - p.axis)];
  for (const p of order) {
    const index = p.item.kind === "int" ? b.int(p.item.value) : (p.item as { value: Value }).value;
    out = b.op1("Gather", [out, index], { axis: p.axis });
  }
  void rank;
  return out;
}

/** `x[items] = v`: a new tensor equal to `x` except at the indexed positions, which hold `v`. */
export function scatterTensor(b: Builder, x: Value, items: IndexItem[], v: Value, span: Span): Value {
  const rank = rankOf(x);
  if (rank === null) fail("E0207", "a partial patch needs a tensor of known rank", span, "patch the whole tensor instead");
  const placed = placeItems(items, rank, span).map((p) => ({ ...p, axis: p.axis < 0 ? p.axis + rank : p.axis }));
  placed.forEach((p) => checkStatic(x, p));
  if (placed.some((p) => p.item.kind === "tensor")) fail("E0207", "a partial patch with a tensor index is not supported", span);
  checkSameElem(x, v, "patch", span);
  if (elemOf(v) === 0 && elemOf(x) !== 0) fail("E0207", `the value has no known element type; expected ${elemName(elemOf(x))}`, span);

  // The value, broadcast to the shape of x[items], then with the int-indexed axes put back.
  const region = indexTensor(b, x, items, span);
  let value = b.op1("Expand", [v, b.op1("Shape", [region])]);
  const intAxes = placed.filter((p) => p.item.kind === "int").map((p) => p.axis);
  if (intAxes.length > 0) value = unsqueeze(b, value, intAxes);

  let mask: Value | null = null;
  for (const p of placed) {
    if (isFull(p.item)) continue;
    const n = dimOf(b, x, p.axis); // [1] int64
    const positions = b.op1("Range", [b.int(0), squeeze(b, n, [0]), b.int(1)]);
    const [start, stop, step] = sliceBounds(p.item);
    const selected = b.op1("Slice", [positions, b.constant(INT64, [start], [1]), b.constant(INT64, [stop], [1]), b.ints([0]), b.constant(INT64, [step], [1])]);
    const falses = b.op1("ConstantOfShape", [n], { value: makeTensor(BOOL, [0], [1]) });
    const trues = b.op1("ConstantOfShape", [b.op1("Shape", [selected])], { value: makeTensor(BOOL, [1], [1]) });
    let axisMask = b.op1("ScatterElements", [falses, selected, trues], { axis: 0 });
    if (p.item.kind === "slice") {
      // Position i along this axis takes element inverse[i] of the value (meaningful where selected).
      const zeros = b.op1("ConstantOfShape", [n], { value: makeTensor(INT64, [0n], [1]) });
      const count = squeeze(b, b.op1("Shape", [selected]), [0]);
      const order = b.op1("Range", [b.int(0), count, b.int(1)]);
      const inverse = b.op1("ScatterElements", [zeros, selected, order], { axis: 0 });
      value = b.op1("Gather", [value, inverse], { axis: p.axis });
    }
    const broadcastShape = Array.from({ length: rank }, (_, i) => (i === p.axis ? -1 : 1));
    axisMask = b.op1("Reshape", [axisMask, b.ints(broadcastShape)]);
    mask = mask ? b.op1("And", [mask, axisMask]) : axisMask;
  }
  if (!mask) return value; // every item was `:`: the whole tensor
  return b.op1("Where", [mask, value, x]);
}
