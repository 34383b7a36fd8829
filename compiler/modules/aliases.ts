// Values that leave a module only because the tracer aliased them, put back where PyTorch had them.
//
// `x.to(torch.float32)` on a float32 tensor returns `x` itself, and `.clone()`-free identities do
// the same; the TorchScript tracer still records the op (a `Cast` to the same type, an
// `Identity`) and maps the Python object to the op's output, so code *after* the module that uses
// the same object (a residual `hidden_states + ...` in a LLaMA decoder layer) reads the alias
// made inside the module (the first op of `LlamaRMSNorm`). The alias then leaks: it is
// consumed inside the module and outside it, it looked like the module's first output, and a
// patch of the module's input reached the residual connection through it.
//
// The alias has the same value as its input, so pointing the outside consumers back at the
// input changes nothing the graph computes and gives the module the ports PyTorch's hooks see.
// Only aliases that are also consumed inside their module are moved: an alias that is the
// module's last computation is what the module returned.

import type { Graph, Node, Value } from "../ir/index.js";

/** What this pass needs of the module tree (tree.ts calls it while building the tree). */
interface Scoped {
  readonly parent: Scoped | null;
}

export function detachLeakedAliases(graph: Graph, tree: { moduleOf: ReadonlyMap<Node, Scoped> }): number {
  let moved = 0;
  for (const node of graph.nodes) {
    const owner = tree.moduleOf.get(node);
    if (!owner || owner.parent === null) continue;
    const input = node.inputs[0];
    const output = node.outputs[0];
    if (!input || !output || !isNoOpAlias(node, input)) continue;
    const inside = (n: Node) => within(tree.moduleOf.get(n), owner);
    if (!output.uses.some((u) => inside(u.node))) continue;
    for (const use of output.uses.filter((u) => !inside(u.node))) {
      graph.rewire(use, input);
      moved++;
    }
  }
  return moved;
}

function isNoOpAlias(node: Node, input: Value): boolean {
  if (node.domain !== "" || node.inputs.length !== 1) return false;
  if (node.opType === "Identity") return true;
  if (node.opType !== "Cast") return false;
  const to = node.attribute("to")?.i;
  const from = input.resolve().type?.elemType;
  return to !== undefined && from !== undefined && from !== 0 && Number(to) === from;
}

/** Is `m` the module `ancestor` or inside it? */
function within(m: Scoped | undefined, ancestor: Scoped): boolean {
  for (let x = m; x; x = x.parent ?? undefined) if (x === ancestor) return true;
  return false;
}
