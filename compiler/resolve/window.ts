// The sequence window of a partial patch (lower/patching.ts): which axis of a patched tensor is
// the sequence of positions a pass computes, and the optional model input that carries the
// prompt's length during generation (`intv.prompt_length`, fed by `Runtime.generate`).
//
// The sequence axis is the first axis whose symbolic dimension is the one `input_ids` has on axis 1
// (shape inference carries it through the model). A tensor with no such axis (a weight, a value
// whose shape the export does not show) gets no window: its patch means what it means in one run.

import { PROMPT_LENGTH_INPUT } from "../../common/index.js";
import type { Value } from "../ir/index.js";
import { INT64, INT64_MAX, makeTensor, shapeOf, type SequenceWindow } from "../lower/index.js";
import { paramInput, spliceParam } from "../splice/index.js";
import type { Context } from "./context.js";

export function sequenceWindow(ctx: Context, patched: Value): SequenceWindow | null {
  const ids = ctx.original.inputs.find((v) => v.name === "input_ids");
  const symbol = ids?.type?.shape?.[1];
  if (typeof symbol !== "string") return null;
  const axis = shapeOf(patched)?.indexOf(symbol) ?? -1;
  if (axis < 0) return null;
  return { axis, promptLength: () => promptLengthInput(ctx) };
}

/** The model input `intv.prompt_length` (int64 scalar, default: the largest int64), added once. */
function promptLengthInput(ctx: Context): Value {
  const graph = ctx.model.graph;
  const existing = graph.inputs.find((v) => v.name === PROMPT_LENGTH_INPUT);
  if (existing) return existing;
  const input = paramInput(ctx.b, PROMPT_LENGTH_INPUT, { elemType: INT64, shape: [] });
  spliceParam(ctx.b, input, makeTensor(INT64, [INT64_MAX], []));
  return input;
}
