// The tensors inside each module (`intv inspect --tensors [PATH]`): the outputs of the nodes the
// exporter placed in the module, with the operator that computes each, its type and shape — so a
// user finds the attention probabilities (`Softmax_output_0`) to read or patch with
// `tensor("NAME")` without opening the model in Python. Shape plumbing and constants are left out
// unless asked for.

import { formatShape } from "../ir/index.js";
import { elemTypeName } from "../onnx/index.js";
import type { Origin } from "./dataflow.js";
import type { Module, ModuleTree } from "./tree.js";

export interface TensorJson {
  name: string;
  op: string;
  elemType: string | null;
  shape: (number | string | null)[] | null;
  /** What it is computed from: `data` (the model's inputs), `shape` (sizes only) or `const`. */
  origin: Origin;
  /** For a tensor inside a control-flow body: the node that owns the body. */
  in?: string;
}

export interface ModuleTensorsJson {
  path: string;
  display: string;
  tensors: TensorJson[];
}

/** Each module under `from` (itself first, then depth first) with the tensors of its own nodes. */
export function moduleTensors(tree: ModuleTree, from: Module, all = false): ModuleTensorsJson[] {
  const out: ModuleTensorsJson[] = [];
  const main = tree.model.graph;
  const walk = (m: Module) => {
    const tensors: TensorJson[] = [];
    for (const node of m.ownNodes) {
      for (const v of node.outputs) {
        if (!v) continue;
        const origin = tree.origins.of(v);
        if (!all && origin !== "data") continue;
        const t = v.type;
        const entry: TensorJson = { name: v.name, op: node.opType, elemType: t?.elemType ? elemTypeName(t.elemType) ?? null : null, shape: t?.shape ?? null, origin };
        if (node.graph !== main) entry.in = node.graph.owner?.name ?? "?";
        tensors.push(entry);
      }
    }
    if (tensors.length > 0) out.push({ path: m.path, display: m.displayPath, tensors });
    for (const c of m.childList()) walk(c);
    for (const c of m.calls.slice(1)) walk(c);
  };
  walk(from);
  return out;
}

/** The same as text: a module a line, then one tensor a line (name, operator, type). */
export function formatTensors(modules: readonly ModuleTensorsJson[]): string {
  const lines: string[] = [];
  for (const m of modules) {
    lines.push(`${m.display}:`);
    const width = Math.max(...m.tensors.map((t) => t.name.length));
    const opWidth = Math.max(...m.tensors.map((t) => t.op.length));
    for (const t of m.tensors) {
      const type = `${t.elemType ?? "?"}${formatShape(t.shape)}`;
      const extra = [t.origin !== "data" ? t.origin : "", t.in ? `in \`${t.in}\`` : ""].filter((x) => x).join(", ");
      lines.push(`  ${t.name.padEnd(width)}  ${t.op.padEnd(opWidth)}  ${type}${extra ? `  (${extra})` : ""}`);
    }
  }
  return lines.join("\n");
}
