// Operators that rearrange a tensor: Reshape, Flatten, Transpose, Squeeze/Unsqueeze, Expand, Tile,
// Pad, Concat, Split, Slice, Resize/Upsample. Target shapes, axes, pads and sizes given as inputs
// are read through the known-value analysis (`values.ts`), so `Shape → Gather → Concat → Reshape`
// plumbing gives real shapes.

import type { Dim } from "../types.js";
import { addDim, axisIn, broadcastShapes, divDim, mulDim, product, reshapeRest, sliceDim, unifyDim } from "./dims.js";
import type { NodeCtx, Out, ShapeRule } from "./context.js";

const unknownDims = (n: number | null): Dim[] | null => (n === null ? null : new Array<Dim>(n).fill(null));

function reshape(c: NodeCtx): Out[] {
  const a = c.shape(0);
  const elemType = c.elem(0);
  const attr = c.attrInts("shape"); // Reshape-1
  const target: Dim[] | null = attr ?? c.content(1);
  if (!target) return [{ elemType, shape: unknownDims(c.length(1)) }];
  const allowZero = c.attrInt("allowzero", 0) === 1;
  const holes = target.filter((d) => d === -1).length;
  if (holes > 1) return [{ elemType, shape: null }];
  const out: Dim[] = target.map((d, i) => {
    if (d === 0 && !allowZero) return a && i < a.length ? a[i]! : null;
    return typeof d === "number" && d < 0 ? null : d;
  });
  const hole = target.indexOf(-1);
  if (hole >= 0 && a) {
    const others = target.flatMap((d, i) => (i === hole ? [] : [d === 0 && !allowZero ? { copy: i } : d]));
    out[hole] = others.some((o) => typeof o === "object" && o !== null && o.copy >= a.length) ? null : reshapeRest(a, others);
  }
  return [{ elemType, shape: out }];
}

function flatten(c: NodeCtx): Out[] {
  const a = c.shape(0);
  if (!a) return [{ elemType: c.elem(0), shape: [null, null] }];
  let axis = c.attrInt("axis", 1);
  if (axis < 0) axis += a.length;
  if (axis < 0 || axis > a.length) return [{ elemType: c.elem(0), shape: null }];
  return [{ elemType: c.elem(0), shape: [product(a.slice(0, axis)), product(a.slice(axis))] }];
}

function transpose(c: NodeCtx): Out[] {
  const a = c.shape(0);
  if (!a) return [{ elemType: c.elem(0), shape: null }];
  const perm = c.attrInts("perm") ?? a.map((_, i) => a.length - 1 - i);
  if (perm.length !== a.length) return [{ elemType: c.elem(0), shape: null }];
  return [{ elemType: c.elem(0), shape: perm.map((p) => a[p] ?? null) }];
}

function squeeze(c: NodeCtx): Out[] {
  const a = c.shape(0);
  const elemType = c.elem(0);
  if (!a) return [{ elemType, shape: null }];
  if (!c.hasAxes(1)) {
    // Every dimension of size 1 goes: known only when every dimension is static.
    return [{ elemType, shape: a.every((d) => typeof d === "number") ? a.filter((d) => d !== 1) : null }];
  }
  const axes = c.axes(1);
  if (!axes) {
    const n = c.length(1);
    return [{ elemType, shape: unknownDims(n === null ? null : a.length - n) }];
  }
  const drop = new Set(axes.map((x) => axisIn(x, a.length)));
  if (drop.has(null)) return [{ elemType, shape: null }];
  return [{ elemType, shape: a.filter((_, i) => !drop.has(i)) }];
}

