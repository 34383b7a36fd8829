// A module's ports, computed from the set of nodes it contains:
//   inputs  — activation values consumed inside and produced outside (initializers and constants
//             excluded), in order of first use;
//   outputs — values produced inside and consumed outside, or graph outputs; float results first,
//             then integer/bool plumbing (shape computations that leak across scopes), each group
//             in execution order.
// Each port knows its consumer slots: patching `M.output` rewires the slots outside M, patching
// `M.input` only the slots inside M (see docs/language.md, "Port semantics").

import type { Graph, Node, Use, Value } from "../ir/index.js";
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

const INTEGERISH = new Set([6, 7, 9, 12, 13]); // int32 int64 bool uint32 uint64

export function modulePorts(m: Module): ModulePorts {
  const main = m.tree.model.graph;
  const nodes = m.nodes();
  const mainNodes = nodes.filter((n) => n.graph === main);
  if (mainNodes.length > 0 || nodes.length === 0) return portsOf(m, mainNodes, main);
  // Only inside If/Loop bodies: describe the first body it appears in (see modulePortsByScope).
  return portsOf(m, nodes.filter((n) => n.graph === nodes[0]!.graph), nodes[0]!.graph);
}

/**
 * A module whose nodes sit inside control-flow bodies has one set of ports per body (an If's
 * `then_branch` and `else_branch` each compute it). Keyed by the body graph.
 */
export function modulePortsByScope(m: Module): Map<Graph, ModulePorts> {
  const byGraph = new Map<Graph, Node[]>();
  const main = m.tree.model.graph;
  for (const n of m.nodes()) {
    if (n.graph === main) continue;
    const list = byGraph.get(n.graph) ?? [];
    list.push(n);
    byGraph.set(n.graph, list);
  }
  return new Map([...byGraph].map(([g, nodes]) => [g, portsOf(m, nodes, g)]));
}

/** Ports of the module's nodes within one graph scope; `graphOutputs` are positions in that graph's outputs. */
function portsOf(m: Module, nodes: Node[], graph: Graph): ModulePorts {
  const inside = new Set<Node>(nodes);
  const inputs: Port[] = [];
  const seenIn = new Set<Value>();
  const outputs: Port[] = [];
  const seenOut = new Set<Value>();
  const isMain = graph.parent === null;
  for (const node of nodes) {
    for (const raw of node.inputs) {
      if (!raw) continue;
      // In a body, an outer value is read through its proxy, whose uses are the body's slots.
      const v = isMain ? raw.resolve() : raw;
      if (seenIn.has(v) || isConstantLike(v.resolve()) || (v.producer && inside.has(v.producer))) continue;
      seenIn.add(v);
      const slots = v.uses.filter((u) => inside.has(u.node));
      inputs.push({ module: m, kind: "input", index: inputs.length, value: v, slots, graphOutputs: [] });
    }
    for (const v of node.outputs) {
      if (!v || seenOut.has(v)) continue;
      const slots = v.uses.filter((u) => !inside.has(u.node));
      const graphOutputs = graph.outputs.flatMap((o, i) => (o === v ? [i] : []));
      if (slots.length === 0 && graphOutputs.length === 0) continue;
      seenOut.add(v);
      outputs.push({ module: m, kind: "output", index: 0, value: v, slots, graphOutputs });
    }
  }
  const primary = outputs.filter((p) => !INTEGERISH.has(p.value.type?.elemType ?? 1));
  const plumbing = outputs.filter((p) => INTEGERISH.has(p.value.type?.elemType ?? 1));
  const ordered = [...primary, ...plumbing];
  ordered.forEach((p, i) => (p.index = i));
  return { inputs, outputs: ordered };
}

/** Initializers, Constant nodes and values computed only from them are not activations. */
function isConstantLike(v: Value): boolean {
  if (v.kind === "initializer") return true;
  if (v.kind === "input") return false;
  const p = v.producer;
  if (!p) return false;
  if (p.opType === "Constant") return true;
  return false;
}

/** A module's parameters: by initializer name first, then by role in its nodes for folded weights. */
export interface ParamInfo {
  name: string;
  value: Value;
  /** How it was found and how it is stored (`stored as [in, out]: transposed from PyTorch's Linear`). */
  note: string;
}

export function moduleParams(m: Module): ParamInfo[] {
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
    node.inputs.forEach((raw, i) => {
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
