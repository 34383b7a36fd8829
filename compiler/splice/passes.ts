// A forward pass of the script, computed copy-on-write. A pass starts out sharing the nodes of the
// computation it runs on — the model's own nodes, or, for a pass with overridden inputs
// (`pass p(input_ids = other)`), a copy of the part of the model that depends on those inputs,
// made once and shared by every pass with the same overrides. A pass copies a node only when one
// of its inputs differs there: a patch copies the nodes downstream of the place it rewires (and
// rewires the copies), so passes that compute the same values from the same inputs up to their
// first patch share those nodes by construction. Shared nodes are never changed.
//
// A read hands out the pass's value of a place. Where that value is still shared, the read goes
// through a placeholder (an Identity the optimizer removes), so that a patch written later in the
// pass, upstream of the place, reaches the read (the pass is one forward pass; W0001 says so).
//
// The model's outputs are the last pass's (splice/index.ts), and the copies of the last pass take
// the names of the model's nodes they replace (optimize/names.ts).
//
// A script with one pass (no `pass` statements) on a model without control-flow bodies computes
// in place instead (`inPlace`): nothing else computes from the model's nodes, so the pass's own
// nodes are the model's, a patch rewires the model's consumers themselves, and a read is the
// model's value (a later patch upstream changes the node computing it, which is what a placeholder
// re-pointed at a copy gives). Same result, without copying every node downstream of the first
// patch and removing the originals afterwards (GPT-2, a patch of layer 0: ~3,000 nodes, a sixth of
// a compile). A module call copies the module's nodes as the model has them, not as patches
// rewired them (splice/calls.ts reads the edges from before the script).

import { InternalError, type Span } from "../../common/index.js";
import type { Graph, IrModel, Node, Use, Value } from "../ir/index.js";
import { copyNode, freshCopyName, type CopyMap } from "./clone.js";
import { AppliedPatches, feedDownstream, slotsOf } from "./appliedPatches.js";
import type { PortInstance, PortRef, SlotIds } from "./ports.js";

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
  /**
   * Whether the patch's statement made `value` (`x *= 2`), rather than assigning a value that was
   * there before it (`x = transformer.h[0].attn.output`, a `let` name): only a value the patch made
   * is reached later through the patched place alone.
   */
  made: boolean;
  /**
   * The uses `value` had before the patch: for a value the patch made, the uses it gains afterwards
   * (a later patch building on it, a save, a module call through a patched weight) are what the
   * patch reaches through (check/warnings.ts).
   */
  usesBefore: ReadonlySet<Use>;
  /** Positions of the model's outputs the patch replaces (they are the model's if its pass is the last). */
  outputs: number[];
}

/** The model's own nodes, before the script changed anything. */
export interface Originals {
  nodes: ReadonlySet<Node>;
  /** Position of each in a topological order of the model: copies are made in this order. */
  rank: ReadonlyMap<Node, number>;
}

export class PassState {
  /** The model's nodes this pass computes differently, to its own copies. */
  private readonly own = new Map<Node, Node>();
  /** The model's values (bodies' values included) and bodies, to this pass's copies. */
  private readonly map: CopyMap = { values: new Map(), graphs: new Map(), nodes: new Map() };
  /** Reads of values this pass still shared when they were read (model value → Identity). */
  private readonly placeholders = new Map<Value, Node>();
  /** Patches applied in this pass, per imported value (appliedPatches.ts). */
  private readonly patches = new AppliedPatches();
  /** Model inputs this pass takes from elsewhere (`pass p(input_ids = other)`). */
  readonly overrides: { input: string; from: string }[] = [];
  /** Model outputs replaced in this pass (`model.output = v`, a patch of `lm_head.output`), by position. */
  private readonly outputPatches = new Map<number, Value>();
  /** The pass that ran last: its values are the model's outputs. Set when the script has run. */
  isLast = false;

  constructor(
    readonly name: string,
    readonly model: IrModel,
    readonly slotIds: SlotIds,
    readonly declared: Span | null,
    private readonly originals: Originals,
    /** The computation this pass starts from: null for the model's own nodes. */
    readonly parent: PassState | null = null,
    /** Prefix of the names of its copies. */
    private readonly prefix = name,
    /** The pass computes on the model's own nodes (see above); only for the one pass of a script. */
    readonly inPlace = false,
  ) {
    if (inPlace && parent !== null) throw new InternalError("a pass that computes in place starts from the model");
  }

  /** A computation of the model on other inputs, for the passes that override them (shared, never patched). */
  static onInputs(name: string, model: IrModel, slotIds: SlotIds, originals: Originals, inputs: { input: Value; value: Value }[]): PassState {
    const base = new PassState(name, model, slotIds, null, originals, null, name);
    for (const { input, value } of inputs) base.map.values.set(input, value);
    base.privatize(inputs.flatMap(({ input }) => input.uses.map((u) => u.node)));
    return base;
  }

