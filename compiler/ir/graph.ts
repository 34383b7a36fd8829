// The graph IR: values know their producer and their consumers, and every edit keeps both
// current, so rewiring a patch is one call and the cycle check is a walk, not a search.
//
// Subgraphs (If/Loop/Scan bodies) are graphs of their own. A name a subgraph reads from an
// enclosing scope is an `outer` value in the subgraph that points at the enclosing value; the
// node that owns the subgraph is recorded as a consumer of the enclosing value (an `implicit`
// use), so the outer graph's order and reachability see the dependency.

import type { AttributeProto, NodeProto, TensorProto, ValueInfoProto } from "../onnx/index.js";
import type { ValueType } from "./types.js";

export type ValueKind = "input" | "initializer" | "node" | "outer";

/** One consumer slot: `node.inputs[index]`, or an implicit use by a node whose subgraph reads it. */
export interface Use {
  node: Node;
  /** Index into `node.inputs`; -1 for an implicit (outer-scope) use through `inner`. */
  index: number;
  /** For implicit uses: the subgraph's `outer` value standing for this one. */
  inner?: Value;
}

/** Whether a use (an input slot, or a body's read of an outer value) still reads `v`. */
export function readsValue(u: Use, v: Value): boolean {
  return u.index >= 0 ? u.node.inputs[u.index] === v : u.inner?.outer === v;
}

export class Value {
  readonly uses: Use[] = [];
  producer: Node | null = null;
  /** Index in `producer.outputs`. */
  producerIndex = -1;
  /** For kind `initializer`: the tensor (its bytes pass through untouched). */
  initializer: TensorProto | null = null;
  /** For kind `outer`: the enclosing scope's value this one reads. */
  outer: Value | null = null;
  /** value_info / graph input or output entry this value came with (kept for doc and metadata). */
  info: ValueInfoProto | null = null;

  constructor(
    public name: string,
    public kind: ValueKind,
    public type: ValueType | null,
    readonly graph: Graph,
  ) {}

  /** The value an `outer` proxy ultimately stands for (itself for every other kind). */
  resolve(): Value {
    return this.outer === null ? this : this.outer.resolve();
  }

  isConstant(): boolean {
    return this.kind === "initializer" || (this.producer !== null && this.producer.opType === "Constant");
  }
}

/** An array of as many empty slots as the one mapped (`names.map(noValue)`), packed and sized to fit. */
export const noValue = (): Value | null => null;

/** The subgraphs of a node that has none: shared, as nearly every node has none. */
const NO_SUBGRAPHS: ReadonlyMap<string, Graph> = new Map();

/** How far apart the orders of new nodes after the same node are (Graph.newOrder). */
const NEW_ORDER_STEP = 2 ** -20;

export class Node {
  /**
   * Subgraphs by attribute name (`then_branch`, `body`, or `graphs[i]` as `name#i`), added with
   * `setSubgraph`. Why not a Map of its own per node: a model's nodes are thousands, its If and
   * Loop nodes a handful, and an empty Map each took half a megabyte of GPT-2's 12 MB heap (all of
   * it copied by every young-generation GC while the graph is built).
   */
  subgraphs: ReadonlyMap<string, Graph> = NO_SUBGRAPHS;
  /**
   * Where the node goes in the written order: its position in the imported node list, and for a
   * node the compiler makes, a fraction after the latest node it reads from (Graph.addNode).
   */
  order: number;
  /**
   * Scratch of the running topological sort (toposort.ts): the sort's mark, and the node's index
   * in it. Fields of the node, not a Map from nodes: a sort visits every edge of the graph, and a
   * compile sorts it several times.
   */
  topoMark = 0;
  topoIndex = 0;
  /**
   * The NodeProto this node was imported from (kept by its copies): exported as it is when the
   * node still says the same, so that the encoder can write the bytes it was read from
   * (onnx/keptEncoding.ts). Null for a node the compiler made.
   */
  imported: NodeProto | null = null;
  /** Nodes made so far, in this process. */
  static made = 0;
  /** How many nodes were made before this one (Node.made): which statement made a node. */
  readonly serial = Node.made++;

