// A forward pass of the script. The last pass runs on the model's own graph, so its outputs keep
// their names and the compiled model is a drop-in replacement; every other pass runs on a copy
// (clone.ts). Reading and patching ports goes through the pass, which maps the imported graph's
// slots onto its own nodes.

import type { Span } from "../../common/index.js";
import type { Graph, IrModel, Node, Use, Value } from "../ir/index.js";
import { copyMainGraph, type GraphCopy } from "./clone.js";
import { covers, type PortInstance, type PortRef, type SlotIds } from "./ports.js";

export interface PatchRecord {
  /** Order of the patch among all statements executed (after unrolling). */
  seq: number;
  span: Span;
  display: string;
  port: PortRef;
  pass: PassState;
  value: Value;
  /** The slots rewired, in the compiled graph. */
  rewired: Use[];
  /** Graph output positions rewired. */
  outputs: number[];
}

export class PassState {
  readonly copy: GraphCopy | null;
  /** The nodes computing this pass (the copy's, or the model's own for the last pass). */
  readonly nodes: Set<Node>;
  /** Patches applied in this pass, per imported value, in program order. */
  private readonly patches = new Map<Value, { slots: Set<string>; port: PortRef; value: Value }[]>();
  /** Model inputs this pass takes from elsewhere (`pass p(input_ids = other)`). */
  readonly overrides: { input: string; from: string }[] = [];

  constructor(
    readonly name: string,
    readonly model: IrModel,
    readonly slotIds: SlotIds,
    isCopy: boolean,
    readonly declared: Span | null,
    originalNodes: Set<Node>,
  ) {
    this.copy = isCopy ? copyMainGraph(model, name, originalNodes) : null;
    this.nodes = this.copy ? new Set(this.copy.nodes.values()) : originalNodes;
  }

  mapValue(v: Value): Value {
    return this.copy?.values.get(v) ?? v;
  }

  mapNode(n: Node): Node {
    return this.copy?.nodes.get(n) ?? n;
  }

  mapUse(u: Use): Use {
    if (!this.copy) return u;
    const node = this.mapNode(u.node);
    if (u.index >= 0) return { node, index: u.index };
    return { node, index: -1, inner: this.copy.values.get(u.inner!) ?? u.inner! };
  }

  /** Nodes of this pass (its copy, or the model's own graph for the last pass). */
  ownsNode(n: Node): boolean {
    return this.nodes.has(n);
  }

  /** The value this pass computes at `port` now: the latest patch that covers it, else the original. */
  read(port: PortRef): Value {
    const list = this.patches.get(port.value);
    if (list) {
      const mine = this.slotIds.keys(port);
      for (let i = list.length - 1; i >= 0; i--) {
        const p = list[i]!;
        if (covers(p.port, port, p.slots, mine)) return p.value;
      }
    }
    return this.mapValue(port.value);
  }

  /** Rewire `port`'s consumers (in this pass) to `value`. Returns what was rewired. */
  patch(port: PortRef, value: Value): { rewired: Use[]; outputs: number[] } {
    const graph = this.model.graph;
    const rewired: Use[] = [];
    for (const base of port.slots) {
      const use = this.mapUse(base);
      graph.rewire(use, value);
      rewired.push(use.index >= 0 ? { node: use.node, index: use.index } : { node: use.node, index: -1, inner: use.inner! });
    }
    const outputs: number[] = [];
    if (!this.copy) {
      for (const i of port.graphOutputs) {
        graph.outputs[i] = value;
        outputs.push(i);
      }
    }
    const list = this.patches.get(port.value) ?? [];
    list.push({ slots: this.slotIds.keys(port), port, value });
    this.patches.set(port.value, list);
    return { rewired, outputs };
  }

  // ---- ports of modules inside If branches (one instance per branch) ----

  private readonly instanceValues = new Map<string, Value>();
  /** Branch values already routed out of their If node, so reading twice adds one output. */
  readonly merged = new Map<string, { values: Value[]; out: Value }>();

  /** The branch graph of this pass for an instance (its copy in a copied pass). */
  graphOf(inst: PortInstance): Graph {
    return this.copy?.graphs.get(inst.graph) ?? inst.graph;
  }

  private instanceKey(port: PortRef, inst: PortInstance): string {
    return `${port.key}#${port.instances!.indexOf(inst)}`;
  }

  readInstance(port: PortRef, inst: PortInstance): Value {
    return this.instanceValues.get(this.instanceKey(port, inst)) ?? this.mapValue(inst.value);
  }

  /** Rewire the instance's consumers inside its branch (and the branch's outputs) to `value`. */
  patchInstance(port: PortRef, inst: PortInstance, value: Value): Use[] {
    const graph = this.graphOf(inst);
    const rewired: Use[] = [];
    for (const base of inst.slots) {
      const use = this.mapUse(base);
      graph.rewire(use, value);
      rewired.push(use);
    }
    for (const i of inst.bodyOutputs) graph.outputs[i] = value;
    this.instanceValues.set(this.instanceKey(port, inst), value);
    return rewired;
  }

  /** Point this pass's uses of a model input at another value (`pass p(input_ids = other)`). */
  overrideInput(input: Value, value: Value, from: string): void {
    this.overrides.push({ input: input.name, from });
    for (const use of [...input.uses]) if (this.nodes.has(use.node)) this.model.graph.rewire(use, value);
  }
}