  /** This pass's value of a model value: its own copy's, else the one of the computation it starts from. */
  valueOf(v: Value): Value {
    return this.map.values.get(v) ?? this.parent?.valueOf(v) ?? v;
  }

  /** The model's nodes this pass copied, to their copies. */
  copies(): ReadonlyMap<Node, Node> {
    return this.own;
  }

  /** The Identity nodes reads went through (removed once the script has run). */
  placeholderNodes(): Node[] {
    return [...this.placeholders.values()];
  }

  /**
   * The value of a model value as this pass computes it, for a read: where the pass still shares
   * it, through a placeholder that a later patch upstream re-points at the pass's own copy.
   */
  readValue(v: Value): Value {
    if (this.inPlace) return v;
    const mine = this.map.values.get(v);
    if (mine) return mine;
    const shared = this.valueOf(v);
    if (!v.producer || !this.originals.nodes.has(v.producer)) return shared;
    let ph = this.placeholders.get(v);
    if (!ph) {
      const graph = this.model.graph;
      const name = freshCopyName(this.model, `intv.read/${this.prefix}`, v.name);
      ph = graph.addNode({ name, op_type: "Identity", doc_string: "a read of the script, removed before the model is written" }, [shared], [name], [shared.type]);
      ph.order = (v.producer.order ?? 0) + 0.75;
      this.placeholders.set(v, ph);
    }
    return ph.outputs[0]!;
  }

  /** The value this pass computes at `port` now: the latest patch that covers it, else the model's value. */
  read(port: PortRef): Value {
    return this.patches.latest(port.value, port, this.slotIds.keys(port))?.value ?? this.readValue(port.value);
  }

  /**
   * The value that reaches `node` (a model node) at input `index` in this pass: a weight patched
   * earlier in the pass is seen there (a module call reads its weights this way).
   */
  slotValue(node: Node, index: number): Value | null {
    const mine = this.own.get(node);
    if (mine) return mine.inputs[index] ?? null;
    if (this.parent) return this.parent.slotValue(node, index);
    const v = node.inputs[index];
    return v ? this.valueOf(v) : null;
  }

  /**
   * Rewire `port`'s consumers (in this pass) to `value`, copying what the patch changes. Returns what
   * was rewired. `current` is what the patch read at `port` (`read`), `reads` the uses of it the
   * patch's own computation made.
   *
   * Places on one value are applied in the forward pass's order, whatever order the script writes
   * them in (appliedPatches.ts): a patch of a place upstream of one patched earlier goes in before
   * it. Applying it over it instead dropped the earlier patch (`mlp.output *= 3` then
   * `mlp.c_proj.output *= 2` lost the 3, found by review).
   */
  patch(port: PortRef, value: Value, current: Value, reads: readonly Use[]): { rewired: Use[]; outputs: number[] } {
    const graph = this.model.graph;
    const mine = this.slotIds.keys(port);
    const downstream = this.patches.downstreamOf(port.value, port, mine);
    const theirs = slotsOf(downstream);
    this.privatize(port.slots.map((u) => u.node));
    const rewired: Use[] = [];
    for (const base of port.slots) {
      if (theirs.has(this.slotIds.key(base))) continue;
      const use = this.mapUse(base);
      graph.rewire(use, value);
      rewired.push(use.index >= 0 ? { node: use.node, index: use.index } : { node: use.node, index: -1, inner: use.inner! });
    }
    rewired.push(...feedDownstream(graph, downstream, current, value));
    const outputs = port.graphOutputs.filter((i) => !theirs.has(`out#${i}`));
    for (const i of outputs) this.outputPatches.set(i, value);
    this.patches.add(port.value, { slots: mine, port, value, reads }, downstream);
    return { rewired, outputs };
  }

  /** The model's output at `position` as this pass computes it (`original` is the model's own). */
  outputValue(position: number, original: Value): Value {
    return this.outputPatches.get(position) ?? this.valueOf(original);
  }

  /** A use of the model (`node.inputs[index]`, or a body's read of an outer value) in this pass's copy. */
  private mapUse(u: Use): Use {
    if (this.inPlace) return u;
    const node = this.own.get(u.node);
    if (!node) throw new InternalError(`the pass \`${this.name}\` has no copy of \`${u.node.name}\``);
    if (u.index >= 0) return { node, index: u.index };
    return { node, index: -1, inner: this.map.values.get(u.inner!) ?? u.inner! };
  }

