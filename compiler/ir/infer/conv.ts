// Convolutions and pooling over NC[D...] inputs: pads, strides, dilations, groups, auto_pad,
// ceil_mode. Spatial sizes are computed for static dimensions; a symbolic one survives only an
// operator that keeps its size (a 1x1 convolution, stride 1 with "same" padding).

import { DataType } from "../../onnx/index.js";
import type { Dim } from "../types.js";
import { divDim, mulDim } from "./dims.js";
import type { NodeCtx, Out, ShapeRule } from "./context.js";

interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Begin pads then end pads, 2n entries. */
  pads: number[];
  autoPad: string;
}

function window(c: NodeCtx, kernel: number[]): Window {
  const n = kernel.length;
  const ones = new Array<number>(n).fill(1);
  return {
    kernel,
    strides: c.attrInts("strides") ?? ones,
    dilations: c.attrInts("dilations") ?? ones,
    pads: c.attrInts("pads") ?? new Array<number>(2 * n).fill(0),
    autoPad: c.attrString("auto_pad", "NOTSET"),
  };
}

/** One spatial output size of a convolution or pooling window. */
function slideDim(d: Dim, w: Window, i: number, ceilMode: boolean): Dim {
  const k = w.kernel[i];
  const s = w.strides[i];
  const dil = w.dilations[i];
  if (k === undefined || s === undefined || dil === undefined || s <= 0) return null;
  const eff = (k - 1) * dil + 1;
  if (w.autoPad === "SAME_UPPER" || w.autoPad === "SAME_LOWER") {
    if (s === 1) return d;
    return typeof d === "number" ? Math.ceil(d / s) : null;
  }
  const pb = w.autoPad === "VALID" ? 0 : (w.pads[i] ?? 0);
  const pe = w.autoPad === "VALID" ? 0 : (w.pads[i + w.kernel.length] ?? 0);
  if (typeof d !== "number") return s === 1 && pb + pe === eff - 1 ? d : null;
  const span = d + pb + pe - eff;
  if (span < 0) return null;
  if (!ceilMode) return Math.floor(span / s) + 1;
  let out = Math.ceil(span / s) + 1;
  // The last window must start inside the input or its begin padding (PyTorch, ONNX >= 1.16).
  if ((out - 1) * s >= d + pb) out--;
  return out;
}

function convShape(c: NodeCtx, channels: (w: Dim[]) => Dim): Dim[] | null {
  const x = c.shape(0);
  const w = c.shape(1);
  const rank = x?.length ?? w?.length;
  if (rank === undefined || rank < 3) return null;
  const kernel = c.attrInts("kernel_shape") ?? (w && w.slice(2).every((d) => typeof d === "number") ? (w.slice(2) as number[]) : null);
  const out: Dim[] = [x?.[0] ?? null, w ? channels(w) : null];
  for (let i = 0; i < rank - 2; i++) out.push(x && kernel ? slideDim(x[i + 2]!, window(c, kernel), i, false) : null);
  return out;
}

const conv: ShapeRule = (c) => [{ elemType: c.elem(0), shape: convShape(c, (w) => w[0] ?? null) }];

