// A compiled model without its own outputs, for runs that want only the saves (`--saves-only`).
// Removing a graph output is not enough: onnxruntime keeps (and runs) nodes whose results nothing
// reads, so the nodes and initializers only the removed outputs needed are removed here too
// (GPT-2's lm_head: a third of the work at 64 tokens, and its weight).

import { decodeModel, encodeModel } from "../compiler/model.js";

type Graph = NonNullable<ReturnType<typeof decodeModel>["graph"]>;
type Node = NonNullable<Graph["node"]>[number];

/** The model's bytes with only the graph outputs named in `keep`, and only what they need. */
export function withOnlyOutputs(bytes: Uint8Array, keep: ReadonlySet<string>): Uint8Array {
  const model = decodeModel(bytes);
  const graph = model.graph!;
  graph.output = (graph.output ?? []).filter((o) => keep.has(o.name ?? ""));
  const needed = new Set(graph.output.map((o) => o.name ?? ""));
  const nodes = graph.node ?? [];
  const live = new Array<boolean>(nodes.length).fill(false);
  // Walk the nodes backwards (they are in topological order): a node is live when one of its
  // outputs is needed; then everything it reads is, including what its subgraphs read.
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    if (!(node.output ?? []).some((o) => needed.has(o))) continue;
    live[i] = true;
    for (const name of readsOf(node)) needed.add(name);
  }
  graph.node = nodes.filter((_, i) => live[i]);
  // Initializers nothing reads any more (a graph input's default stays: the input is part of the
  // model's interface).
  const inputs = new Set((graph.input ?? []).map((v) => v.name ?? ""));
  graph.initializer = (graph.initializer ?? []).filter((t) => needed.has(t.name ?? "") || inputs.has(t.name ?? ""));
  graph.value_info = (graph.value_info ?? []).filter((v) => needed.has(v.name ?? ""));
  return encodeModel(model);
}

/** Every value name a node reads: its inputs and, for If/Loop/Scan, every name its subgraphs read. */
function readsOf(node: Node): string[] {
  const names = (node.input ?? []).filter((n) => n !== "");
  for (const a of node.attribute ?? []) {
    for (const g of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) {
      for (const inner of g.node ?? []) names.push(...readsOf(inner));
    }
  }
  return names;
}
