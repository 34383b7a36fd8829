// What the runtime needs to know about a model before running it: the metadata entries (where the
// manifest lives) and the graph's inputs, outputs and initializer names. onnxruntime-node exposes
// neither custom metadata nor inputs backed by an initializer, so they are read with the
// compiler's ONNX codec (skimModel: those messages decoded, weights stepped over by their
// length, so a multi-gigabyte model costs a few small reads).

import { elemTypeLabel, type Dim } from "../common/index.js";
import { skimModel, skimModelFile, type ModelSkim, type ValueInfoProto } from "../compiler/index.js";

export interface ValueInfo {
  name: string;
  /** Lowercase ONNX element type name; null when the value is not a tensor or has no type. */
  elemType: string | null;
  /** null when the rank is unknown. */
  shape: Dim[] | null;
}

export interface ModelInfo {
  metadata: Map<string, string>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Names of the graph's initializers (an input that has one is optional). */
  initializers: Set<string>;
}

/** Read the model info from a model's bytes. Throws OnnxFormatError when they are not a model. */
export function readModelInfo(bytes: Uint8Array): ModelInfo {
  return modelInfo(skimModel(bytes));
}

/** Read the model info from a model file without loading all of it. */
export function readModelInfoFromFile(path: string): ModelInfo {
  return modelInfo(skimModelFile(path));
}

function modelInfo(skim: ModelSkim): ModelInfo {
  return {
    metadata: new Map(skim.metadata.map((e) => [e.key ?? "", e.value ?? ""])),
    inputs: skim.inputs.map(valueInfo),
    outputs: skim.outputs.map(valueInfo),
    initializers: new Set(skim.initializerNames),
  };
}

function valueInfo(v: ValueInfoProto): ValueInfo {
  const tensor = v.type?.tensor_type;
  return {
    name: v.name ?? "",
    elemType: tensor?.elem_type !== undefined ? elemTypeLabel(tensor.elem_type) : null,
    shape: tensor?.shape ? (tensor.shape.dim ?? []).map(dim) : null,
  };
}

function dim(d: { dim_value?: bigint; dim_param?: string }): Dim {
  if (d.dim_value !== undefined) return Math.max(Number(d.dim_value), -1);
  if (d.dim_param !== undefined) return d.dim_param || null;
  return null;
}
