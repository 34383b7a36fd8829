// A module of the model called as a function (`lm_head(transformer.ln_f(h))`): a copy of the
// module's nodes, in the model's order, spliced where the call is. What enters the module is
// given by the caller (`external`: the call's arguments, and the pass's values of the rest); the
// weights are the model's (initializers are shared, never copied).

import type { Builder } from "../lower/index.js";
import type { Node, Value } from "../ir/index.js";
import { cloneSubgraph, type CopyMap } from "./clone.js";

/**
 * Copy `nodes` (in execution order) into the builder's graph. `inputsOf(node)` gives the node's
 * inputs as the model has them (a pass computing in place may have rewired the node itself:
 * splice/passes.ts). `external(v, node, index)` gives the value read where a copied node reads `v`,
 * produced outside the copied nodes, at `node.inputs[index]` (index -1: a body's read of an
 * enclosing scope). Returns the map from the nodes' values to their copies'.
 */
export function spliceCall(b: Builder, nodes: readonly Node[], label: string, inputsOf: (n: Node) => readonly (Value | null)[], external: (v: Value, node: Node, index: number) => Value): CopyMap {
  const map: CopyMap = { values: new Map(), graphs: new Map(), nodes: new Map() };
  for (const n of nodes) {
    const inputs = inputsOf(n).map((v, i) => (v ? map.values.get(v) ?? external(v, n, i) : null));
    const clone = b.copy(n, inputs, label, (c) => {
      for (const [attr, sub] of n.subgraphs) c.setSubgraph(attr, cloneSubgraph(sub, c.graph, c, map, (v) => external(v, n, -1)));
    });
    map.nodes.set(n, clone);
    n.outputs.forEach((v, i) => {
      const c = clone.outputs[i];
      if (v && c) map.values.set(v, c);
    });
  }
  return map;
}
