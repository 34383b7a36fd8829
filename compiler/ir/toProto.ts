// Export: IR → ModelProto. Proto objects the IR did not touch are reused as they are, so an
// unmodified model exports to the same bytes it was imported from.

import { keptEncoding, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto, type TypeProto, type ValueInfoProto } from "../onnx/index.js";
import type { Graph, Node, Value } from "./graph.js";
import type { IrModel } from "./fromProto.js";
import { toposort } from "./toposort.js";
import type { ValueType } from "./types.js";
import { InternalError } from "../../common/index.js";

export function exportModel(model: IrModel): ModelProto {
  return { ...model.proto, graph: exportGraph(model.graph, model.proto.graph!) };
}

export function typeToProto(t: ValueType): TypeProto {
  const tensor: NonNullable<TypeProto["tensor_type"]> = { elem_type: t.elemType };
  if (t.shape) {
    tensor.shape = {
      dim: t.shape.map((d) => (d === null ? {} : typeof d === "number" ? { dim_value: BigInt(d) } : { dim_param: d })),
    };
  }
  return { tensor_type: tensor };
}

/** A value_info entry for `v` under its current name, reusing the imported one when it fits. */
function infoFor(v: Value, imported: ValueInfoProto | null): ValueInfoProto {
  const base = imported ?? v.info;
  if (base && base.name === v.name) return base;
  if (base) return { ...base, name: v.name };
  const info: ValueInfoProto = { name: v.name };
  if (v.type) info.type = typeToProto(v.type);
  return info;
}

function exportGraph(g: Graph, original: GraphProto): GraphProto {
  const { order, cyclic } = toposort(g);
  if (cyclic.length > 0) throw new InternalError(`graph \`${original.name ?? ""}\` has a cycle at export`);
  const out: GraphProto = { ...original };
  out.node = order.map((node) => {
    const imported = node.imported;
    // Only one that keeps its bytes (onnx/keptEncoding.ts), which a node the caller built does not:
    // theirs stays theirs. compile freezes the compiled model's kept nodes.
    if (imported !== null && node.subgraphs.size === 0 && keptEncoding(imported) !== undefined && saysTheSame(imported, node)) return imported;
    const inputs = node.inputs.map((v) => (v ? v.resolve().name : ""));
    const outputs = node.outputs.map((v) => (v ? v.name : ""));
    // The fields in field-number order (input, output, then the rest as imported or built: the
    // IR holds the edges, not the proto), which the encoder visits fastest (encode.ts).
    const { input: _input, output: _output, ...rest } = node.proto;
    const np: NodeProto = inputs.length > 0 ? { input: inputs } : {};
    if (outputs.length > 0) np.output = outputs;
    Object.assign(np, rest);
    if (node.subgraphs.size > 0) np.attribute = (np.attribute ?? []).map((a) => exportAttribute(a, node.subgraphs));
    return np;
  });
  out.input = g.inputs.map((v) => infoFor(v, null));
  out.output = g.outputs.map((v, i) => {
    const info = g.outputInfos[i] ?? null;
    const name = v.resolve().name;
    if (info && info.name === name) return info;
    return info ? { ...info, name } : infoFor(v, null);
  });
  const initializers: TensorProto[] = [];
  for (const v of g.initializers) {
    if (!v.initializer) continue; // sparse initializers live in `sparse_initializer`, kept as imported
    initializers.push(v.initializer.name === v.name ? v.initializer : { ...v.initializer, name: v.name });
  }
  for (const v of g.inputs) {
    if (v.initializer && !g.initializers.includes(v)) {
      initializers.push(v.initializer.name === v.name ? v.initializer : { ...v.initializer, name: v.name });
    }
  }
  if (initializers.length > 0 || original.initializer) out.initializer = initializers;
  // value_info: the imported entries whose values still exist, then entries for values the
  // compiler typed (inserted nodes), so viewers and runtimes see their types.
  const valueInfo: ValueInfoProto[] = [];
  const seen = new Set<string>();
  const attached = new Set<ValueInfoProto>();
  for (const v of g.values.values()) if (v.info) attached.add(v.info);
  for (const info of original.value_info ?? []) {
    const v = g.values.get(info.name ?? "");
    if (v && v.info === info) {
      valueInfo.push(info);
      seen.add(v.name);
    } else if (!v && !attached.has(info)) {
      valueInfo.push(info); // describes a name we do not know: keep it, lose nothing
    }
  }
  for (const v of g.values.values()) {
    if (seen.has(v.name) || v.kind !== "node" || !v.info || v.info.name === v.name) continue;
    valueInfo.push(infoFor(v, null));
  }
  if (valueInfo.length > 0 || original.value_info) out.value_info = valueInfo;
  return out;
}

/**
 * Whether `node` says what `imported` says, field for field: the same edges (by name, as exported)
 * and the same values in every other field (the IR never edits a proto in place, it makes a new
 * one). Compared without building the node's name arrays: most nodes are unchanged.
 */
function saysTheSame(imported: NodeProto, node: Node): boolean {
  const ins = imported.input;
  const n = node.inputs.length;
  if ((ins?.length ?? 0) !== n) return false;
  for (let i = 0; i < n; i++) {
    const v = node.inputs[i];
    if (ins![i] !== (v ? v.resolve().name : "")) return false;
  }
  const outs = imported.output;
  const m = node.outputs.length;
  if ((outs?.length ?? 0) !== m) return false;
  for (let i = 0; i < m; i++) {
    const v = node.outputs[i];
    if (outs![i] !== (v ? v.name : "")) return false;
  }
  const a = node.proto as Record<string, unknown>;
  const b = imported as Record<string, unknown>;
  let fields = 0;
  for (const key in a) {
    if (a[key] !== b[key]) return false;
    fields++;
  }
  for (const key in b) if (key !== "input" && key !== "output") fields--;
  return fields === 0;
}

function exportAttribute(a: AttributeProto, subgraphs: ReadonlyMap<string, Graph>): AttributeProto {
  if (a.g) {
    const sub = subgraphs.get(a.name ?? "");
    return sub ? { ...a, g: exportGraph(sub, a.g) } : a;
  }
  if (a.graphs && a.graphs.length > 0) {
    return { ...a, graphs: a.graphs.map((gp, i) => { const sub = subgraphs.get(`${a.name}#${i}`); return sub ? exportGraph(sub, gp) : gp; }) };
  }
  return a;
}