function unsqueeze(c: NodeCtx): Out[] {
  const a = c.shape(0);
  const elemType = c.elem(0);
  const axes = c.axes(1);
  if (!a) return [{ elemType, shape: null }];
  if (!axes) {
    const n = c.length(1);
    return [{ elemType, shape: unknownDims(n === null ? null : a.length + n) }];
  }
  const rank = a.length + axes.length;
  const ones = new Set(axes.map((x) => axisIn(x, rank)));
  if (ones.has(null) || ones.size !== axes.length) return [{ elemType, shape: null }];
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(ones.has(i) ? 1 : a[j++]!);
  return [{ elemType, shape: out }];
}

function expand(c: NodeCtx): Out[] {
  const a = c.shape(0);
  const target = c.content(1);
  if (target) return [{ elemType: c.elem(0), shape: broadcastShapes([a, target]) }];
  const n = c.length(1);
  return [{ elemType: c.elem(0), shape: a && n !== null ? unknownDims(Math.max(a.length, n)) : null }];
}

function tile(c: NodeCtx): Out[] {
  const a = c.shape(0);
  if (!a) return [{ elemType: c.elem(0), shape: null }];
  const reps = c.content(1);
  if (!reps || reps.length !== a.length) return [{ elemType: c.elem(0), shape: unknownDims(a.length) }];
  return [{ elemType: c.elem(0), shape: a.map((d, i) => mulDim(d, reps[i]!)) }];
}

function pad(c: NodeCtx): Out[] {
  const a = c.shape(0);
  if (!a) return [{ elemType: c.elem(0), shape: null }];
  const pads: Dim[] | null = c.attrInts("pads") ?? (c.has(1) ? c.content(1) : null);
  const axes = c.has(3) ? c.numbers(3) : a.map((_, i) => i);
  if (!pads || !axes || pads.length !== 2 * axes.length) return [{ elemType: c.elem(0), shape: unknownDims(a.length) }];
  const out = [...a];
  for (let k = 0; k < axes.length; k++) {
    const ax = axisIn(axes[k]!, a.length);
    if (ax === null) return [{ elemType: c.elem(0), shape: unknownDims(a.length) }];
    const begin = pads[k]!;
    const end = pads[k + axes.length]!;
    out[ax] = begin === null || end === null ? null : addDim(addDim(a[ax]!, begin), end);
  }
  return [{ elemType: c.elem(0), shape: out }];
}

function concat(c: NodeCtx): Out[] {
  const shapes = c.node.inputs.map((_, i) => c.shape(i));
  const elemType = c.node.inputs.map((_, i) => c.elem(i)).find((e) => e !== 0) ?? 0;
  const known = shapes.filter((s): s is Dim[] => s !== null);
  if (known.length === 0) return [{ elemType, shape: null }];
  const rank = known[0]!.length;
  if (known.some((s) => s.length !== rank)) return [{ elemType, shape: null }];
  const axis = axisIn(c.attrInt("axis", 0), rank);
  if (axis === null) return [{ elemType, shape: null }];
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    if (i === axis) {
      let sum: Dim = 0;
      for (const s of shapes) sum = s ? addDim(sum, s[i]!) : null;
      out.push(sum);
    } else {
      out.push(known.reduce<Dim>((d, s) => unifyDim(d, s[i]), null));
    }
  }
  return [{ elemType, shape: out }];
}

function split(c: NodeCtx): Out[] {
  const a = c.shape(0);
  const elemType = c.elem(0);
  const n = c.nOutputs;
  const unknown = (): Out[] => new Array<Out>(n).fill({ elemType, shape: a ? unknownDims(a.length) : null });
  if (!a) return unknown();
  const axis = axisIn(c.attrInt("axis", 0), a.length);
  if (axis === null) return unknown();
  const d = a[axis]!;
  let sizes: Dim[] | null = c.attrInts("split") ?? (c.has(1) ? c.content(1) : null);
  if (!sizes && !c.has(1)) {
    if (c.hasAttr("num_outputs")) {
      // Opset 18: chunks of ceil(d / n), the last one smaller.
      if (typeof d !== "number") sizes = null;
      else {
        const chunk = Math.ceil(d / n);
        sizes = Array.from({ length: n }, (_, i) => (i < n - 1 ? chunk : d - chunk * (n - 1)));
      }
    } else {
      const each = divDim(d, n);
      sizes = new Array<Dim>(n).fill(each);
    }
  }
  if (!sizes || sizes.length !== n) return unknown();
  return sizes.map((s) => ({ elemType, shape: a.map((x, i) => (i === axis ? s : x)) }));
}

