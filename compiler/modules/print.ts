// The module tree as a user sees it: indented like `print(model)` in PyTorch, one module a line
// with its ports' types and shapes and its execution rank; or the same as data (`--json`).

import { formatShape, type ValueType } from "../ir/index.js";
import { elemTypeName } from "../onnx/index.js";
import { modulePorts, moduleParams, type Port } from "./ports.js";
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
  children: ModuleJson[];
}

export function typeText(t: ValueType | null): string {
  if (!t) return "?";
  return `${t.elemType ? elemTypeName(t.elemType) : "?"}${formatShape(t.shape)}`;
}

function portJson(name: string, p: { value: Port["value"] }): PortJson {
  const t = p.value.type;
  return { name, tensor: p.value.name, elemType: t?.elemType ? elemTypeName(t.elemType) ?? null : null, shape: t?.shape ?? null };
}

export function moduleToJson(m: Module, depth = Infinity): ModuleJson {
  const ports = modulePorts(m);
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
    children: depth > 0 ? m.childList().map((c) => moduleToJson(c, depth - 1)) : [],
  };
}

/** Indented text, one module a line: `(mlp): in float32[batch, seq, 32] → out float32[...]  #412`. */
export function formatTree(tree: ModuleTree, depth = Infinity): string {
  const lines: string[] = [];
  const walk = (m: Module, indent: string, d: number) => {
    const ports = modulePorts(m);
    const label = m.parent === null ? "model" : `(${m.name})`;
    const ins = ports.inputs.slice(0, 3).map((p) => typeText(p.value.type));
    if (ports.inputs.length > 3) ins.push(`+${ports.inputs.length - 3}`);
    const outs = ports.outputs.slice(0, 2).map((p) => typeText(p.value.type));
    if (ports.outputs.length > 2) outs.push(`+${ports.outputs.length - 2}`);
    const params = moduleParams(m).map((p) => `${p.name} ${typeText(p.value.type)}`);
    let text = `${indent}${label}:`;
    if (!m.hasNodes()) text += " (no nodes in the exported graph)";
    else text += ` ${ins.join(", ") || "()"} → ${outs.join(", ") || "()"}`;
    if (params.length > 0) text += `  [${params.join(", ")}]`;
    if (m.calls.length > 1) text += `  calls: ${m.calls.length}`;
    if (m.hasNodes()) text += `  #${m.rank()}`;
    lines.push(text);
    if (d <= 0) return;
    for (const c of m.childList()) walk(c, indent + "  ", d - 1);
  };
  walk(tree.root, "", depth);
  return lines.join("\n");
}
