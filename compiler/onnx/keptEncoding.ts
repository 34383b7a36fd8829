// The bytes a NodeProto was decoded from, kept so that writing the node back costs a copy instead
// of an encoding. A compile leaves most of a model's nodes as they were (GPT-2: ~3,000 nodes, a few
// dozen rewired by a script), and encoding them again was almost all of the encoder's time (25 ms
// warm, 80 ms on a compile's cold JIT).
//
// Only a decode asked to (`keepNodeEncodings`, which the compiler's own read of a model file asks
// for) keeps them, and only for nodes without subgraphs (a body is exported by the IR, node by node),
// without a tensor whose data is external (externalDataRefs steps over kept nodes), and of at most
// KEEP_MAX bytes. A kept node is frozen, deep: the bytes must stay what the object
// says, and an edit in place would make them lie. Its `bytes` fields (a Constant's raw_data) are
// views into the kept bytes, so even an edit of those (which freezing cannot stop) stays in step.
// Code that changes a node makes a new object (the IR copies on write), and a new object has no
// kept bytes: the encoder encodes it.
//
// Freezing is a fifth of GPT-2's decode (20 ms), so the compiler's own read keeps nodes unfrozen
// (`"unfrozen"`): nothing in the compiler edits a NodeProto, `compile` freezes the kept nodes of
// the model it returns (freezeKeptNodes), and `intv compile`, which writes that model and nothing
// else, takes it unfrozen (compileForWrite).

import type { GraphProto, ModelProto, NodeProto, TensorProto } from "./types.js";

/** Larger nodes (a Constant holding a table) are decoded as before: their data may stay in the file. */
export const KEEP_MAX = 64 * 1024;

const kept = new WeakMap<object, Uint8Array>();

/** Records `bytes` as the encoding of `node` (a NodeProto without subgraphs), frozen here with `freeze`. */
export function keepEncoding(node: NodeProto, bytes: Uint8Array, freeze: boolean): void {
  if (freeze) freezeNode(node);
  kept.set(node, bytes);
}

/**
 * Freezes every node of `model` that keeps its bytes (in the graph, control-flow bodies,
 * functions and training graphs): what a decode with `keepNodeEncodings: "unfrozen"` left unfrozen,
 * before the model goes to code that might edit it in place.
 */
export function freezeKeptNodes(model: ModelProto): void {
  const graph = (g: GraphProto | undefined): void => {
    if (g?.node) nodes(g.node);
  };
  const nodes = (list: readonly NodeProto[]): void => {
    for (const n of list) {
      if (kept.has(n)) {
        if (!Object.isFrozen(n)) freezeNode(n);
        continue; // a kept node has no body
      }
      for (const a of n.attribute ?? []) {
        graph(a.g);
        for (const g of a.graphs ?? []) graph(g);
      }
    }
  };
  graph(model.graph);
  for (const f of model.functions ?? []) if (f.node) nodes(f.node);
  for (const t of model.training_info ?? []) {
    graph(t.initialization);
    graph(t.algorithm);
  }
}

/** The bytes `message` was decoded from, if the decoder kept them. */
export function keptEncoding(message: object): Uint8Array | undefined {
  return kept.get(message);
}

/**
 * Freezes a node and everything in it. By hand for what nodes hold (names, attributes of numbers,
 * a Constant's tensor): a generic walk's `for...in` over every object cost 9 ms of GPT-2's decode.
 */
function freezeNode(node: NodeProto): void {
  Object.freeze(node);
  if (node.input) Object.freeze(node.input);
  if (node.output) Object.freeze(node.output);
  if (node.metadata_props) deepFreeze(node.metadata_props);
  if (node.device_configurations) deepFreeze(node.device_configurations);
  const attrs = node.attribute;
  if (!attrs) return;
  Object.freeze(attrs);
  for (const a of attrs) {
    Object.freeze(a);
    if (a.ints) Object.freeze(a.ints);
    if (a.floats) Object.freeze(a.floats);
    if (a.strings) Object.freeze(a.strings);
    if (a.t) freezeTensor(a.t);
    if (a.tensors) for (const t of Object.freeze(a.tensors)) freezeTensor(t);
    if (a.sparse_tensor) deepFreeze(a.sparse_tensor);
    if (a.sparse_tensors) deepFreeze(a.sparse_tensors);
    if (a.tp) deepFreeze(a.tp);
    if (a.type_protos) deepFreeze(a.type_protos);
  }
}

function freezeTensor(t: TensorProto): void {
  Object.freeze(t);
  if (t.dims) Object.freeze(t.dims);
  for (const key of ["float_data", "int32_data", "string_data", "int64_data", "double_data", "uint64_data"] as const) {
    const v = t[key];
    if (v) Object.freeze(v);
  }
  if (t.segment) Object.freeze(t.segment);
  if (t.external_data) deepFreeze(t.external_data);
  if (t.metadata_props) deepFreeze(t.metadata_props);
}

/** Freezes plain objects and arrays all the way down; byte arrays cannot be frozen and are left. */
function deepFreeze(value: object): void {
  if (ArrayBuffer.isView(value) || Object.isFrozen(value)) return;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (const el of value) if (typeof el === "object" && el !== null) deepFreeze(el);
    return;
  }
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === "object" && v !== null) deepFreeze(v);
  }
}
