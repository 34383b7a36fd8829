// Graph outputs without an `Identity` in front, where the compiled model can do without one.
//
// A save is lowered as `Identity(value)` named `intv.save.NAME` and listed as a graph output,
// and a patched model output gets its name back the same way. onnxruntime's optimizer removes
// such an Identity by renaming its input (EliminateIdentity), and combined with other rewrites
// it can leave a node reading the old name: DenseNet-121 with saves of
// `features.transition1.conv.output` and `features.transition1.pool.output` failed to load at
// optimization level `basic` and above ("Node input '/features/transition1/conv/Conv_output_0' is
// not a graph input, initializer, or output of a previous node"), because `PadFusion` had rewired
// the pool's Pad. Doing the rename here — the value itself carries the output's name — gives the
// optimizer nothing to eliminate.
//
// The Identity stays where the rename would be wrong: its input is a model input, an initializer
// or a value of an enclosing scope (those names belong to the model), or is itself a graph output
// already (a model output, or a value saved twice).

import type { Graph, Node } from "../ir/index.js";

export function inlineOutputIdentities(graph: Graph, originalNodes: ReadonlySet<Node>): void {
  for (let i = 0; i < graph.outputs.length; i++) {
    const out = graph.outputs[i]!;
    const id = out.producer;
    if (!id || id.opType !== "Identity" || id.domain !== "" || originalNodes.has(id) || out.uses.length > 0) continue;
    const src = id.inputs[0];
    if (!src || src.kind !== "node" || src.graph !== graph || !src.producer) continue;
    if (graph.outputs.includes(src)) continue;
    const name = out.name;
    graph.removeNode(id);
    graph.rename(src, name);
    graph.outputs[i] = src;
  }
}
