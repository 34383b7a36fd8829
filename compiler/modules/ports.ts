// A module's ports, computed from the set of nodes it contains.
//
// The raw lists:
//   inputs  — activation values consumed inside and produced outside (constants excluded): values
//             computed from the model's inputs first, then shape plumbing, each in order of first use;
//   outputs — values produced inside and consumed outside, or graph outputs (constants excluded):
//             data first, then shape plumbing, each in execution order.
// Each port knows its consumer slots: patching `M.output` rewires the slots outside M, patching
// `M.input` only the slots inside M (see docs/language.md, "Port semantics").
//
// `M.output` and `M.input` are not simply the first of each list: they are what PyTorch's forward
// hook and forward pre-hook see, chosen from the evidence the export leaves (primaryPort below),
// or a refusal that says why the export cannot tell.

import type { Graph, Node, Use, Value } from "../ir/index.js";
import { Origins } from "./dataflow.js";
import { liveEdges, type Edges } from "./edges.js";
import { foldedConvOf, type FoldedConv } from "./folds.js";
import type { Module } from "./tree.js";

export interface Port {
  module: Module;
  kind: "input" | "output";
  index: number;
  value: Value;
  /** The consumer slots a patch of this port rewires. */
  slots: Use[];
  /** Graph output positions a patch of this port rewires (outputs only). */
  graphOutputs: number[];
}

export interface ModulePorts {
  inputs: Port[];
  outputs: Port[];
}

/** `edges`: read the graph as it is now, or as it was (edges.ts; the compiler's References). */
export function modulePorts(m: Module, scope: Graph = homeScope(m), edges: Edges = liveEdges): ModulePorts {
  return portsOf(m, nodesIn(m, scope), scope, edges);
}

/**
 * The graph a module is described in: the main graph when it has nodes there, else the first
 * control-flow body it appears in (a model whose whole graph sits in an If's branches).
 */
export function homeScope(m: Module): Graph {
  const main = m.tree.model.graph;
  // A module that left no node runs where the module around it does.
  let holder: Module | null = m;
  while (holder && !holder.hasNodes()) holder = holder.parent;
  const nodes = holder?.nodes() ?? [];
  return nodes.length === 0 || nodes.some((n) => n.graph === main) ? main : nodes[0]!.graph;
}

/** The module's nodes in one graph scope, in execution order. */
export function nodesIn(m: Module, scope: Graph): Node[] {
  return m.nodes().filter((n) => n.graph === scope);
}

/** The body graphs (not the main graph) a module has nodes in: one per If branch it runs in. */
export function bodyScopes(m: Module): Graph[] {
  const main = m.tree.model.graph;
  const out: Graph[] = [];
  for (const n of m.nodes()) if (n.graph !== main && !out.includes(n.graph)) out.push(n.graph);
  return out;
}

/**
 * A module whose nodes sit inside control-flow bodies has one set of ports per body (an If's
 * `then_branch` and `else_branch` each compute it). Keyed by the body graph.
 */
export function modulePortsByScope(m: Module): Map<Graph, ModulePorts> {
  return new Map(bodyScopes(m).map((g) => [g, modulePorts(m, g)]));
}

/** Ports of the module's nodes within one graph scope; `graphOutputs` are positions in that graph's outputs. */
function portsOf(m: Module, nodes: Node[], graph: Graph, edges: Edges): ModulePorts {
  const origins = m.tree.origins;
  const inside = new Set<Node>(nodes);
  const inputs: Port[] = [];
  const seenIn = new Set<Value>();
  const outputs: Port[] = [];
  const seenOut = new Set<Value>();
  const isMain = graph.parent === null;
  // Positions of each graph output, found once (not once per value the module produces).
  const outputPositions = new Map<Value, number[]>();
  edges.outputs(graph).forEach((o, i) => {
    const list = outputPositions.get(o);
    if (list) list.push(i);
    else outputPositions.set(o, [i]);
  });
  for (const node of nodes) {
    for (const raw of edges.inputs(node)) {
      if (!raw) continue;
      // In a body, an outer value is read through its proxy, whose uses are the body's slots.
      const v = isMain ? raw.resolve() : raw;
      if (seenIn.has(v) || (v.producer && inside.has(v.producer)) || origins.of(v) === "const") continue;
      seenIn.add(v);
      const slots = edges.uses(v).filter((u) => inside.has(u.node));
      inputs.push({ module: m, kind: "input", index: 0, value: v, slots, graphOutputs: [] });
    }
    for (const v of node.outputs) {
      if (!v || seenOut.has(v) || origins.of(v) === "const") continue;
      const slots = edges.uses(v).filter((u) => !inside.has(u.node));
      const graphOutputs = outputPositions.get(v) ?? [];
      if (slots.length === 0 && graphOutputs.length === 0) continue;
      seenOut.add(v);
      outputs.push({ module: m, kind: "output", index: 0, value: v, slots, graphOutputs });
    }
  }
  return { inputs: dataFirst(inputs, origins), outputs: dataFirst(outputs, origins) };
}

