// A compiled model without its own outputs, for runs that want only the saves (`--saves-only`):
// with the model's outputs gone from the graph, onnxruntime drops the nodes only they needed
// when it loads the model (GPT-2's lm_head: a third of the work at 64 tokens), where asking
// `session.run` for fewer outputs would still compute them all.

import { decodeModel, encodeModel } from "../compiler/index.js";

/** The model's bytes with only the graph outputs named in `keep`. */
export function withOnlyOutputs(bytes: Uint8Array, keep: ReadonlySet<string>): Uint8Array {
  const model = decodeModel(bytes);
  const graph = model.graph!;
  graph.output = (graph.output ?? []).filter((o) => keep.has(o.name ?? ""));
  return encodeModel(model);
}
