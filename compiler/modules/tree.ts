// The module tree recovered from an exported model: like nnsight's Envoy without the magic — a
// dotted path, children by name and by position, explicit methods, no Proxy tricks.

import type { Graph, IrModel, Node, Value } from "../ir/index.js";
import { toposort } from "../ir/index.js";
import { detachLeakedAliases } from "./aliases.js";
import { Origins } from "./dataflow.js";
import { nodeScope, type NodeScope, type ScopeSource } from "./scopes.js";

export class Module {
  readonly children = new Map<string, Module>();
  /** Nodes whose deepest scope is this module (not its descendants). */
  readonly ownNodes: Node[] = [];
  /** Parameters by their name in this module (`weight`, `bias`), from initializer names. */
  readonly namedParams = new Map<string, Value>();
  /** `relu_1` style later calls of this module (TorchScript names them as siblings). */
  readonly calls: Module[] = [];
  /** The module this one is a later call of, if any. */
  callOf: Module | null = null;
  source: ScopeSource = "none";
  /**
   * Was this module on the call stack of some node, i.e. did its forward run? A `ModuleList` or
   * `ModuleDict` is never called (its children are), so forward hooks never see it.
   */
  called = false;
  /**
   * An entry of a numbered container (`Sequential`, `ModuleList`) that left no node and no
   * parameter, known only because its neighbours exist (`stem.0` and `stem.2` imply `stem.1`):
   * an eval-mode Dropout or Identity, or a BatchNorm the exporter folded into the Conv before it.
   */
  inferred = false;
  private cachedNodes: Node[] | null = null;
  private cachedRank: number | null = null;
  private cachedNumbered: number | null = null;

  constructor(
    /** Dotted PyTorch path, "" for the root. */
    readonly path: string,
    readonly name: string,
    readonly parent: Module | null,
    readonly tree: ModuleTree,
  ) {}

  /** The path as a user writes it: `transformer.h[2].mlp`, `model` for the root. */
  get displayPath(): string {
    return displayPath(this.path);
  }

  /** Children in definition order (first execution), later-call aliases excluded. */
  childList(): Module[] {
    return [...this.children.values()].filter((c) => c.callOf === null);
  }

  child(name: string): Module | undefined {
    return this.children.get(name);
  }

  /**
   * `[i]`: the child named `i` (a `Sequential` or `ModuleList` entry; negative counts from the
   * end of the numbered entries). Never "the i-th child" of a module that is not a list: that
   * guessed, and `features[1].block[0][0]` silently meant a different module.
   */
  childAt(index: number): Module | undefined {
    const numbered = this.numberedLength();
    return this.children.get(String(index < 0 ? index + numbered : index));
  }

  /** For a ModuleList or Sequential (children named 0, 1, ...): one past the highest index seen. */
  numberedLength(): number {
    // Computed once (the tree is complete before scripts index it): `[i]` is constant time.
    if (this.cachedNumbered === null) {
      let n = 0;
      for (const name of this.children.keys()) if (/^\d+$/.test(name)) n = Math.max(n, Number(name) + 1);
      this.cachedNumbered = n;
    }
    return this.cachedNumbered;
  }

  /** Every node in this module and its descendants, in execution order. */
  nodes(): Node[] {
    if (this.cachedNodes) return this.cachedNodes;
    // Every module's own nodes below this one, depth first, then sorted once: not by sorting each
    // child's list first (printing the root and `transformer` would sort every module's). Ranks
    // are looked up once each (not twice per comparison: the root's nodes are the whole model);
    // ties (nodes of bodies, unranked) keep the depth-first order.
    const all: Node[] = [];
    const collect = (m: Module): void => {
      // A loop, not push(...list): a module of 100k+ nodes would overflow the argument stack.
      for (const n of m.ownNodes) all.push(n);
      for (const c of m.children.values()) collect(c);
    };
    collect(this);
    const ranks = all.map((n) => this.tree.rankOf(n));
    const out = all.map((_, i) => i).sort((a, b) => ranks[a]! - ranks[b]! || a - b).map((i) => all[i]!);
    this.cachedNodes = out;
    return out;
  }

  hasNodes(): boolean {
    return this.rank() >= 0;
  }

  /**
   * Execution rank: position of its first node in execution order (-1 when it has none). The
   * lowest rank of its own nodes and its children's, without sorting every module's node list
   * (building the tree ranks every module, printing it reads a few modules' nodes).
   */
  rank(): number {
    if (this.cachedRank === null) {
      let rank = -1;
      for (const n of this.ownNodes) {
        const r = this.tree.rankOf(n);
        if (rank < 0 || r < rank) rank = r;
      }
      for (const c of this.children.values()) {
        const r = c.rank();
        if (r >= 0 && (rank < 0 || r < rank)) rank = r;
      }
      this.cachedRank = rank;
    }
    return this.cachedRank;
  }

  get(path: string): Module | undefined {
    return this.tree.get(this.path === "" ? path : `${this.path}.${path}`);
  }
}

export class ModuleTree {
  readonly root: Module;
  private readonly byPath = new Map<string, Module>();
  private readonly ranks = new Map<Node, number>();
  /** Module of each node (deepest scope). */
  readonly moduleOf = new Map<Node, Module>();
  /** What each value is computed from (constants, shapes, data). */
  readonly origins = new Origins();

