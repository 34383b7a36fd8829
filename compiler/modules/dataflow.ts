// What a value is computed from, as far as ports are concerned:
//   const — only from initializers and Constant nodes (weights, folded constants);
//   shape — from the *shapes* of activations but not their contents (Shape/Size and arithmetic on
//           them: reshape targets, position ids made with `arange(seq)`, masks built from sizes);
//   data  — from the contents of a model input.
// A module's return value is data; what leaks out of a module as shape plumbing or constants is
// not something its forward returned.

import type { Node, Value } from "../ir/index.js";

export type Origin = "const" | "shape" | "data";

const RANK: Record<Origin, number> = { const: 0, shape: 1, data: 2 };
const BY_RANK: readonly Origin[] = ["const", "shape", "data"];
/** Operators whose outputs depend on the input's shape only. */
const SHAPE_OPS = new Set(["Shape", "Size"]);
/** Operators with no inputs whose outputs are not constants. */
const SOURCE_OPS = new Set(["RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"]);

export class Origins {
  private readonly memo = new Map<Value, Origin>();

  /**
   * Find the origin of every value the nodes in `order` (a topological order) produce, in one pass.
   * The module tree does this for the main graph when it is built, so that every origin is the
   * model's own: a script's patches rewire the graph later, and the compiler asks for ports (and
   * so origins) only when a script names a module (edges.ts).
   */
  fill(order: readonly Node[]): void {
    const memo = this.memo;
    const originOf = (d: Value): Origin => memo.get(d) ?? this.of(d);
    for (const node of order) {
      const origin = producedOrigin(node, originOf);
      for (const v of node.outputs) if (v !== null && !memo.has(v)) memo.set(v, directOrigin(v) ?? origin);
    }
  }

  of(value: Value): Origin {
    const v = value.resolve();
    const known = this.memo.get(v);
    if (known) return known;
    // Iterative depth-first walk (graphs of 100k+ nodes would overflow a recursive one). A value
    // is visited twice: first its pending dependencies are pushed above it, then (when they are
    // all known) its own origin is computed. `open` holds the values between the two visits: the
    // path from `v` down to the top of the stack. A dependency in `open` is a cycle (not in a
    // valid graph) and counts as data; one merely waiting lower on the stack (a shared weight, a
    // shape used twice) is not, and is walked like any other — the answer must not depend on the
    // order values are asked about.
    const stack: Value[] = [v];
    const open = new Set<Value>();
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (this.memo.has(top)) {
        stack.pop();
        continue;
      }
      const direct = directOrigin(top);
      if (direct) {
        this.memo.set(top, direct);
        stack.pop();
        continue;
      }
      const producer = top.producer!;
      const deps = dependencies(producer);
      if (!open.has(top)) {
        open.add(top);
        let pushed = false;
        for (const d of deps) {
          if (this.memo.has(d)) continue;
          if (open.has(d)) this.memo.set(d, "data");
          else {
            stack.push(d);
            pushed = true;
          }
        }
        if (pushed) continue;
      }
      this.memo.set(top, producedOrigin(producer, (d) => this.memo.get(d) ?? "data"));
      open.delete(top);
      stack.pop();
    }
    return this.memo.get(v)!;
  }
}

/**
 * The origin of what `producer` computes, given its dependencies' origins. No array per node (this
 * runs for every node of the model when it is read): the origins are combined as they are looked up.
 */
function producedOrigin(producer: Node, originOf: (dependency: Value) => Origin): Origin {
  let highest = 0;
  for (const input of producer.inputs) if (input !== null) highest = Math.max(highest, RANK[originOf(input.resolve())]);
  if (producer.subgraphs.size > 0) for (const d of producer.implicitInputs()) highest = Math.max(highest, RANK[originOf(d.resolve())]);
  const origin = BY_RANK[highest]!;
  const op = producer.opType;
  if (SHAPE_OPS.has(op) && origin !== "const") return "shape";
  if (SOURCE_OPS.has(op)) return "data";
  return origin;
}

function directOrigin(v: Value): Origin | null {
  if (v.kind === "initializer") return "const";
  if (v.kind === "input") return v.initializer ? "const" : "data";
  if (v.kind === "outer") return null;
  const p = v.producer;
  if (!p) return "data";
  if (p.opType === "Constant") return "const";
  return null;
}

/** The values a node's outputs are computed from: its inputs and what its subgraphs read. */
function dependencies(node: Node): Value[] {
  const out: Value[] = [];
  for (const i of node.inputs) if (i) out.push(i.resolve());
  for (const i of node.implicitInputs()) out.push(i.resolve());
  return out;
}
