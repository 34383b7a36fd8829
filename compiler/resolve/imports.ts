// `import "m.onnx" as f`: an ONNX model used as a function. Each call splices the model's nodes
// into the graph with fresh names; its initializers are added once and shared by every call.

import { fail, type Span } from "../../common/index.js";
import type { ModelProto } from "../onnx/index.js";
import { importModel, inferTypes, toposort, type IrModel, type Value } from "../ir/index.js";
import { checkSameElem, elemName, elemOf, type Builder } from "../lower/index.js";

export interface ImportedModel {
  ir: IrModel;
  path: string;
  calls: number;
  /** Its initializers as added to the compiled graph (on the first call). */
  shared: Map<Value, Value> | null;
}

export function loadImported(proto: ModelProto, path: string, mainOpset: number, span: Span): ImportedModel {
  const ir = importModel(proto);
  if (ir.opset !== mainOpset) {
    fail("E0403", `\`${path}\` uses ONNX opset ${ir.opset}, but the model uses opset ${mainOpset}`, span,
      `re-export \`${path}\` at opset ${mainOpset} (torch.onnx.export(..., opset_version=${mainOpset}))`);
  }
  for (const node of ir.graph.nodes) {
    if (node.subgraphs.size > 0) fail("E0403", `\`${path}\` contains control flow (\`${node.opType}\`), which imported models cannot have yet`, span);
  }
  inferTypes(ir.graph);
  return { ir, path, calls: 0, shared: null };
}

/** Splice one call; returns the imported model's outputs in order. */
export function callImported(b: Builder, imp: ImportedModel, alias: string, args: Value[], span: Span): Value[] {
  const g = imp.ir.graph;
  const params = g.inputs.filter((v) => !v.initializer);
  if (args.length !== params.length) {
    fail("E0201", `\`${alias}\` takes ${params.length} input${params.length === 1 ? "" : "s"} (${params.map((p) => p.name).join(", ")}), got ${args.length}`, span);
  }
  params.forEach((p, i) => {
    const want = p.type?.elemType ?? 0;
    const got = elemOf(args[i]!);
    if (want && got && want !== got) fail("E0204", `input \`${p.name}\` of \`${alias}\` is ${elemName(want)}, but the value given is ${elemName(got)}`, span);
  });
  const main = b.graph;
  if (!imp.shared) {
    imp.shared = new Map();
    for (const v of [...g.initializers, ...g.inputs.filter((x) => x.initializer)]) {
      const name = b.freshName(`intv.import.${alias}/${v.name}`);
      const c = main.addValue(name, "initializer", v.type);
      c.initializer = { ...v.initializer!, name };
      main.initializers.push(c);
      imp.shared.set(v, c);
    }
  }
  const k = imp.calls++;
  const map = new Map<Value, Value>(imp.shared);
  params.forEach((p, i) => map.set(p, args[i]!));
  for (const node of toposort(g).order) {
    const inputs = node.inputs.map((v) => (v ? map.get(v) ?? fail("E0403", `\`${alias}\` reads \`${v.name}\`, which it does not define`, span) : null));
    const proto = { ...node.proto, name: `intv.import.${alias}.${k}/${node.name || node.opType}` };
    const outNames = node.outputs.map((v) => (v ? b.freshName(`intv.import.${alias}.${k}/${v.name}`) : ""));
    const clone = main.addNode(proto, inputs, outNames, node.outputs.map((v) => v?.type ?? null));
    node.outputs.forEach((v, i) => v && map.set(v, clone.outputs[i]!));
  }
  const outs = g.outputs.map((v) => map.get(v)!);
  void checkSameElem;
  return outs;
}