  constructor(readonly model: IrModel) {
    this.root = new Module("", "model", null, this);
    this.byPath.set("", this.root);
  }

  rankOf(node: Node): number {
    return this.ranks.get(node) ?? Number.MAX_SAFE_INTEGER;
  }

  /** The main graph's nodes in the execution order the tree was built from. */
  order: readonly Node[] = [];

  setOrder(order: readonly Node[]): void {
    this.order = order;
    order.forEach((n, i) => this.ranks.set(n, i));
  }

  get(path: string): Module | undefined {
    return this.byPath.get(path);
  }

  all(): Module[] {
    return [...this.byPath.values()];
  }

  /** The module at `path`, created with its ancestors when missing. */
  ensure(path: string): Module {
    const found = this.byPath.get(path);
    if (found) return found;
    const dot = path.lastIndexOf(".");
    const parent = dot < 0 ? this.root : this.ensure(path.slice(0, dot));
    const name = dot < 0 ? path : path.slice(dot + 1);
    const m = new Module(path, name, parent, this);
    parent.children.set(name, m);
    this.byPath.set(path, m);
    return m;
  }
}

export function displayPath(path: string): string {
  if (path === "") return "model";
  return path
    .split(".")
    .map((seg, i) => (/^\d+$/.test(seg) ? `[${seg}]` : i === 0 ? seg : `.${seg}`))
    .join("");
}

/** Build the tree for the main graph; modules inside If/Loop bodies are found by their node names too. */
export function buildModuleTree(model: IrModel, mainOrder?: readonly Node[]): ModuleTree {
  const tree = new ModuleTree(model);
  const order = mainOrder ?? toposort(model.graph).order;
  tree.setOrder(order);
  tree.origins.fill(order);
  tree.root.called = true;
  // The nodes of one module share one scope object (scopes.ts): its module is found, and its
  // stack marked as called, once.
  const placed = new Map<NodeScope, Module>();
  const place = (node: Node) => {
    const scope = nodeScope(node);
    let m = placed.get(scope);
    if (m === undefined) {
      m = tree.ensure(scope.path);
      if (m.source === "none") m.source = scope.source;
      for (const p of scope.stack) tree.ensure(p).called = true;
      placed.set(scope, m);
    }
    m.ownNodes.push(node);
    tree.moduleOf.set(node, m);
  };
  for (const node of order) place(node);
  placeSubgraphNodes(model.graph, tree, place);
  addNamedParameters(model.graph, tree);
  addInferredEntries(tree);
  linkLaterCalls(tree);
  detachLeakedAliases(model.graph, tree);
  sortChildren(tree.root);
  return tree;
}

/**
 * A numbered container's entries are contiguous (`Sequential`, `ModuleList`): an index missing
 * between two present ones is a module that left nothing in the graph. Entries after the last
 * present one cannot be known, and are not invented.
 */
function addInferredEntries(tree: ModuleTree): void {
  for (const m of tree.all()) {
    const n = m.numberedLength();
    for (let i = 0; i < n; i++) {
      if (m.children.has(String(i))) continue;
      const gap = tree.ensure(m.path === "" ? String(i) : `${m.path}.${i}`);
      gap.inferred = true;
    }
  }
}

function placeSubgraphNodes(graph: Graph, tree: ModuleTree, place: (n: Node) => void): void {
  for (const node of graph.nodes) {
    for (const sub of node.subgraphs.values()) {
      const { order } = toposort(sub);
      for (const inner of order) if (nodeScope(inner).source !== "none") place(inner);
      placeSubgraphNodes(sub, tree, place);
    }
  }
}

/** `transformer.h.2.mlp.c_fc.weight` names the parameter `weight` of module `transformer.h.2.mlp.c_fc`. */
function addNamedParameters(graph: Graph, tree: ModuleTree): void {
  for (const v of graph.initializers) {
    const dot = v.name.lastIndexOf(".");
    if (dot <= 0 || v.name.includes("::") || v.name.includes("/")) continue;
    const m = tree.ensure(v.name.slice(0, dot));
    m.namedParams.set(v.name.slice(dot + 1), v);
  }
}

/** TorchScript names a module's second call `relu_1`: record it as `relu.calls[1]`. */
function linkLaterCalls(tree: ModuleTree): void {
  for (const m of tree.all()) {
    const match = /^(.*)_(\d+)$/.exec(m.name);
    if (!match || !m.parent) continue;
    const first = m.parent.children.get(match[1]!);
    if (!first || first === m) continue;
    m.callOf = first;
    const k = Number(match[2]);
    first.calls[k] = m;
  }
  for (const m of tree.all()) if (m.calls.length > 0) m.calls[0] = m;
}

function sortChildren(m: Module): void {
  const entries = [...m.children.entries()];
  const key = (c: Module) => {
    const r = c.rank();
    return r < 0 ? Number.MAX_SAFE_INTEGER : r;
  };
  entries.sort((a, b) => {
    const na = /^\d+$/.test(a[0]) ? Number(a[0]) : NaN;
    const nb = /^\d+$/.test(b[0]) ? Number(b[0]) : NaN;
    if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
    return key(a[1]) - key(b[1]);
  });
  m.children.clear();
  for (const [k, c] of entries) {
    m.children.set(k, c);
    sortChildren(c);
  }
}
