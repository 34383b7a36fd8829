// Sharing the sizes a pass computes alike. A patch keeps the shape of what it patches (E0203), so
// where a pass copied a node that computes from tensors' sizes alone (a `Shape`, and the
// arithmetic on what it returns: the export's reshape plumbing), the copy computes exactly what the
// same node computes in the computation the pass starts from (the model's own nodes, or the copy
// for its overridden inputs). Where that node is computed anyway, the copy's readers read it
// instead and the copy goes: a sweep of 12 patched passes over GPT-2 has half the nodes.
//
// Not where the computation the pass starts from is dead: sharing its `Shape` would keep alive the
// tensor it reads, a whole layer computed only for its size. Not across overridden inputs either,
// whose sizes may differ from the model's own (only a pass and the computation it starts from are
// merged). Runs after dead-code removal, which says what is computed anyway; removes what it frees.

import type { Graph, Node, Value } from "../ir/index.js";
import type { PassState } from "../splice/index.js";
import { removeDead } from "./dead.js";

export function shareSizes(graph: Graph, passes: readonly PassState[], sizesOnly: (v: Value) => boolean, rank: (n: Node) => number, keep: ReadonlySet<Node>): number {
  let merged = 0;
  for (const pass of passes) {
    const parentValue = (v: Value): Value => pass.parent?.valueOf(v) ?? v;
    const alive = (v: Value): boolean => !v.producer || graph.nodes.has(v.producer);
    const copies = [...pass.copies()].filter(([, c]) => graph.nodes.has(c)).sort((a, b) => rank(a[0]) - rank(b[0]));
    for (const [orig, copy] of copies) {
      if (copy.subgraphs.size > 0 || !orig.outputs.every((o) => !o || sizesOnly(o))) continue;
      // What it reads: tensors whose contents it ignores (their sizes are the same in both), or
      // sizes that are the same values as the parent's (shared, or merged just before: the order
      // is the model's).
      const same = orig.inputs.every((v, i) => !v || !sizesOnly(v) || copy.inputs[i] === parentValue(v));
      if (!same) continue;
      const targets = orig.outputs.map((o) => (o ? parentValue(o) : null));
      if (!targets.every((t) => !t || alive(t))) continue;
      copy.outputs.forEach((c, i) => {
        const t = targets[i];
        if (!c || !t) return;
        for (const use of [...c.uses]) graph.rewire(use, t);
        for (let k = 0; k < graph.outputs.length; k++) if (graph.outputs[k] === c) graph.outputs[k] = t;
      });
      merged++;
    }
  }
  if (merged > 0) removeDead(graph, keep);
  return merged;
}
