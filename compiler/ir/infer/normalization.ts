// Normalizations: Y has X's type; the statistics some of them also return have their own shapes.

import { DataType } from "../../onnx/index.js";
import { axisIn } from "./dims.js";
import { sameShape, type NodeCtx, type Out, type ShapeRule } from "./context.js";

const same: ShapeRule = (c) => [c.type(0)];

/** `[C]`, the channel dimension of an NCHW... input, with the given element type. */
function perChannel(c: NodeCtx, elemType: number): Out {
  const x = c.shape(0);
  return { elemType, shape: x && x.length >= 2 ? [x[1]!] : [null] };
}

/** LayerNormalization's Mean and InvStdDev: X's shape with the normalized axes set to 1. */
function layerNormStat(c: NodeCtx): Out {
  const x = c.shape(0);
  const elemType = c.attrInt("stash_type", DataType.FLOAT);
  if (!x) return { elemType, shape: null };
  const axis = axisIn(c.attrInt("axis", -1), x.length);
  return { elemType, shape: axis === null ? null : x.map((d, i) => (i < axis ? d : 1)) };
}

const layerNorm: ShapeRule = (c) => [c.type(0), layerNormStat(c), layerNormStat(c)];

export const normalizationRules: Record<string, ShapeRule> = {
  // Outputs 1 and 2 (running mean and variance in training mode) have the types of inputs 3 and 4;
  // outputs 3 and 4 (saved mean and variance, opsets 9-14) are [C] of X's type.
  BatchNormalization: (c) => [c.type(0), sameShape(c, 3, c.elem(3)), sameShape(c, 4, c.elem(4)), perChannel(c, c.elem(0)), perChannel(c, c.elem(0))],
  InstanceNormalization: same,
  GroupNormalization: same,
  LRN: same,
  LpNormalization: same,
  MeanVarianceNormalization: same,
  LayerNormalization: layerNorm,
  SimplifiedLayerNormalization: same,
  "com.microsoft:SkipLayerNormalization": (c) => [c.type(0), null, null, c.type(0)],
  "com.microsoft:SkipSimplifiedLayerNormalization": same,
};
