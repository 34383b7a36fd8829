// Removing what the script created but nothing uses: pass copies beyond what later passes read,
// and nodes of lazily built values. The model's own nodes are always kept.

import type { Graph, Node } from "../ir/index.js";
import { predecessorValues } from "../ir/index.js";

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

export function removeDead(graph: Graph, keep: Set<Node>): void {
  const live = liveNodes(graph);
  for (const n of [...graph.nodes]) if (!live.has(n) && !keep.has(n)) graph.removeNode(n);
  // Initializers the compiler added and nothing reads any more.
  for (let i = graph.initializers.length - 1; i >= 0; i--) {
    const v = graph.initializers[i]!;
    if (v.uses.length === 0 && v.name.startsWith("intv.") && !graph.outputs.includes(v)) {
      graph.initializers.splice(i, 1);
      graph.values.delete(v.name);
    }
  }
}
