// Which nodes of a graph contribute to its outputs (live), and which could go (dead).

import type { Graph, Node } from "./graph.js";
import { predecessorValues } from "./toposort.js";

/** Nodes that contribute to a graph output. */
export function liveNodes(graph: Graph): Set<Node> {
  const live = new Set<Node>();
  const stack = graph.outputs.map((v) => v.resolve());
  const seen = new Set(stack);
  while (stack.length > 0) {
    const v = stack.pop()!;
    const n = v.producer;
    if (!n || live.has(n)) continue;
    live.add(n);
    for (const i of predecessorValues(n)) {
      const r = i.resolve();
      if (!seen.has(r)) {
        seen.add(r);
        stack.push(r);
      }
    }
  }
  return live;
}

/** Nodes of `graph` (its own, not its subgraphs') that reach no output, except those in `keep`. */
export function deadNodes(graph: Graph, keep: ReadonlySet<Node>): Set<Node> {
  const live = liveNodes(graph);
  return new Set([...graph.nodes].filter((n) => !live.has(n) && !keep.has(n)));
}
