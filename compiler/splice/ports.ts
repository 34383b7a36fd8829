// A place in the model a script can read or patch, in terms of the imported graph. Passes map it
// onto their own copy of the computation (passes.ts).

import type { Graph, Use, Value } from "../ir/index.js";
import type { Module } from "../modules/index.js";

/** A port of a module that sits inside If branches: one instance per branch it appears in. */
export interface PortInstance {
  /** The branch graph (in the imported model). */
  graph: Graph;
  value: Value;
  /** Consumer slots inside the branch. */
  slots: Use[];
  /** Positions in the branch's outputs. */
  bodyOutputs: number[];
}

export interface PortRef {
  /** Identity of the port (`out:transformer.h.2.mlp:0`), for tracking its patches. */
  key: string;
  /** As the user writes it: `transformer.h[2].mlp.output`. */
  display: string;
  /** The module the port belongs to (null for graph ports and raw tensors). */
  module: Module | null;
  /** The value in the imported graph. */
  value: Value;
  /** The consumer slots a patch rewires, in the imported graph. */
  slots: Use[];
  /** Graph output positions a patch rewires. */
  graphOutputs: number[];
  /**
   * `output` ports change what leaves a place (module outputs, parameters, raw tensors, graph
   * inputs and outputs); `input` ports change only what enters a module.
   */
  direction: "output" | "input";
  /** Nesting depth: the root is 0, `a.b` is 2, a raw tensor or parameter is innermost (Infinity). */
  depth: number;
  /** For a module inside If branches: its port in each branch (then `value`/`slots` are unused). */
  instances?: PortInstance[];
}

/**
 * Does a patch of `p` change what a read of `q` sees? Both are places on the same tensor.
 * What leaves an inner module leaves the modules around it; what leaves a module enters the
 * modules that read it; what enters a module enters the modules inside it that read it.
 * Patching `mlp.output` therefore leaves `mlp.c_proj.output` as `c_proj` produced it, and
 * patching `mlp.input` leaves `ln_2.output` alone.
 */
export function covers(p: PortRef, q: PortRef, pSlots: Set<string>, qSlots: Set<string>): boolean {
  if (p.key === q.key) return true;
  if (qSlots.size === 0) return false;
  for (const k of qSlots) if (!pSlots.has(k)) return false;
  if (p.direction === "output") return q.direction === "input" || p.depth >= q.depth;
  return q.direction === "input" && p.depth <= q.depth;
}

/** Stable identities for consumer slots (node identity + input index, or the subgraph proxy). */
export class SlotIds {
  private readonly ids = new WeakMap<object, number>();
  private next = 0;
  private id(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.next++));
    return id;
  }
  key(use: Use): string {
    return use.index >= 0 ? `${this.id(use.node)}:${use.index}` : `${this.id(use.node)}:i${this.id(use.inner!)}`;
  }
  keys(port: PortRef): Set<string> {
    const out = new Set(port.slots.map((u) => this.key(u)));
    for (const i of port.graphOutputs) out.add(`out#${i}`);
    return out;
  }
}
