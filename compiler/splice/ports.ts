// A place in the model a script can read or patch, in terms of the imported graph. Passes map it
// onto their own copy of the computation (passes.ts).

import type { Use, Value } from "../ir/index.js";
import type { Module } from "../modules/index.js";

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