  constructor(
    /** Everything of the NodeProto except `input`/`output` (attributes, metadata, doc string...). */
    public proto: NodeProto,
    readonly graph: Graph,
    order: number,
    /** The node's own arrays (sized to fit by their creator: an array grown from empty takes 17 slots). */
    readonly inputs: (Value | null)[] = [],
    readonly outputs: (Value | null)[] = [],
  ) {
    this.order = order;
  }

  setSubgraph(attribute: string, graph: Graph): void {
    if (this.subgraphs === NO_SUBGRAPHS) this.subgraphs = new Map();
    (this.subgraphs as Map<string, Graph>).set(attribute, graph);
  }

  get opType(): string {
    return this.proto.op_type ?? "";
  }
  get domain(): string {
    return this.proto.domain ?? "";
  }
  get name(): string {
    return this.proto.name ?? "";
  }

  attribute(name: string): AttributeProto | undefined {
    return this.proto.attribute?.find((a) => a.name === name);
  }

  /** Values of enclosing scopes that this node's subgraphs read (explicit outer edges). */
  implicitInputs(): Value[] {
    const out: Value[] = [];
    for (const g of this.subgraphs.values()) for (const v of g.outerValues.values()) if (v.outer) out.push(v.outer);
    return out;
  }
}

export class Graph {
  readonly nodes = new Set<Node>();
  inputs: Value[] = [];
  outputs: Value[] = [];
  /** Output entries as imported (name, type, doc, metadata), parallel to `outputs` where known. */
  outputInfos: (ValueInfoProto | null)[] = [];
  readonly initializers: Value[] = [];
  /** Every name defined in this scope. If branches are separate scopes and may repeat names. */
  readonly values = new Map<string, Value>();
  /** Outer-scope values read in this scope, by name. */
  readonly outerValues = new Map<string, Value>();
  /** The node owning this subgraph, null for the main graph. */
  owner: Node | null = null;
  private nextOrder = 0;
  /** The last order given to a new node after each whole order (newOrder). */
  private readonly lastInSlot = new Map<number, number>();

  constructor(readonly parent: Graph | null) {}

  /** Find a name in this scope or an enclosing one. */
  lookup(name: string): Value | undefined {
    return this.values.get(name) ?? this.outerValues.get(name) ?? this.parent?.lookup(name);
  }

  /** All names in this scope and every subgraph below it (for fresh-name generation). */
  *allNames(): Iterable<string> {
    for (const name of this.values.keys()) yield name;
    for (const node of this.nodes) for (const g of node.subgraphs.values()) yield* g.allNames();
  }

  addValue(name: string, kind: ValueKind, type: ValueType | null): Value {
    const v = new Value(name, kind, type, this);
    this.values.set(name, v);
    return v;
  }

  /** Create a node. Outputs are new values with the given names. */
  addNode(proto: NodeProto, inputs: (Value | null)[], outputNames: string[], outputTypes?: (ValueType | null)[]): Node {
    const node = new Node(proto, this, this.newOrder(inputs), inputs.slice(), outputNames.map(noValue));
    this.nodes.add(node);
    inputs.forEach((v, i) => {
      if (v) v.uses.push({ node, index: i });
    });
    outputNames.forEach((name, i) => {
      if (name === "") return;
      const v = this.addValue(name, "node", outputTypes?.[i] ?? null);
      v.producer = node;
      v.producerIndex = i;
      node.outputs[i] = v;
    });
    return node;
  }

  /** Point `node.inputs[index]` at `value`, keeping both values' use lists current. */
  setInput(node: Node, index: number, value: Value | null): void {
    const old = node.inputs[index];
    if (old === value) return;
    if (old) removeUse(old, node, index);
    node.inputs[index] = value;
    if (value) value.uses.push({ node, index });
  }

