// Reading a model's interface without its weights, for a runtime about to load it: the metadata
// entries, the graph's inputs and outputs, and its initializers' names. The decoder (decode.ts)
// steps over the nodes and the other bulky fields by their length (DecodeOptions.skip), and from a
// file it leaves the weights unread, so a multi-gigabyte model costs a few small reads.
//
// Also: removing some initializers from a model's bytes (the runtime feeds params' defaults
// itself), the removed tensors decoded.

import { decodeModel, decodeModelFile } from "./decode.js";
import { encodeModel } from "./encode.js";
import { OnnxFormatError } from "./errors.js";
import type { ModelProto, StringStringEntryProto, TensorProto, ValueInfoProto } from "./types.js";

export interface ModelSkim {
  /** `metadata_props`, in file order. */
  metadata: StringStringEntryProto[];
  /** The main graph's `input` and `output`. */
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  /** Names of the main graph's initializers. */
  initializerNames: string[];
}

/** What a skim does not need: stepped over, not decoded (nor checked). */
const SKIP = [
  "onnx.ModelProto.functions",
  "onnx.ModelProto.training_info",
  "onnx.GraphProto.node",
  "onnx.GraphProto.value_info",
  "onnx.GraphProto.sparse_initializer",
  "onnx.GraphProto.quantization_annotation",
];

/** The interface of the model held in `bytes`. */
export function skimModel(bytes: Uint8Array): ModelSkim {
  return skimOf(decoded(() => decodeModel(bytes, { skip: SKIP })));
}

/** The interface of the model in the file at `path`, reading only the parts it needs. */
export function skimModelFile(path: string): ModelSkim {
  return skimOf(decoded(() => decodeModelFile(path, { skip: SKIP })));
}

/**
 * The model in `bytes` without the main graph's initializers named in `names`; the removed
 * initializers, decoded, by name. Everything else is as it was (encoded again: the same bytes for
 * a model as protobuf writes it, which is every model intv writes).
 */
export function withoutInitializers(bytes: Uint8Array, names: ReadonlySet<string>): { model: Uint8Array; removed: Map<string, TensorProto> } {
  const model = decoded(() => decodeModel(bytes));
  const removed = new Map<string, TensorProto>();
  const graph = model.graph;
  if (graph?.initializer === undefined) return { model: bytes, removed };
  const kept = graph.initializer.filter((t) => {
    if (t.name === undefined || !names.has(t.name)) return true;
    removed.set(t.name, t);
    return false;
  });
  if (removed.size === 0) return { model: bytes, removed };
  const out: ModelProto = { ...model, graph: { ...graph, initializer: kept.length > 0 ? kept : undefined } };
  return { model: encodeModel(out), removed };
}

function decoded(decode: () => ModelProto): ModelProto {
  try {
    return decode();
  } catch (e) {
    if (e instanceof OnnxFormatError) throw new OnnxFormatError(`not a valid ONNX model: ${e.message}`, e.offset);
    throw e;
  }
}

function skimOf(model: ModelProto): ModelSkim {
  const graph = model.graph;
  if (graph === undefined) throw new OnnxFormatError("not an ONNX model (no graph)");
  return {
    metadata: model.metadata_props ?? [],
    inputs: graph.input ?? [],
    outputs: graph.output ?? [],
    initializerNames: (graph.initializer ?? []).flatMap((t) => (t.name === undefined ? [] : [t.name])),
  };
}
