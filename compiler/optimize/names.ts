// The last pass computes the model's outputs. Where it copied a node of the model (a patch
// changed what the node reads) and the model's node is gone (nothing else read it), the copy takes
// the node's name and its outputs the names of the node's outputs: a script that patches layer 3
// gives a model whose nodes are named as the model's, the compiled model reads like the original
// in a viewer, and compiling is as deterministic as before. The copies the last pass shares with
// the computation it starts from (a pass with overridden inputs) are renamed the same way.

import type { Graph, Node, Value } from "../ir/index.js";
import type { PassState } from "../splice/index.js";

export function adoptNames(graph: Graph, last: PassState, original: { nodes: ReadonlySet<Node>; outputs: readonly Value[] }): void {
  const outputs = new Set(original.outputs);
  const chain: PassState[] = [];
  for (let p: PassState | null = last; p; p = p.parent) chain.push(p);
  for (const n of original.nodes) {
    if (graph.nodes.has(n)) continue;
    let copy: Node | undefined;
    for (const p of chain) {
      copy = p.copies().get(n);
      if (copy) break;
    }
    if (!copy || !graph.nodes.has(copy)) continue;
    if (n.proto.name !== undefined) copy.proto = { ...copy.proto, name: n.proto.name };
    n.outputs.forEach((v, i) => {
      const c = copy.outputs[i];
      if (!v || !c || outputs.has(v) || graph.values.has(v.name)) return;
      graph.rename(c, v.name);
    });
  }
}
