// Element types and shapes for values the model does not describe. PyTorch's TorchScript exporter
// writes few value_info entries for intermediates, so types are propagated through the graph in
// topological order, one rule per operator (the registry in `infer/registry.ts`, one file per
// operator family). Alongside, the contents of small integer tensors that hold shapes are tracked
// (`infer/values.ts`), so the `Shape → Gather → Concat → Reshape` plumbing exporters write gives
// real shapes, symbolic dimensions (`batch`) included.
//
// What is declared is kept: inference only fills in unknown element types and dimensions.
// Operators without a rule leave their outputs unknown; nothing is guessed.

import type { Graph, Node, Value } from "./graph.js";
import { toposort } from "./toposort.js";
import { constantNumbers, fillType, MAX_CONTENT, NodeCtx, type Content, type Out, type Run } from "./infer/context.js";
import { opKey, SHAPE_RULES, VALUE_RULES } from "./infer/registry.js";

export { broadcastShapes, sliceLength } from "./infer/dims.js";

/**
 * Type every value of `graph` and its subgraphs that inference can type. `order` is the graph's
 * topological order when the caller has it already (else it is computed).
 */
export function inferTypes(graph: Graph, order?: readonly Node[]): void {
  new Inference().graph(graph, order);
}

/** Type one node's outputs (used for nodes the compiler inserts, whose inputs are typed already). */
export function inferNodeTypes(node: Node): void {
  new Inference().node(node);
}

/** Whether a value is a tensor small enough to have its contents tracked (its shape known and static). */
function small(v: Value): boolean {
  const shape = v.type?.shape;
  if (!shape) return false;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== "number") return false;
    n *= d;
  }
  return n <= MAX_CONTENT;
}

const NO_OUTS: readonly Out[] = [];

/** Contents are computed on demand through at most this many producers (nodes typed one by one). */
const MAX_DEPTH = 32;

/** One inference run: its caches die with it. */
class Inference implements Run {
  private readonly contents = new Map<Value, Content | null>();
  private readonly inferred = new Set<Graph>();
  private depth = 0;

  graph(g: Graph, order?: readonly Node[]): void {
    this.inferred.add(g);
    for (const node of order ?? toposort(g).order) this.node(node);
  }

  inferGraph(g: Graph): void {
    if (!this.inferred.has(g)) this.graph(g);
  }

  // Runs once for every node of a model as it is read, mostly before the JIT has warmed up: loops
  // rather than callbacks and iterators, and no allocation a node does not need.
  node(node: Node): void {
    const key = opKey(node);
    const ctx = new NodeCtx(this, node);
    const shapeRule = SHAPE_RULES.get(key);
    const outs = (shapeRule === undefined ? undefined : shapeRule(ctx)) ?? NO_OUTS;
    // Rules of control-flow operators infer their bodies (typing the bodies' inputs first).
    if (node.subgraphs.size > 0) for (const sub of node.subgraphs.values()) this.inferGraph(sub);
    const outputs = node.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const v = outputs[i];
      if (v) fillType(v, outs[i] ?? null);
    }
    const out = outputs[0];
    if (!out) return;
    const rule = VALUE_RULES.get(key);
    if (rule && !this.contents.has(out)) this.contents.set(out, small(out) ? rule(ctx) : null);
  }

  content(v: Value): Content | null {
    const r = v.resolve();
    const known = this.contents.get(r);
    if (known !== undefined) return known;
    let result: Content | null = null;
    if (r.isConstant()) {
      result = constantNumbers(r);
    } else if (r.producer && r.producerIndex === 0) {
      const rule = VALUE_RULES.get(opKey(r.producer));
      if (!rule || !small(r)) result = null;
      else if (this.depth >= MAX_DEPTH) return null; // not cached: a shallower query may get further
      else {
        this.depth++;
        try {
          result = rule(new NodeCtx(this, r.producer));
        } finally {
          this.depth--;
        }
      }
    }
    this.contents.set(r, result);
    return result;
  }
}
