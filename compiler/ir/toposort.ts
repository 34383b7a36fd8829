// Topological order of a graph's nodes, stable: among the nodes that are ready, the one that came
// first in the imported model (or was created first) goes first. An unmodified model keeps its
// node order exactly, which keeps export byte-identical.

import type { Graph, Node, Value } from "./graph.js";

export interface TopoResult {
  order: Node[];
  /** Nodes left over because they sit on or behind a cycle (empty for a valid graph). */
  cyclic: Node[];
}

/**
 * With `only`, orders just those nodes of the graph, by the edges among them (edges from other
 * nodes are taken as met): what a pass copy needs, in time linear in the copied nodes rather than
 * in the whole graph, which holds every earlier pass's copy.
 */
export function toposort(graph: Graph, only?: ReadonlySet<Node>): TopoResult {
  if (!only) {
    const sorted = alreadySorted(graph);
    if (sorted) return { order: sorted, cyclic: [] };
  }
  const pending = new Map<Node, number>();
  const ready = new MinHeap<Node>((a, b) => a.order - b.order);
  const nodes = only ? [...only].filter((n) => n.graph === graph && graph.nodes.has(n)) : graph.nodes;
  const counted = (n: Node | null | undefined): n is Node => !!n && n.graph === graph && (!only || only.has(n));
  for (const node of nodes) {
    // Plain loops, not predecessorValues: this runs for every node of every sort.
    let count = 0;
    for (const v of node.inputs) if (v !== null && counted(v.producer)) count++;
    if (node.subgraphs.size > 0) for (const v of node.implicitInputs()) if (counted(v.producer)) count++;
    pending.set(node, count);
    if (count === 0) ready.push(node);
  }
  const order: Node[] = [];
  while (ready.size > 0) {
    const node = ready.pop()!;
    order.push(node);
    for (const out of node.outputs) {
      if (!out) continue;
      for (const use of out.uses) {
        if (!counted(use.node)) continue;
        const left = pending.get(use.node)! - 1;
        pending.set(use.node, left);
        if (left === 0) ready.push(use.node);
      }
    }
  }
  const size = only ? (nodes as Node[]).length : graph.nodes.size;
  const cyclic = order.length === size ? [] : [...nodes].filter((n) => pending.get(n)! > 0);
  return { order, cyclic };
}

/**
 * The graph's nodes as they are held, when that is already the order the sort below would give:
 * each node comes after the nodes it reads from, and in increasing `order`. An imported model is
 * (ONNX requires its nodes to be sorted), so the sort of a model as read costs one pass; a graph a
 * script has spliced is not (a patch's nodes come last but feed earlier ones), and returns null.
 */
function alreadySorted(graph: Graph): Node[] | null {
  const placed = new Set<Node>();
  const order: Node[] = [];
  let last = -Infinity;
  const ready = (v: Value | null) => v === null || v.producer === null || v.producer.graph !== graph || placed.has(v.producer);
  for (const node of graph.nodes) {
    if (node.order <= last) return null;
    last = node.order;
    for (const v of node.inputs) if (!ready(v)) return null;
    if (node.subgraphs.size > 0) for (const v of node.implicitInputs()) if (!ready(v)) return null;
    placed.add(node);
    order.push(node);
  }
  return order;
}

/** Values a node waits for: its explicit inputs and what its subgraphs read from this scope. */
export function* predecessorValues(node: Node) {
  for (const v of node.inputs) if (v) yield v;
  for (const v of node.implicitInputs()) yield v;
}

/** Execution rank of every value of the main graph: inputs and initializers 0, node outputs 1 + position. */
export function valueRanks(graph: Graph, order: Node[]): Map<string, number> {
  const ranks = new Map<string, number>();
  for (const v of graph.values.values()) if (!v.producer) ranks.set(v.name, 0);
  order.forEach((node, i) => {
    for (const v of node.outputs) if (v) ranks.set(v.name, i + 1);
  });
  return ranks;
}

class MinHeap<T> {
  private items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}
  get size(): number {
    return this.items.length;
  }
  push(item: T): void {
    // Sifted with a hole, not by swapping with `[a[i], a[p]] = [a[p], a[i]]`: before the JIT has
    // compiled it, that destructuring builds an array and iterates it at every step.
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p]!;
      if (this.less(item, parent) >= 0) break;
      a[i] = parent;
      i = p;
    }
    a[i] = item;
  }
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = -1;
        let least = last;
        if (l < a.length && this.less(a[l]!, least) < 0) {
          m = l;
          least = a[l]!;
        }
        if (r < a.length && this.less(a[r]!, least) < 0) {
          m = r;
          least = a[r]!;
        }
        if (m < 0) break;
        a[i] = least;
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
}
