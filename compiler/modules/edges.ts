// How the port rules (ports.ts, folds.ts) read a graph's edges: as they are now, or as they were
// when the compiler started resolving a script.
//
// A module's ports are defined on the model as exported. Resolving a script changes the graph as it
// goes — a save adds a consumer to the value it saves, a patch rewires consumers to a new value —
// so ports computed after the first change would see the script's own nodes as the module's
// neighbours. The compiler reads ports through a frozen copy of the edges taken before anything
// changes (`frozenEdges`), which is cheap (one array per node and value) and lets it compute the
// ports of only the modules a script names, when it names them, instead of every module's up
// front. What the edges do not cover is unchanged by a script: a value's producer, a node's
// outputs and operator, the module tree. `inspect` and the tree's own construction read live.

import type { Graph, Node, Use, Value } from "../ir/index.js";

export interface Edges {
  /** The value's consumer slots. */
  uses(v: Value): readonly Use[];
  /** The node's inputs (null for an omitted optional input). */
  inputs(n: Node): readonly (Value | null)[];
  /** The graph's outputs. */
  outputs(g: Graph): readonly Value[];
}

/** The graph as it is now. */
export const liveEdges: Edges = {
  uses: (v) => v.uses,
  inputs: (n) => n.inputs,
  outputs: (g) => g.outputs,
};

/**
 * The edges of `graph` and of every control-flow body in it, as they are now. Values and nodes
 * created later are read live: they were not part of the model, and nothing of theirs was copied.
 */
export function frozenEdges(graph: Graph): Edges {
  const uses = new Map<Value, readonly Use[]>();
  const inputs = new Map<Node, readonly (Value | null)[]>();
  const outputs = new Map<Graph, readonly Value[]>();
  const freeze = (g: Graph): void => {
    outputs.set(g, [...g.outputs]);
    for (const v of g.values.values()) uses.set(v, [...v.uses]);
    for (const v of g.outerValues.values()) uses.set(v, [...v.uses]);
    for (const n of g.nodes) {
      inputs.set(n, [...n.inputs]);
      for (const body of n.subgraphs.values()) freeze(body);
    }
  };
  freeze(graph);
  return {
    uses: (v) => uses.get(v) ?? v.uses,
    inputs: (n) => inputs.get(n) ?? n.inputs,
    outputs: (g) => outputs.get(g) ?? g.outputs,
  };
}