  /** Re-point one use (explicit or implicit) from its current value to `value`. */
  rewire(use: Use, value: Value): void {
    if (use.index >= 0) {
      use.node.graph.setInput(use.node, use.index, value);
      return;
    }
    const inner = use.inner!;
    const old = inner.outer!;
    const i = old.uses.findIndex((u) => u.node === use.node && u.inner === inner);
    if (i >= 0) old.uses.splice(i, 1);
    inner.outer = value;
    value.uses.push({ node: use.node, index: -1, inner });
  }

  removeNode(node: Node): void {
    node.inputs.forEach((v, i) => {
      if (v) removeUse(v, node, i);
    });
    for (const g of node.subgraphs.values()) {
      for (const inner of g.outerValues.values()) {
        const outer = inner.outer;
        if (!outer) continue;
        const i = outer.uses.findIndex((u) => u.node === node && u.inner === inner);
        if (i >= 0) outer.uses.splice(i, 1);
      }
    }
    for (const v of node.outputs) if (v) this.values.delete(v.name);
    this.nodes.delete(node);
  }

  /**
   * `v` as seen from this scope: itself if it is defined here, else an outer-scope proxy (created
   * on first use, with the owning node recorded as an implicit consumer at each level).
   */
  outerRef(v: Value): Value {
    if (v.graph === this) return v;
    const existing = this.outerValues.get(v.name);
    if (existing && existing.resolve() === v.resolve()) return existing;
    if (!this.parent || !this.owner) throw new Error(`\`${v.name}\` is not visible from this graph`);
    const outerSide = this.parent.outerRef(v);
    const proxy = new Value(v.name, "outer", v.type, this);
    proxy.outer = outerSide;
    this.outerValues.set(v.name, proxy);
    outerSide.uses.push({ node: this.owner, index: -1, inner: proxy });
    return proxy;
  }

  /** Rename a value in this scope (the caller guarantees the new name is free). */
  rename(value: Value, name: string): void {
    this.values.delete(value.name);
    value.name = name;
    this.values.set(name, value);
  }

  /** A name not used anywhere in this scope, its ancestors or its subgraphs. */
  freshName(base: string, taken?: Set<string>): string {
    const used = (n: string) => this.lookup(n) !== undefined || taken?.has(n) === true;
    if (!used(base)) return base;
    for (let i = 1; ; i++) if (!used(`${base}_${i}`)) return `${base}_${i}`;
  }

  /**
   * The order of a node the compiler makes: just after the latest node of this graph it reads from,
   * before the next whole order (the model's next node). A patch's nodes then sit between the value
   * they patch and its consumers, so a spliced graph is still ordered by `order` and its sort is one
   * pass (toposort.ts), as a model's own is. New nodes after the same whole order get increasing
   * fractions, so orders stay distinct. When a slot is full (over 2^20 new nodes after one node), the
   * node goes after every node: always a valid place, but the sort then takes its longer way.
   */
  private newOrder(inputs: readonly (Value | null)[]): number {
    let after = -1;
    for (const v of inputs) {
      const p = v?.producer;
      if (p && p.graph === this && p.order > after) after = p.order;
    }
    const slot = Math.floor(after);
    const order = Math.max(after, this.lastInSlot.get(slot) ?? after) + NEW_ORDER_STEP;
    if (order >= slot + 1) return this.nextOrder++;
    this.lastInSlot.set(slot, order);
    return order;
  }

  bumpOrder(order: number): void {
    if (order >= this.nextOrder) this.nextOrder = order + 1;
  }
}

function removeUse(value: Value, node: Node, index: number): void {
  const i = value.uses.findIndex((u) => u.node === node && u.index === index);
  if (i >= 0) value.uses.splice(i, 1);
}