function convTranspose(c: NodeCtx): Out[] {
  const x = c.shape(0);
  const w = c.shape(1);
  const rank = x?.length ?? w?.length;
  if (rank === undefined || rank < 3) return [{ elemType: c.elem(0), shape: null }];
  const n = rank - 2;
  const group = c.attrInt("group", 1);
  const out: Dim[] = [x?.[0] ?? null, w ? mulDim(w[1] ?? null, group) : null];
  const given = c.attrInts("output_shape");
  if (given) {
    out.push(...given.slice(given.length - n).map((d): Dim => d));
    return [{ elemType: c.elem(0), shape: out }];
  }
  const kernel = c.attrInts("kernel_shape") ?? (w && w.slice(2).every((d) => typeof d === "number") ? (w.slice(2) as number[]) : null);
  const win = kernel ? window(c, kernel) : null;
  const outPad = c.attrInts("output_padding") ?? new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    const d = x?.[i + 2] ?? null;
    if (!win || typeof d !== "number") {
      out.push(win && d !== null && win.strides[i] === 1 && (win.autoPad.startsWith("SAME") || win.pads[i]! + win.pads[i + n]! === (win.kernel[i]! - 1) * win.dilations[i]! + (outPad[i] ?? 0)) ? d : null);
      continue;
    }
    const s = win.strides[i]!;
    if (win.autoPad === "SAME_UPPER" || win.autoPad === "SAME_LOWER") {
      out.push(d * s);
      continue;
    }
    const valid = win.autoPad === "VALID";
    const pb = valid ? 0 : win.pads[i]!;
    const pe = valid ? 0 : win.pads[i + n]!;
    out.push(s * (d - 1) + (outPad[i] ?? 0) + (win.kernel[i]! - 1) * win.dilations[i]! + 1 - pb - pe);
  }
  return [{ elemType: c.elem(0), shape: out }];
}

function pool(c: NodeCtx): Out[] {
  const x = c.shape(0);
  const kernel = c.attrInts("kernel_shape");
  let shape: Dim[] | null = null;
  if (x && kernel && x.length === kernel.length + 2) {
    const win = window(c, kernel);
    const ceil = c.attrInt("ceil_mode", 0) === 1;
    shape = [x[0]!, x[1]!, ...kernel.map((_, i) => slideDim(x[i + 2]!, win, i, ceil))];
  }
  // MaxPool's Indices (output 1) have the same shape.
  return [{ elemType: c.elem(0), shape }, { elemType: DataType.INT64, shape }];
}

const globalPool: ShapeRule = (c) => {
  const x = c.shape(0);
  return [{ elemType: c.elem(0), shape: x ? x.map((d, i) => (i < 2 ? d : 1)) : null }];
};

function maxUnpool(c: NodeCtx): Out[] {
  const x = c.shape(0);
  const given = c.has(2) ? c.content(2) : null;
  if (given) return [{ elemType: c.elem(0), shape: given }];
  const kernel = c.attrInts("kernel_shape");
  if (!x || !kernel || x.length !== kernel.length + 2) return [{ elemType: c.elem(0), shape: null }];
  const win = window(c, kernel);
  const n = kernel.length;
  const spatial = kernel.map((k, i): Dim => {
    const d = x[i + 2]!;
    return typeof d === "number" ? (d - 1) * win.strides[i]! + k - win.pads[i]! - win.pads[i + n]! : null;
  });
  return [{ elemType: c.elem(0), shape: [x[0]!, x[1]!, ...spatial] }];
}

function depthToSpace(c: NodeCtx): Out[] {
  const x = c.shape(0);
  const b = c.attrInt("blocksize", 0);
  if (!x || x.length !== 4 || b <= 0) return [{ elemType: c.elem(0), shape: null }];
  return [{ elemType: c.elem(0), shape: [x[0]!, divDim(x[1]!, b * b), mulDim(x[2]!, b), mulDim(x[3]!, b)] }];
}

function spaceToDepth(c: NodeCtx): Out[] {
  const x = c.shape(0);
  const b = c.attrInt("blocksize", 0);
  if (!x || x.length !== 4 || b <= 0) return [{ elemType: c.elem(0), shape: null }];
  return [{ elemType: c.elem(0), shape: [x[0]!, mulDim(x[1]!, b * b), divDim(x[2]!, b), divDim(x[3]!, b)] }];
}

export const convRules: Record<string, ShapeRule> = {
  Conv: conv,
  "com.microsoft:FusedConv": conv,
  ConvInteger: (c) => [{ elemType: DataType.INT32, shape: convShape(c, (w) => w[0] ?? null) }],
  ConvTranspose: convTranspose,
  MaxPool: pool,
  AveragePool: pool,
  LpPool: pool,
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  GlobalLpPool: globalPool,
  MaxUnpool: maxUnpool,
  DepthToSpace: depthToSpace,
  SpaceToDepth: spaceToDepth,
};
