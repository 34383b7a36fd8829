// Which nodes of a graph contribute to its outputs (live), and which could go (dead).

import type { Graph, Node, Value } from "./graph.js";

/** Nodes that contribute to a graph output. */
export function liveNodes(graph: Graph): Set<Node> {
  const live = new Set<Node>();
  const stack = graph.outputs.map((v) => v.resolve());
  const seen = new Set(stack);
  const visit = (i: Value) => {
    const r = i.resolve();
    if (!seen.has(r)) {
      seen.add(r);
      stack.push(r);
    }
  };
  while (stack.length > 0) {
    const v = stack.pop()!;
    const n = v.producer;
    if (!n || live.has(n)) continue;
    live.add(n);
    // Plain loops, not predecessorValues (a generator): this runs for every node of the model.
    for (const i of n.inputs) if (i) visit(i);
    if (n.subgraphs.size > 0) for (const i of n.implicitInputs()) visit(i);
  }
  return live;
}

/** Nodes of `graph` (its own, not its subgraphs') that reach no output, except those in `keep`. */
export function deadNodes(graph: Graph, keep: ReadonlySet<Node>): Set<Node> {
  const live = liveNodes(graph);
  return new Set([...graph.nodes].filter((n) => !live.has(n) && !keep.has(n)));
}