  /**
   * Copy, in the model's order, the given nodes and every node downstream of them that this pass
   * does not have a copy of yet; reads of their values re-point at the copies, and so do the
   * pass's earlier copies downstream of them, where they still read the shared value.
   */
  private privatize(seeds: Node[]): void {
    if (this.inPlace) return; // its nodes are the model's
    const { nodes, rank } = this.originals;
    const cone: Node[] = [];
    /** Nodes of the cone's downstream this pass had copied already (by an earlier patch). */
    const owned: Node[] = [];
    const seen = new Set<Node>();
    const stack = [...seeds];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (seen.has(n) || !nodes.has(n)) continue;
      seen.add(n);
      if (this.own.has(n)) {
        owned.push(n); // what is downstream of it is this pass's already
        continue;
      }
      cone.push(n);
      for (const o of n.outputs) if (o) for (const u of o.uses) stack.push(u.node);
    }
    if (cone.length === 0) return;
    cone.sort((a, b) => rank.get(a)! - rank.get(b)!);
    const graph = this.model.graph;
    const lookup = (v: Value) => this.valueOf(v);
    const shared = (v: Value): Value => this.parent?.valueOf(v) ?? v;
    for (const n of cone) {
      const clone = copyNode(this.model, graph, n, n.inputs.map((v) => (v ? this.valueOf(v) : null)), this.prefix, this.map, lookup);
      clone.order = n.order + 0.5; // next to the model's node in the written order
      this.own.set(n, clone);
      n.outputs.forEach((v, i) => {
        const ph = v ? this.placeholders.get(v) : undefined;
        if (ph) graph.setInput(ph, 0, clone.outputs[i]!);
      });
    }
    // An earlier copy read the shared value of what is copied only now (a patch upstream of an
    // earlier one: `h[3].mlp.output = …` then `h[1].output *= 2`): it reads this pass's copy
    // now. A slot a patch rewired reads the patch's value, and stays.
    const copied = new Set(cone);
    for (const n of owned) {
      const c = this.own.get(n)!;
      n.inputs.forEach((v, i) => {
        if (v && v.producer && copied.has(v.producer) && c.inputs[i] === shared(v)) graph.setInput(c, i, this.map.values.get(v)!);
      });
      for (const body of n.subgraphs.values()) {
        for (const proxy of body.outerValues.values()) {
          const v = proxy.outer;
          const mine = this.map.values.get(proxy);
          if (v && v.producer && copied.has(v.producer) && mine && mine.outer === shared(v)) graph.rewire({ node: c, index: -1, inner: mine }, this.map.values.get(v)!);
        }
      }
    }
  }

  // ---- ports of modules inside If branches (one instance per branch) ----

  /** Patches applied in this pass per branch value (an instance's value in the imported branch). */
  private readonly instancePatches = new AppliedPatches();
  /** Branch values already routed out of their If node, so reading twice adds one output. */
  readonly merged = new Map<string, { values: Value[]; out: Value }>();

  /** The branch graph of this pass for an instance (its own copy once it has one). */
  graphOf(inst: PortInstance): Graph {
    return this.map.graphs.get(inst.graph) ?? this.parent?.graphOf(inst) ?? inst.graph;
  }

  /** The branch graph of this pass for an instance, copied first: where a patch or a routed-out read goes. */
  ownBody(inst: PortInstance): Graph {
    if (this.inPlace) throw new InternalError("a pass that computes in place is only made for a model without control-flow bodies");
    const owner = inst.graph.owner;
    if (owner) this.privatize([owner]);
    return this.graphOf(inst);
  }

  /** The instance's consumer slots inside its branch and its positions in the branch's outputs, as SlotIds keys. */
  private instanceSlots(inst: PortInstance): Set<string> {
    const out = new Set(inst.slots.map((u) => this.slotIds.key(u)));
    for (const i of inst.bodyOutputs) out.add(`out#${i}`);
    return out;
  }

  /** The value this pass computes at the instance now: the latest patch that covers it, as `read`. */
  readInstance(port: PortRef, inst: PortInstance): Value {
    return this.instancePatches.latest(inst.value, port, this.instanceSlots(inst))?.value ?? this.valueOf(inst.value);
  }

  /**
   * Rewire the instance's consumers inside its branch (and the branch's outputs) to `value`; places
   * on one value apply in the forward pass's order, as `patch` says.
   */
  patchInstance(port: PortRef, inst: PortInstance, value: Value, current: Value, reads: readonly Use[]): Use[] {
    const graph = this.ownBody(inst);
    const mine = this.instanceSlots(inst);
    const downstream = this.instancePatches.downstreamOf(inst.value, port, mine);
    const theirs = slotsOf(downstream);
    const rewired: Use[] = [];
    for (const base of inst.slots) {
      if (theirs.has(this.slotIds.key(base))) continue;
      const node = this.map.nodes.get(base.node);
      if (!node) throw new InternalError(`the pass \`${this.name}\` has no copy of \`${base.node.name}\``);
      const use: Use = base.index >= 0 ? { node, index: base.index } : { node, index: -1, inner: this.map.values.get(base.inner!) ?? base.inner! };
      graph.rewire(use, value);
      rewired.push(use);
    }
    rewired.push(...feedDownstream(graph, downstream, current, value));
    for (const i of inst.bodyOutputs) if (!theirs.has(`out#${i}`)) graph.outputs[i] = value;
    this.instancePatches.add(inst.value, { slots: mine, port, value, reads }, downstream);
    return rewired;
  }
}

