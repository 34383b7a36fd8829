// A read that a pass made while it still shared the value goes through a placeholder, an
// Identity that a later patch could re-point at the pass's own copy (splice/passes.ts). Once the
// script has run they have done their job: their consumers read the value itself.

import type { Graph, Node } from "../ir/index.js";

export function removePlaceholders(graph: Graph, placeholders: readonly Node[]): void {
  for (const ph of placeholders) {
    if (!graph.nodes.has(ph)) continue;
    const src = ph.inputs[0]!;
    const out = ph.outputs[0]!;
    for (const use of [...out.uses]) graph.rewire(use, src);
    for (let i = 0; i < graph.outputs.length; i++) if (graph.outputs[i] === out) graph.outputs[i] = src;
    graph.removeNode(ph);
  }
}