function dataFirst(ports: Port[], origins: Origins): Port[] {
  const ordered = [...ports.filter((p) => origins.of(p.value) === "data"), ...ports.filter((p) => origins.of(p.value) !== "data")];
  ordered.forEach((p, i) => (p.index = i));
  return ordered;
}

// ---- `M.output` and `M.input`: what the hooks see, or why the export cannot tell ----

export type Refusal =
  /** The module left no node (eval-mode Dropout, a BatchNorm folded away, weights used directly). */
  | { reason: "no-nodes" }
  /** A `ModuleList`/`ModuleDict`: its children run, it never does. */
  | { reason: "not-called" }
  /** The value is a Conv's output with a BatchNorm folded into it: not the convolution's own. */
  | { reason: "folded"; conv: FoldedConv }
  /** Next to a folded Conv in a `Sequential`: the value before the BatchNorm exists nowhere. */
  | { reason: "fused-away"; conv: FoldedConv }
  /** An entry of a `Sequential` that left no node, whose neighbours do not show what flowed through it. */
  | { reason: "no-flow" }
  /** Several values could be it; the export does not say which. */
  | { reason: "ambiguous"; candidates: Port[] }
  /** The module's first operation concatenates what enters it: its argument may be a list, which hooks see as a list. */
  | { reason: "list-argument"; port: Port }
  /** Every value entering the module is a constant of the export (folded at export time). */
  | { reason: "constant-input" }
  /** Nothing computed from the model's inputs leaves the module. */
  | { reason: "no-output" };

export type PortChoice = { port: Port; refusal?: undefined } | { port?: undefined; refusal: Refusal };

/**
 * The port PyTorch's hooks see: `output` is the value the module's forward returned (the first
 * tensor of a tuple), `input` its first tensor argument.
 *
 * Output: the values leaving the module are candidates. One candidate is it. With several, a
 * value also consumed inside the module is an intermediate that leaked (or a tuple entry that is
 * also used inside, such as a KV-cache tensor), and the returned value is the one the module's
 * last computation produces — but only when every leaked one leaves for the graph's outputs alone
 * (the cache pattern): a leaked value that feeds computation outside could just as well be what
 * the forward returned first, and the export does not say. Among several final values, the one
 * that flows on to computation is it when all others only leave the model (a block returning
 * `(hidden, present)`). Anything else is ambiguous and refused.
 *
 * Input: the one value computed from the model's inputs that enters the module. The export does
 * not record the order of a forward's arguments, so a module that reads several (a BERT layer's
 * hidden states and attention mask, a block given past keys and values) is refused, listing
 * `M.inputs[i]`; shape plumbing made from sizes alone (position ids, a causal mask) does not count
 * as a second argument. Refused too when the module starts by concatenating its input (a list
 * argument such as DenseNet's `prev_features`: hooks see the list).
 */
export function primaryPort(m: Module, kind: "input" | "output", scope: Graph = homeScope(m), ports?: ModulePorts, edges: Edges = liveEdges): PortChoice {
  if (!m.hasNodes()) return m.inferred || /^\d+$/.test(m.name) ? sequentialEntry(m, kind, scope, edges) : { refusal: { reason: "no-nodes" } };
  if (!m.called) return { refusal: { reason: "not-called" } };
  // `ports`: modulePorts(m, scope) when the caller has it already, computed on the graph as it is
  // now (a printed line and the compiler's snapshot need both ports and primaries: one walk of
  // the module's nodes instead of three).
  return kind === "output" ? returnedValue(m, scope, edges, ports) : firstArgument(m, scope, edges, ports);
}

