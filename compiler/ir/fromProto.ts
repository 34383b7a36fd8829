// Import: ModelProto → IR. Everything the IR does not model (doc strings, metadata, attributes,
// training info, functions) stays on the proto objects and passes through export untouched.

import type { AttributeProto, GraphProto, ModelProto, TypeProto, ValueInfoProto } from "../onnx/index.js";
import { OnnxFormatError } from "../onnx/index.js";
import { Graph, Node, Value, noValue } from "./graph.js";
import type { Dim, ValueType } from "./types.js";

export interface IrModel {
  /** The imported model; its `graph` field is stale once imported — `graph` below is the truth. */
  proto: ModelProto;
  graph: Graph;
  /** Version of the default ONNX domain (`ai.onnx`). */
  opset: number;
  /** Every tensor name in every scope, for fresh-name generation. */
  names: Set<string>;
  /**
   * Nodes added since the import: numbers the names of added nodes (`Add_12`), so every stage
   * that adds nodes (lowering, splicing) continues one numbering.
   */
  addedNodes: number;
}

export function importModel(proto: ModelProto): IrModel {
  if (!proto.graph) throw new OnnxFormatError("the model has no graph");
  const names = new Set<string>();
  const graph = importGraph(proto.graph, null, null, names);
  const opsetEntry = (proto.opset_import ?? []).find((o) => (o.domain ?? "") === "" || o.domain === "ai.onnx");
  const opset = opsetEntry?.version !== undefined ? Number(opsetEntry.version) : 1;
  return { proto, graph, opset, names, addedNodes: 0 };
}

export function typeFromProto(t: TypeProto | undefined): ValueType | null {
  const tensor = t?.tensor_type;
  if (!tensor) return null;
  const shape: Dim[] | null = tensor.shape
    ? (tensor.shape.dim ?? []).map((d) =>
        d.dim_value !== undefined ? Number(d.dim_value) : d.dim_param !== undefined && d.dim_param !== "" ? d.dim_param : null,
      )
    : null;
  return { elemType: tensor.elem_type ?? 0, shape };
}

const NO_NAMES: readonly string[] = [];
const NO_ATTRIBUTES: readonly AttributeProto[] = [];

