// The module tree as a user sees it: indented like `print(model)` in PyTorch, one module a line
// with its ports' types and shapes and its execution rank; or the same as data (`--json`).

import { formatShape, type Graph, type ValueType } from "../ir/index.js";
import { elemTypeName } from "../onnx/index.js";
import { homeScope, modulePorts, moduleParams, primaryPort, type ModulePorts, type Port, type Refusal } from "./ports.js";
import type { Module, ModuleTree } from "./tree.js";

export interface PortJson {
  name: string;
  tensor: string;
  elemType: string | null;
  shape: (number | string | null)[] | null;
}

export interface ModuleJson {
  path: string;
  display: string;
  rank: number;
  nodes: number;
  /** false for a module the model shows existed (by parameters) that has no nodes. */
  hasNodes: boolean;
  source: string;
  inputs: PortJson[];
  outputs: PortJson[];
  params: (PortJson & { note: string })[];
  calls: string[];
  /** What `.output` / `.input` read: the tensor, or why the export cannot tell. */
  primary: { output: PrimaryJson; input: PrimaryJson };
  children: ModuleJson[];
}

export type PrimaryJson = { tensor: string; elemType: string | null; shape: (number | string | null)[] | null } | { refused: string };

export function typeText(t: ValueType | null): string {
  if (!t) return "?";
  return `${t.elemType ? elemTypeName(t.elemType) : "?"}${formatShape(t.shape)}`;
}

function portJson(name: string, p: { value: Port["value"] }): PortJson {
  const t = p.value.type;
  return { name, tensor: p.value.name, elemType: t?.elemType ? elemTypeName(t.elemType) ?? null : null, shape: t?.shape ?? null };
}

export function moduleToJson(m: Module, depth = Infinity): ModuleJson {
  const scope = homeScope(m);
  const ports = modulePorts(m, scope);
  return {
    path: m.path,
    display: m.displayPath,
    rank: m.rank(),
    nodes: m.nodes().length,
    hasNodes: m.hasNodes(),
    source: m.source,
    inputs: ports.inputs.map((p, i) => portJson(i === 0 ? "input" : `inputs[${i}]`, p)),
    outputs: ports.outputs.map((p, i) => portJson(i === 0 ? "output" : `outputs[${i}]`, p)),
    params: moduleParams(m).map((p) => ({ ...portJson(p.name, p), note: p.note })),
    calls: m.calls.slice(1).map((c) => c.displayPath),
    primary: { output: primaryJson(m, "output", scope, ports), input: primaryJson(m, "input", scope, ports) },
    children: depth > 0 ? m.childList().map((c) => moduleToJson(c, depth - 1)) : [],
  };
}

function primaryJson(m: Module, kind: "input" | "output", scope: Graph, ports: ModulePorts): PrimaryJson {
  if (m.parent === null) return { refused: "the whole model: use `model.inputs`/`model.outputs`" };
  const c = primaryPort(m, kind, scope, ports);
  if (c.refusal) return { refused: refusalText(m, c.refusal) };
  const p = portJson(kind, c.port);
  return { tensor: p.tensor, elemType: p.elemType, shape: p.shape };
}

/** A refusal in a few words, for `intv inspect`. */
export function refusalText(m: Module, r: Refusal): string {
  switch (r.reason) {
    case "no-nodes":
      return "no nodes in the exported graph";
    case "no-flow":
      return "no nodes, and its neighbours do not show what passed through";
    case "not-called":
      return "a container that is never called";
    case "folded":
      return `a BatchNorm is folded into the Conv \`${r.conv.node.name}\` that computes it`;
    case "fused-away":
      return `the value before the BatchNorm folded into \`${m.tree.moduleOf.get(r.conv.node)?.displayPath ?? r.conv.node.name}\` is not in the graph`;
    case "ambiguous":
      return `the export does not show which of ${r.candidates.length} values`;
    case "list-argument":
      return "its argument may be a list";
    case "constant-input":
      return "a constant of the export";
    case "no-output":
      return "nothing computed from the model's inputs leaves it";
    default: {
      const never: never = r;
      return String(never);
    }
  }
}

/** Indented text, one module a line: `(mlp): in float32[batch, seq, 32] → out float32[...]  #412`. */
export function formatTree(tree: ModuleTree, depth = Infinity): string {
  const lines: string[] = [];
  const graph = tree.model.graph;
  const walk = (m: Module, indent: string, d: number) => {
    const root = m.parent === null;
    const label = root ? "model" : `(${m.name})`;
    const params = moduleParams(m).map((p) => `${p.name} ${typeText(p.value.type)}`);
    let text = `${indent}${label}:`;
    if (root) {
      // The model's own signature: inputs read only inside control-flow bodies included.
      const ins = graph.inputs.filter((v) => !v.initializer).map((v) => typeText(v.type));
      text += ` ${ins.join(", ") || "()"} → ${graph.outputs.map((v) => typeText(v.type)).join(", ") || "()"}`;
    } else {
      const scope = homeScope(m);
      const ports = modulePorts(m, scope);
      const input = primaryPort(m, "input", scope, ports);
      const output = primaryPort(m, "output", scope, ports);
      const side = (c: typeof input, ports: Port[]) => {
        if (c.port) return typeText(c.port.value.type) + (ports.length > 1 ? ` (+${ports.length - 1})` : "");
        return `(refused: ${refusalText(m, c.refusal)})`;
      };
      if (!m.hasNodes() && !output.port && !input.port) text += m.called ? " (no nodes in the exported graph)" : ` (${output.refusal ? refusalText(m, output.refusal) : "no nodes"})`;
      else if (!m.called && m.hasNodes()) text += " (a container that is never called; its entries are)";
      else {
        if (!m.hasNodes()) text += " (no nodes; what passes through)";
        text += ` ${side(input, ports.inputs)} → ${side(output, ports.outputs)}`;
      }
    }
    if (params.length > 0) text += `  [${params.join(", ")}]`;
    if (m.calls.length > 1) text += `  calls: ${m.calls.length}`;
    if (m.hasNodes() && m.rank() < Number.MAX_SAFE_INTEGER) text += `  #${m.rank()}`;
    lines.push(text);
    if (d <= 0) return;
    for (const c of m.childList()) walk(c, indent + "  ", d - 1);
  };
  walk(tree.root, "", depth);
  return lines.join("\n");
}
