// Removing what the script created but nothing uses: pass copies beyond what later passes read,
// and nodes of lazily built values. The model's own nodes are always kept.

import { deadNodes, type Graph, type Node, type Value } from "../ir/index.js";

export function removeDead(graph: Graph, keep: ReadonlySet<Node>): void {
  const dead = deadNodes(graph, keep);
  // Drop the dead nodes' uses one value at a time, in one sweep of its list: removing them node by
  // node searched a value's list once per use, quadratic for a value read by every iteration of a
  // long loop (40,000 reads took seconds; found by test/fuzz.test.ts).
  const read = new Set<Value>();
  for (const n of dead) for (const v of n.inputs) if (v) read.add(v);
  for (const v of read) {
    let kept = 0;
    for (const u of v.uses) if (u.index < 0 || !dead.has(u.node)) v.uses[kept++] = u;
    v.uses.length = kept;
  }
  for (const n of dead) {
    n.inputs.fill(null);
    graph.removeNode(n);
  }
  // Initializers the compiler added and nothing reads any more.
  for (let i = graph.initializers.length - 1; i >= 0; i--) {
    const v = graph.initializers[i]!;
    if (v.uses.length === 0 && v.name.startsWith("intv.") && !graph.outputs.includes(v)) {
      graph.initializers.splice(i, 1);
      graph.values.delete(v.name);
    }
  }
}