/** Where the node list is imported: every node of `gp`, subgraphs recursively. */
function importGraph(gp: GraphProto, parent: Graph | null, owner: Node | null, names: Set<string>): Graph {
  const g = new Graph(parent);
  g.owner = owner;
  const define = (name: string, kind: Value["kind"], info: ValueInfoProto | null): Value => {
    const v = g.addValue(name, kind, info ? typeFromProto(info.type) : null);
    v.info = info;
    names.add(name);
    return v;
  };

  const initByName = new Map((gp.initializer ?? []).map((t) => [t.name ?? "", t]));
  // Names are defined once (SSA). Two inputs or two initializers of one name were accepted, and
  // which one a runtime would use is anyone's guess (found by test/reliability-models.test.ts).
  const twice = (what: string, name: string): OnnxFormatError => new OnnxFormatError(`${what} \`${name}\` is defined twice in graph \`${gp.name ?? ""}\``);
  for (const info of gp.input ?? []) {
    if (g.values.has(info.name ?? "")) throw twice("input", info.name ?? "");
    const v = define(info.name ?? "", "input", info);
    const init = initByName.get(v.name);
    if (init) v.initializer = init; // an input with a default value
    g.inputs.push(v);
  }
  const initialized = new Set<string>();
  for (const t of gp.initializer ?? []) {
    const name = t.name ?? "";
    if (initialized.has(name)) throw twice("initializer", name);
    initialized.add(name);
    let v = g.values.get(name);
    if (!v) {
      v = define(name, "initializer", null);
      v.type = { elemType: t.data_type ?? 0, shape: (t.dims ?? []).map(Number) };
      v.initializer = t;
    } else if (!v.type) {
      v.type = { elemType: t.data_type ?? 0, shape: (t.dims ?? []).map(Number) };
    }
    g.initializers.push(v);
  }
  for (const t of gp.sparse_initializer ?? []) {
    const name = t.values?.name ?? "";
    if (g.values.has(name)) throw twice("initializer", name);
    const v = define(name, "initializer", null);
    v.type = { elemType: t.values?.data_type ?? 0, shape: (t.dims ?? []).map(Number) };
    g.initializers.push(v);
  }

  // Pass 1: every node and its outputs, so inputs can be resolved whatever the node order.
  const protos = gp.node ?? [];
  const created: Node[] = [];
  for (let i = 0; i < protos.length; i++) {
    const np = protos[i]!;
    // A copy without the names (the IR holds the edges). Not `delete`: that turns the object into
    // a dictionary, and every later read of `proto.op_type` (type inference, module recovery,
    // export) pays for it. Edge arrays are mapped, so that they are sized to fit.
    const { input: _input, output: _output, ...rest } = np;
    const outputNames = np.output ?? NO_NAMES;
    const node = new Node(rest, g, i, (np.input ?? NO_NAMES).map(noValue), outputNames.map(noValue));
    node.imported = np;
    g.nodes.add(node);
    for (let k = 0; k < outputNames.length; k++) {
      const name = outputNames[k]!;
      if (name === "") continue;
      if (g.values.has(name)) throw new OnnxFormatError(`tensor \`${name}\` is defined twice in graph \`${gp.name ?? ""}\``);
      const v = define(name, "node", null);
      v.producer = node;
      v.producerIndex = k;
      node.outputs[k] = v;
    }
    created.push(node);
  }
  g.bumpOrder(created.length);

  // Pass 2: inputs (possibly from enclosing scopes) and subgraphs.
  for (let i = 0; i < created.length; i++) {
    const node = created[i]!;
    const np = protos[i]!;
    const inputNames = np.input ?? NO_NAMES;
    for (let k = 0; k < inputNames.length; k++) {
      const name = inputNames[k]!;
      if (name === "") continue;
      const v = resolveName(g, name);
      if (!v) throw new OnnxFormatError(`node \`${np.name || np.op_type}\` reads \`${name}\`, which nothing in the model defines`);
      node.inputs[k] = v;
      v.uses.push({ node, index: k });
    }
    for (const attr of np.attribute ?? NO_ATTRIBUTES) {
      if (attr.g) node.setSubgraph(attr.name ?? "", importGraph(attr.g, g, node, names));
      (attr.graphs ?? []).forEach((sub, k) => node.setSubgraph(`${attr.name}#${k}`, importGraph(sub, g, node, names)));
    }
  }

  for (const info of gp.value_info ?? []) {
    const v = g.values.get(info.name ?? "");
    if (!v) continue; // value_info for a name that is not here: kept on export (see toProto)
    v.info ??= info;
    v.type ??= typeFromProto(info.type);
  }
  for (const info of gp.output ?? []) {
    const v = resolveName(g, info.name ?? "");
    if (!v) throw new OnnxFormatError(`graph output \`${info.name}\` is not produced by anything`);
    if (!v.type) v.type = typeFromProto(info.type);
    g.outputs.push(v);
    g.outputInfos.push(info);
  }
  return g;
}

/** Resolve a name in `g`, creating outer-scope proxies (with implicit uses) as needed. */
function resolveName(g: Graph, name: string): Value | undefined {
  const local = g.values.get(name) ?? g.outerValues.get(name);
  if (local) return local;
  if (!g.parent || !g.owner) return undefined;
  const outer = resolveName(g.parent, name);
  if (!outer) return undefined;
  const proxy = new Value(name, "outer", outer.type, g);
  proxy.outer = outer;
  g.outerValues.set(name, proxy);
  outer.uses.push({ node: g.owner, index: -1, inner: proxy });
  return proxy;
}