function returnedValue(m: Module, scope: Graph, edges: Edges, ports = modulePorts(m, scope, edges)): PortChoice {
  const origins = m.tree.origins;
  const candidates = ports.outputs.filter((p) => origins.of(p.value) === "data");
  if (candidates.length === 0) return { refusal: { reason: "no-output" } };
  const chosen = candidates.length === 1 ? candidates[0]! : pickReturned(nodesIn(m, scope), candidates, edges);
  if (!chosen) return { refusal: { reason: "ambiguous", candidates } };
  const folded = foldedConvOf(chosen.value, edges);
  if (folded) return { refusal: { reason: "folded", conv: folded } };
  return { port: chosen };
}

function pickReturned(nodes: Node[], candidates: Port[], edges: Edges): Port | null {
  const inside = new Set(nodes);
  const usedInside = (p: Port) => edges.uses(p.value).some((u) => inside.has(u.node));
  /** Leaves only as a graph output (a cache tensor handed back to the caller). */
  const exitsOnly = (p: Port) => p.slots.length === 0;
  const final = candidates.filter((p) => !usedInside(p));
  const leaked = candidates.filter((p) => usedInside(p));
  if (!leaked.every(exitsOnly)) return null;
  if (final.length === 1) return final[0]!;
  const flowing = final.filter((p) => !exitsOnly(p));
  return flowing.length === 1 ? flowing[0]! : null;
}

/** Operators that build one tensor (or sequence) from a list: a module starting with one was likely given a list. */
const LIST_OPS = new Set(["Concat", "ConcatFromSequence", "SequenceConstruct", "SequenceInsert"]);

function firstArgument(m: Module, scope: Graph, edges: Edges, ports = modulePorts(m, scope, edges)): PortChoice {
  const origins = m.tree.origins;
  const all = ports.inputs;
  const data = all.filter((p) => origins.of(p.value) === "data");
  // Shape plumbing (position ids, causal masks made from sizes) is an argument candidate only
  // when nothing computed from the model's inputs enters.
  const pool = data.length > 0 ? data : all;
  if (pool.length === 0) return { refusal: { reason: "constant-input" } };
  if (pool.length > 1) return { refusal: { reason: "ambiguous", candidates: pool } };
  const only = pool[0]!;
  // `torch.cat(prev_features, 1)` as the first thing a module does: its argument was a list
  // (DenseNet's layers), and a pre-hook sees the list, not the tensor in it.
  const first = nodesIn(m, scope).find((n) => edges.inputs(n).some((v) => v === only.value || v?.resolve() === only.value));
  if (first && LIST_OPS.has(first.opType)) return { refusal: { reason: "list-argument", port: only } };
  return { port: only };
}

/**
 * An entry of a `Sequential` that left no node. Its neighbours chain: the entry before it hands
 * its output to the entry after it, so what flowed through is known — unless the entry before is
 * a Conv with a BatchNorm folded into it. Then the BatchNorm is one of the missing entries, the
 * last missing entry's output is the fused value, and every value before the BatchNorm is gone.
 */
