// Copying the model's computation for a pass: every node and its subgraphs, with fresh tensor
// names; graph inputs and initializers are shared, so weights are never duplicated.

import { Graph, Value, type IrModel, type Node } from "../ir/index.js";
import { predecessorValues, toposort } from "../ir/index.js";

export interface GraphCopy {
  /** Original node → its copy, control-flow bodies' nodes included. */
  nodes: Map<Node, Node>;
  values: Map<Value, Value>;
  /** Original body graph → its copy. */
  graphs: Map<Graph, Graph>;
}

export function copyMainGraph(model: IrModel, prefix: string, originals: Set<Node>): GraphCopy {
  const graph = model.graph;
  const copy: GraphCopy = { nodes: new Map(), values: new Map(), graphs: new Map() };
  const fresh = (name: string) => {
    let n = `${prefix}/${name}`;
    for (let i = 1; model.names.has(n); i++) n = `${prefix}/${name}_${i}`;
    model.names.add(n);
    return n;
  };
  // Sort only the originals when they read only each other (so far always: the original graph is
  // the last pass's, untouched while earlier passes are copied). Sorting the whole graph, which
  // holds every earlier copy, made n passes cost n^2/2 copies' time: 80 empty passes took 42 s
  // (found by test/fuzz.test.ts). Otherwise sort everything, as before.
  const alone = [...originals].every((n) => [...predecessorValues(n)].every((v) => !v.producer || v.producer.graph !== graph || originals.has(v.producer)));
  for (const node of toposort(graph, alone ? originals : undefined).order) {
    if (!originals.has(node)) continue;
    const inputs = node.inputs.map((v) => (v ? copy.values.get(v) ?? v : null));
    const proto = { ...node.proto };
    if (proto.name) proto.name = `${prefix}/${proto.name}`;
    const outNames = node.outputs.map((v) => (v ? fresh(v.name) : ""));
    const clone = graph.addNode(proto, inputs, outNames, node.outputs.map((v) => v?.type ?? null));
    clone.order = node.order + 0.5; // keep copies next to their originals in the exported order
    node.outputs.forEach((v, i) => {
      const c = clone.outputs[i];
      if (v && c) {
        copy.values.set(v, c);
        c.info = null;
      }
    });
    for (const [attr, sub] of node.subgraphs) clone.subgraphs.set(attr, cloneSubgraph(sub, graph, clone, copy));
    copy.nodes.set(node, clone);
  }
  return copy;
}

/** Deep copy of a subgraph; outer references are re-pointed through `copy.values`. */
function cloneSubgraph(sub: Graph, parent: Graph, owner: Node, copy: GraphCopy): Graph {
  const g = new Graph(parent);
  g.owner = owner;
  copy.graphs.set(sub, g);
  for (const [name, proxy] of sub.outerValues) {
    const target = proxy.outer ? copy.values.get(proxy.outer) ?? proxy.outer : null;
    const p = new Value(name, "outer", proxy.type, g);
    p.outer = target;
    g.outerValues.set(name, p);
    copy.values.set(proxy, p);
    if (target) target.uses.push({ node: owner, index: -1, inner: p });
  }
  const local = (v: Value | null): Value | null => (v ? copy.values.get(v) ?? v : null);
  for (const v of sub.inputs) {
    const c = g.addValue(v.name, v.kind, v.type);
    c.info = v.info;
    c.initializer = v.initializer;
    copy.values.set(v, c);
    g.inputs.push(c);
  }
  for (const v of sub.initializers) {
    if (copy.values.has(v)) continue;
    const c = g.addValue(v.name, v.kind, v.type);
    c.initializer = v.initializer;
    copy.values.set(v, c);
    g.initializers.push(c);
  }
  for (const node of toposort(sub).order) {
    const clone = g.addNode({ ...node.proto }, node.inputs.map(local), node.outputs.map((v) => v?.name ?? ""), node.outputs.map((v) => v?.type ?? null));
    clone.order = node.order;
    copy.nodes.set(node, clone);
    node.outputs.forEach((v, i) => {
      if (v && clone.outputs[i]) {
        copy.values.set(v, clone.outputs[i]!);
        clone.outputs[i]!.info = v.info;
      }
    });
    for (const [attr, inner] of node.subgraphs) clone.subgraphs.set(attr, cloneSubgraph(inner, g, clone, copy));
  }
  g.outputs = sub.outputs.map((v) => local(v)!);
  g.outputInfos = [...sub.outputInfos];
  return g;
}