function slice(c: NodeCtx): Out[] {
  const a = c.shape(0);
  const elemType = c.elem(0);
  if (!a) return [{ elemType, shape: null }];
  const old = c.hasAttr("starts"); // Slice-1: attributes
  const starts: Dim[] | null = old ? c.attrInts("starts") : c.content(1);
  const ends: Dim[] | null = old ? c.attrInts("ends") : c.content(2);
  const count = old ? (starts?.length ?? null) : (c.length(1) ?? c.length(2));
  const axes: number[] | null = old ? (c.attrInts("axes") ?? (count === null ? null : Array.from({ length: count }, (_, i) => i)))
    : c.has(3) ? c.numbers(3) : count === null ? null : Array.from({ length: count }, (_, i) => i);
  const steps: Dim[] | null = !old && c.has(4) ? c.content(4) : count === null ? null : new Array<Dim>(count).fill(1);
  if (!axes) return [{ elemType, shape: unknownDims(a.length) }];
  const out = [...a];
  for (let k = 0; k < axes.length; k++) {
    const ax = axisIn(axes[k]!, a.length);
    if (ax === null) return [{ elemType, shape: unknownDims(a.length) }];
    const s = starts?.[k] ?? null;
    const e = ends?.[k] ?? null;
    const st = steps?.[k] ?? null;
    out[ax] = s === null || e === null || st === null ? null : sliceDim(a[ax]!, s, e, st);
  }
  return [{ elemType, shape: out }];
}

/** Resize (X, roi, scales, sizes from opset 11; X, scales in opset 10) and Upsample (X, scales). */
function resize(c: NodeCtx): Out[] {
  const a = c.shape(0);
  const elemType = c.elem(0);
  if (!a) return [{ elemType, shape: null }];
  const axes = c.attrInts("axes")?.map((x) => axisIn(x, a.length)) ?? a.map((_, i) => i);
  if (axes.some((x) => x === null)) return [{ elemType, shape: unknownDims(a.length) }];
  const out: Dim[] = [...a];
  const sizes = c.nInputs >= 4 && c.has(3) ? c.content(3) : null;
  const scalesAt = c.op === "Upsample" ? 1 : c.nInputs === 2 ? 1 : 2;
  const scales = c.attrFloats("scales") ?? (c.has(scalesAt) ? c.numbers(scalesAt) : null);
  if (sizes && sizes.length === axes.length) {
    if (c.attrString("keep_aspect_ratio_policy", "stretch") !== "stretch") return [{ elemType, shape: unknownDims(a.length) }];
    axes.forEach((ax, k) => (out[ax!] = sizes[k]!));
  } else if (scales && scales.length === axes.length && c.attrString("coordinate_transformation_mode", "") !== "tf_crop_and_resize") {
    axes.forEach((ax, k) => {
      const d = a[ax!]!;
      const s = Math.fround(scales[k]!);
      out[ax!] = s === 1 ? d : typeof d === "number" ? Math.floor(Math.fround(Math.fround(d) * s)) : null;
    });
  } else {
    axes.forEach((ax) => (out[ax!] = null));
  }
  return [{ elemType, shape: out }];
}

export const shapeRules: Record<string, ShapeRule> = {
  Reshape: reshape,
  Flatten: flatten,
  Transpose: transpose,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Expand: expand,
  Tile: tile,
  Pad: pad,
  Concat: concat,
  Split: split,
  Slice: slice,
  Resize: resize,
  Upsample: resize,
};
