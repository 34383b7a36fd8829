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
/** Operators whose outputs depend on the input's shape only. */
const SHAPE_OPS = new Set(["Shape", "Size"]);
/** Operators with no inputs whose outputs are not constants. */
const SOURCE_OPS = new Set(["RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"]);

export class Origins {
  private readonly memo = new Map<Value, Origin>();

  of(value: Value): Origin {
    const v = value.resolve();
    const known = this.memo.get(v);
    if (known) return known;
    // Iterative post-order walk: graphs of 100k+ nodes would overflow a recursive one.
    const stack: Value[] = [v];
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
      const pending = deps.filter((d) => !this.memo.has(d));
      if (pending.length > 0) {
        // A value on the stack already is a cycle (not in a valid graph); treat it as data.
        for (const d of pending) {
          if (stack.includes(d)) this.memo.set(d, "data");
          else stack.push(d);
        }
        continue;
      }
      let origin: Origin = "const";
      for (const d of deps) if (RANK[this.memo.get(d)!] > RANK[origin]) origin = this.memo.get(d)!;
      if (SHAPE_OPS.has(producer.opType) && origin !== "const") origin = "shape";
      if (SOURCE_OPS.has(producer.opType)) origin = "data";
      this.memo.set(top, origin);
      stack.pop();
    }
    return this.memo.get(v)!;
  }
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
