// Copying nodes of the model: one node with its subgraphs (a pass's private copy of a node, a
// module call's copy of the module's nodes). Graph inputs and initializers are never copied, so
// weights are never duplicated; what a copied subgraph reads from outside is re-pointed by the
// caller (`outer`).

import { Graph, Value, type IrModel, type Node } from "../ir/index.js";
import { toposort } from "../ir/index.js";

/** What a copy maps: original values (those of copied bodies included) and bodies to their copies. */
export interface CopyMap {
  values: Map<Value, Value>;
  graphs: Map<Graph, Graph>;
  /** Nodes of copied bodies, to their copies. */
  nodes: Map<Node, Node>;
}

/** A name not used anywhere in the model, `prefix/name` or `prefix/name_k`. */
export function freshCopyName(model: IrModel, prefix: string, name: string): string {
  let n = `${prefix}/${name}`;
  for (let i = 1; model.names.has(n); i++) n = `${prefix}/${name}_${i}`;
  model.names.add(n);
  return n;
}

/**
 * Copy `node` into `graph` with `inputs`, naming the node and its outputs under `prefix`. Values
 * its subgraphs read from enclosing scopes are looked up with `outer` (given the original value).
 */
export function copyNode(model: IrModel, graph: Graph, node: Node, inputs: (Value | null)[], prefix: string, map: CopyMap, outer: (v: Value) => Value): Node {
  const proto = { ...node.proto };
  if (proto.name) proto.name = `${prefix}/${proto.name}`;
  const outNames = node.outputs.map((v) => (v ? freshCopyName(model, prefix, v.name) : ""));
  const clone = graph.addNode(proto, inputs, outNames, node.outputs.map((v) => v?.type ?? null));
  clone.imported = node.imported; // the copy may end up as the node was (optimize/names.ts)
  node.outputs.forEach((v, i) => {
    const c = clone.outputs[i];
    if (v && c) map.values.set(v, c);
  });
  for (const [attr, sub] of node.subgraphs) clone.setSubgraph(attr, cloneSubgraph(sub, graph, clone, map, outer));
  return clone;
}

/** Deep copy of a subgraph; outer references are re-pointed through `map`, else `outer`. */
export function cloneSubgraph(sub: Graph, parent: Graph, owner: Node, map: CopyMap, outer: (v: Value) => Value): Graph {
  const g = new Graph(parent);
  g.owner = owner;
  map.graphs.set(sub, g);
  for (const [name, proxy] of sub.outerValues) {
    const target = proxy.outer ? map.values.get(proxy.outer) ?? outer(proxy.outer) : null;
    const p = new Value(name, "outer", proxy.type, g);
    p.outer = target;
    g.outerValues.set(name, p);
    map.values.set(proxy, p);
    if (target) target.uses.push({ node: owner, index: -1, inner: p });
  }
  const local = (v: Value | null): Value | null => (v ? map.values.get(v) ?? v : null);
  for (const v of sub.inputs) {
    const c = g.addValue(v.name, v.kind, v.type);
    c.info = v.info;
    c.initializer = v.initializer;
    map.values.set(v, c);
    g.inputs.push(c);
  }
  for (const v of sub.initializers) {
    if (map.values.has(v)) continue;
    const c = g.addValue(v.name, v.kind, v.type);
    c.initializer = v.initializer;
    map.values.set(v, c);
    g.initializers.push(c);
  }
  for (const node of toposort(sub).order) {
    const clone = g.addNode({ ...node.proto }, node.inputs.map(local), node.outputs.map((v) => v?.name ?? ""), node.outputs.map((v) => v?.type ?? null));
    clone.order = node.order;
    clone.imported = node.imported;
    map.nodes.set(node, clone);
    node.outputs.forEach((v, i) => {
      if (v && clone.outputs[i]) {
        map.values.set(v, clone.outputs[i]!);
        clone.outputs[i]!.info = v.info;
      }
    });
    for (const [attr, inner] of node.subgraphs) clone.setSubgraph(attr, cloneSubgraph(inner, g, clone, map, outer));
  }
  g.outputs = sub.outputs.map((v) => local(v)!);
  g.outputInfos = [...sub.outputInfos];
  return g;
}