function sequentialEntry(m: Module, kind: "input" | "output", scope: Graph, edges: Edges): PortChoice {
  const seq = m.parent;
  if (!seq || !seq.called || seq.numberedLength() === 0) return { refusal: { reason: "no-nodes" } };
  const index = Number(m.name);
  const entries = [...seq.children.values()].filter((c) => /^\d+$/.test(c.name) && c.callOf === null);
  const present = (c: Module) => nodesIn(c, scope).length > 0;
  const before = entries.filter((c) => Number(c.name) < index && present(c)).sort((a, b) => Number(b.name) - Number(a.name))[0];
  const after = entries.filter((c) => Number(c.name) > index && present(c)).sort((a, b) => Number(a.name) - Number(b.name))[0];
  if (!after) return { refusal: { reason: "no-flow" } };
  const next = primaryPort(after, "input", scope, undefined, edges);
  if (!next.port) return { refusal: { reason: "no-flow" } };
  const flowing = next.port.value;
  let folded: FoldedConv | null = null;
  if (before) {
    const prev = primaryPort(before, "output", scope, undefined, edges);
    if (prev.refusal?.reason === "folded" && prev.refusal.conv.node.outputs[0] === flowing) folded = prev.refusal.conv;
    else if (prev.port?.value !== flowing) return { refusal: { reason: "no-flow" } };
  } else {
    const first = primaryPort(seq, "input", scope, undefined, edges);
    if (first.port?.value !== flowing) return { refusal: { reason: "no-flow" } };
  }
  if (folded && (kind === "input" || index !== Number(after.name) - 1)) return { refusal: { reason: "fused-away", conv: folded } };
  // What the entries after this one read: the slots a patch of this entry changes.
  const downstream = edges.uses(flowing).filter((u) => {
    const owner = entryOf(m.tree.moduleOf.get(u.node), seq);
    return owner !== undefined && /^\d+$/.test(owner.name) && Number(owner.name) > index;
  });
  return { port: { module: m, kind, index: 0, value: flowing, slots: downstream, graphOutputs: [] } };
}

/** The child of `seq` that `m` is inside of. */
function entryOf(m: Module | undefined, seq: Module): Module | undefined {
  for (let x = m; x; x = x.parent ?? undefined) if (x.parent === seq) return x;
  return undefined;
}

/** A module's parameters: by initializer name first, then by role in its nodes for folded weights. */
export interface ParamInfo {
  name: string;
  value: Value;
  /** How it was found and how it is stored (`stored as [in, out]: transposed from PyTorch's Linear`). */
  note: string;
}

export function moduleParams(m: Module, edges: Edges = liveEdges): ParamInfo[] {
  const out: ParamInfo[] = [];
  const taken = new Set<Value>();
  for (const [name, value] of m.namedParams) {
    out.push({ name, value, note: "by name" });
    taken.add(value);
  }
  if (!m.hasNodes()) return out;
  // Folded weights (`onnx::MatMul_12`): find them by role in the module's own nodes.
  const own = m.ownNodes.length > 0 ? m.ownNodes : m.nodes().filter((n) => m.tree.moduleOf.get(n) === m);
  for (const node of own) {
    edges.inputs(node).forEach((raw, i) => {
      if (!raw) return;
      const v = raw.resolve();
      if (v.kind !== "initializer" || taken.has(v)) return;
      const role = roleOf(node, i, v);
      if (!role || out.some((p) => p.name === role.name)) return;
      out.push({ name: role.name, value: v, note: role.note });
      taken.add(v);
    });
  }
  return out;
}

function roleOf(node: Node, index: number, v: Value): { name: string; note: string } | null {
  const rank = v.type?.shape?.length ?? -1;
  switch (node.opType) {
    case "MatMul":
      if (index === 1 && rank === 2) return { name: "weight", note: "folded; stored as [in, out] (the transpose of nn.Linear's [out, in])" };
      return null;
    case "Gemm": {
      if (index === 1) {
        const transB = node.attribute("transB")?.i === 1n;
        return { name: "weight", note: transB ? "folded; stored as [out, in] like nn.Linear" : "folded; stored as [in, out]" };
      }
      if (index === 2) return { name: "bias", note: "folded" };
      return null;
    }
    case "Conv":
    case "ConvTranspose":
      if (index === 1) return { name: "weight", note: "folded (BatchNorm may be fused into it)" };
      if (index === 2) return { name: "bias", note: "folded (BatchNorm may be fused into it)" };
      return null;
    case "LayerNormalization":
    case "BatchNormalization":
    case "InstanceNormalization":
      if (index === 1) return { name: "weight", note: "folded" };
      if (index === 2) return { name: "bias", note: "folded" };
      return null;
    case "Add":
      if (rank === 1) return { name: "bias", note: "folded; added after the MatMul" };
      return null;
    case "Gather":
      if (index === 0 && rank === 2) return { name: "weight", note: "folded embedding table" };
      return null;
    default:
      return null;
  }
}
