// Convolutions the exporter merged with the BatchNorm after them.
//
// In eval mode torch.onnx folds `BatchNorm(Conv(x))` into one `Conv` whose weight and bias are
// new tensors computed at export time (`onnx::Conv_193`); the BatchNorm's node, parameters and
// buffers disappear. The fused node's output is the BatchNorm's output, and the convolution's own
// output exists nowhere in the graph. A named parameter is never rewritten by the exporter, so a
// Conv whose weight is a named parameter (`layer1.0.conv1.weight`) was not fused; one whose weight
// is an unnamed initializer may have been, and its output cannot be taken for the convolution's.

import type { Node, Value } from "../ir/index.js";
import { liveEdges, type Edges } from "./edges.js";

export interface FoldedConv {
  node: Node;
  /** The weight's initializer name (`onnx::Conv_193`). */
  weight: string;
}

const CONV_OPS = new Set(["Conv", "ConvTranspose"]);

/** The Conv producing `value`, when its weights were computed by the exporter. */
export function foldedConvOf(value: Value, edges: Edges = liveEdges): FoldedConv | null {
  const node = value.producer;
  if (!node || !CONV_OPS.has(node.opType) || node.domain !== "") return null;
  const w = edges.inputs(node)[1];
  if (!w) return null;
  const init = throughIdentity(w.resolve(), edges);
  if (init.kind !== "initializer" && !(init.kind === "input" && init.initializer)) return null;
  return isParameterName(init.name) ? null : { node, weight: init.name };
}

/** `layer1.0.conv1.weight` is a module's parameter; `onnx::Conv_193` was made by the exporter. */
export function isParameterName(name: string): boolean {
  return /^[^:/\s]+\.[^.:/\s]+$/.test(name);
}

/** The exporter shares equal initializers through `Identity` nodes (`Identity_3`); look through them. */
function throughIdentity(v: Value, edges: Edges): Value {
  let x = v;
  for (let i = 0; i < 64 && x.producer && x.producer.opType === "Identity"; i++) {
    const next = edges.inputs(x.producer)[0];
    if (!next) break;
    x = next.resolve();
  }
  return x;
}
