// Topological order of a graph's nodes, stable: among the nodes that are ready, the one that came
// first in the imported model (or was created first) goes first. An unmodified model keeps its
// node order exactly, which keeps export byte-identical.

import type { Graph, Node, Value } from "./graph.js";

export interface TopoResult {
  order: Node[];
  /** Nodes left over because they sit on or behind a cycle (empty for a valid graph). */
  cyclic: Node[];
}

/** The last mark a sort gave its nodes (Node.topoMark): each sort's is new. */
let lastMark = 0;

/**
 * With `only`, orders just those nodes of the graph, by the edges among them (edges from other
 * nodes are taken as met): what a pass copy needs, in time linear in the copied nodes rather than
 * in the whole graph, which holds every earlier pass's copy.
 *
 * Every node sorted is marked and numbered (Node.topoMark, topoIndex), so that the counts and the
 * heap are arrays indexed by number: the sort visits every edge, and runs a few times per compile
 * (cold code, mostly: a Map from nodes made it the compile's largest single cost).
 */
export function toposort(graph: Graph, only?: ReadonlySet<Node>): TopoResult {
  const nodes = only ? [...only].filter((n) => n.graph === graph && graph.nodes.has(n)) : [...graph.nodes];
  if (!only) {
    // The one-pass way: the nodes by `order` (as held, or sorted when the compiler's new nodes,
    // held last, belong earlier) already read only from nodes before them.
    const byOrder = increasing(nodes) ? nodes : nodes.slice().sort((a, b) => a.order - b.order);
    if (alreadySorted(graph, byOrder, numbered(byOrder))) return { order: byOrder, cyclic: [] };
  }
  const mark = numbered(nodes);
  // An edge counts when its producer is one of the nodes sorted, or a node of this graph (in
  // `only`, with `only`) that is not among them: a dangling edge, whose reader never gets ready.
  const counted = (p: Node | null): boolean => p !== null && (p.topoMark === mark || (p.graph === graph && (!only || only.has(p))));
  const pending = new Int32Array(nodes.length);
  const ready = new IndexHeap(nodes);
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    // Plain loops, not predecessorValues: this runs for every node of every sort.
    let count = 0;
    for (const v of node.inputs) if (v !== null && counted(v.producer)) count++;
    if (node.subgraphs.size > 0) for (const v of node.implicitInputs()) if (counted(v.producer)) count++;
    pending[i] = count;
    if (count === 0) ready.push(i);
  }
  const order: Node[] = [];
  while (ready.size > 0) {
    const node = nodes[ready.pop()]!;
    order.push(node);
    for (const out of node.outputs) {
      if (!out) continue;
      for (const use of out.uses) {
        const reader = use.node;
        if (reader.topoMark !== mark) continue;
        if (--pending[reader.topoIndex] === 0) ready.push(reader.topoIndex);
      }
    }
  }
  const cyclic = order.length === nodes.length ? [] : nodes.filter((_, i) => pending[i]! > 0);
  return { order, cyclic };
}

/** Marks `nodes` with a new mark and numbers them by position; returns the mark. */
function numbered(nodes: readonly Node[]): number {
  const mark = ++lastMark;
  for (let i = 0; i < nodes.length; i++) {
    nodes[i]!.topoMark = mark;
    nodes[i]!.topoIndex = i;
  }
  return mark;
}

function increasing(nodes: readonly Node[]): boolean {
  for (let i = 1; i < nodes.length; i++) if (nodes[i]!.order <= nodes[i - 1]!.order) return false;
  return true;
}

/**
 * Whether `nodes` (marked by the sort) are already the order the sort would give: each node comes
 * after the nodes it reads from, and in increasing `order` (then the sort, which takes the ready
 * node of least `order`, takes them in this order). An imported model is (ONNX requires its nodes
 * to be sorted), so the sort of a model as read costs one pass; so is a graph a script spliced in
 * place, by `order`, as the compiler's new nodes are ordered just after what they read
 * (Graph.addNode).
 */
function alreadySorted(graph: Graph, nodes: readonly Node[], mark: number): boolean {
  let last = -Infinity;
  // Read from a node of this graph placed before `at` (or from outside the graph).
  const ready = (v: Value | null, at: number): boolean => {
    if (v === null || v.producer === null || v.producer.graph !== graph) return true;
    return v.producer.topoMark === mark && v.producer.topoIndex < at;
  };
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (node.order <= last) return false;
    last = node.order;
    for (const v of node.inputs) if (!ready(v, i)) return false;
    if (node.subgraphs.size > 0) for (const v of node.implicitInputs()) if (!ready(v, i)) return false;
  }
  return true;
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

/** A min-heap of indices into `nodes`, by the nodes' `order` (the earliest ready node first). */
class IndexHeap {
  private readonly items: number[] = [];
  private readonly keys: Float64Array;

  constructor(nodes: readonly Node[]) {
    this.keys = Float64Array.from(nodes, (n) => n.order);
  }

  get size(): number {
    return this.items.length;
  }

  push(item: number): void {
    // Sifted with a hole, not by swapping with `[a[i], a[p]] = [a[p], a[i]]`: before the JIT has
    // compiled it, that destructuring builds an array and iterates it at every step.
    const a = this.items;
    const key = this.keys[item]!;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p]!;
      if (key >= this.keys[parent]!) break;
      a[i] = parent;
      i = p;
    }
    a[i] = item;
  }

  pop(): number {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      const key = this.keys[last]!;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = -1;
        let least = key;
        if (l < a.length && this.keys[a[l]!]! < least) {
          m = l;
          least = this.keys[a[l]!]!;
        }
        if (r < a.length && this.keys[a[r]!]! < least) {
          m = r;
          least = this.keys[a[r]!]!;
        }
        if (m < 0) break;
        a[i] = a[m]!;
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
}
