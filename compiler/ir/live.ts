// Which nodes of a graph contribute to its outputs (live), and which could go (dead).

import type { Graph, Node, Value } from "./graph.js";

/** Nodes that contribute to a graph output, or to one of `roots` (nodes kept whatever they reach). */
export function liveNodes(graph: Graph, roots: Iterable<Node> = []): Set<Node> {
  const live = new Set<Node>();
  const stack = graph.outputs.map((v) => v.resolve());
  for (const n of roots) if (n.graph === graph && graph.nodes.has(n)) for (const o of n.outputs) if (o) stack.push(o);
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

/**
 * Nodes of `graph` (its own, not its subgraphs') that reach no output, except those in `keep` and
 * what they read: a kept node's inputs stay computed (found by review: a model's own unused node,
 * kept, read a value whose other consumers a patch had taken away, and its producer went).
 */
export function deadNodes(graph: Graph, keep: ReadonlySet<Node>): Set<Node> {
  const live = liveNodes(graph, keep);
  return new Set([...graph.nodes].filter((n) => !live.has(n)));
}
