// A compiled model in Triton Inference Server's model repository layout:
//
//   DIR/NAME/config.pbtxt      the model configuration, written from the model and its manifest
//   DIR/NAME/1/model.onnx      the compiled model (version 1), run by Triton's onnxruntime backend
//
// Every graph input and output is listed with its Triton data type and dimensions (-1 where the
// model's dimension is symbolic), so each save is an output a client can request by its graph
// output name; the manifest's save and param names are recorded as model parameters
// (`intv.save.NAME` → graph output), beside the whole manifest (`intv.manifest`). When every input
// and output has the same symbolic first dimension (the batch), the configuration declares it as
// Triton's batch dimension (`max_batch_size`) and turns on its dynamic batcher, which gathers
// concurrent requests into one run.
//
// Format: https://github.com/triton-inference-server/server/blob/main/docs/user_guide/model_configuration.md

import { PROMPT_LENGTH_INPUT, type Dim, type Manifest } from "../common/index.js";
import type { ValueInfo } from "./model-info.js";

const TRITON_TYPES: Record<string, string> = {
  float32: "TYPE_FP32", float16: "TYPE_FP16", float64: "TYPE_FP64", bfloat16: "TYPE_BF16",
  int8: "TYPE_INT8", int16: "TYPE_INT16", int32: "TYPE_INT32", int64: "TYPE_INT64",
  uint8: "TYPE_UINT8", uint16: "TYPE_UINT16", uint32: "TYPE_UINT32", uint64: "TYPE_UINT64",
  bool: "TYPE_BOOL", string: "TYPE_STRING",
};

export interface TritonOptions {
  /** The model's name in the repository (the folder's name). */
  name: string;
  /** `max_batch_size` when the model can be batched (default 64). */
  maxBatchSize?: number;
}

/** A Triton model name: letters, digits, `_`, `-` and `.`. */
export function tritonModelName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^\.+/, "_") || "model";
}

/** `config.pbtxt` for a compiled model with these graph inputs and outputs. */
export function tritonConfig(
  model: { inputs: readonly ValueInfo[]; outputs: readonly ValueInfo[]; manifest: Manifest | null; initializers?: ReadonlySet<string> },
  options: TritonOptions,
): string {
  const values = [...model.inputs, ...model.outputs];
  for (const v of values) {
    if (v.elemType === null || !TRITON_TYPES[v.elemType]) {
      throw new Error(`\`${v.name}\` has element type ${v.elemType ?? "unknown"}, which Triton's configuration cannot declare`);
    }
    if (v.shape === null) throw new Error(`\`${v.name}\` has no known rank, which Triton's configuration needs`);
  }
  const first = new Set(values.map((v) => v.shape![0]));
  const batch = first.size === 1 && typeof [...first][0] === "string";
  const dims = (shape: Dim[]): string => `[ ${(batch ? shape.slice(1) : shape).map((d) => (typeof d === "number" ? String(d) : "-1")).join(", ")} ]`;
  const tensor = (v: ValueInfo, comment?: string, optional = false): string => [
    "  {",
    `    name: ${quote(v.name)}${comment ? `  # ${comment}` : ""}`,
    `    data_type: ${TRITON_TYPES[v.elemType!]}`,
    // A scalar is declared as [1] reshaped to [] (Triton's way; `dims: [ ]` is refused).
    ...(v.shape!.length === (batch ? 1 : 0) ? ["    dims: [ 1 ]", "    reshape: { shape: [ ] }"] : [`    dims: ${dims(v.shape!)}`]),
    ...(optional ? ["    optional: true"] : []),
    "  }",
  ].join("\n");
  const saves = new Map((model.manifest?.saves ?? []).map((s) => [s.output, s]));
  const params = new Map((model.manifest?.params ?? []).map((p) => [p.input, p]));
  const lines = [
    `# Written by intv from the compiled model's manifest${model.manifest ? ` (script ${model.manifest.script})` : ""}.`,
    `name: ${quote(options.name)}`,
    `platform: "onnxruntime_onnx"`,
    `max_batch_size: ${batch ? (options.maxBatchSize ?? 64) : 0}`,
    "input [",
    model.inputs.map((v) => {
      const param = params.get(v.name);
      if (param) return tensor(v, `param ${param.name}${param.hasDefault ? " (has a default)" : ""}`, param.hasDefault);
      // An input with an initializer of its name has a default (ONNX's rule), so a client may
      // leave it out: intv.prompt_length, which only generation without a cache sets, is one.
      const defaulted = model.initializers?.has(v.name) ?? false;
      const comment = v.name === PROMPT_LENGTH_INPUT ? "the sequence window of generation without a cache (has a default)" : defaulted ? "has a default" : undefined;
      return tensor(v, comment, defaulted);
    }).join(",\n"),
    "]",
    "output [",
    model.outputs.map((v) => tensor(v, saves.has(v.name) ? `save ${saves.get(v.name)!.name}` : "model output")).join(",\n"),
    "]",
  ];
  if (batch) lines.push("dynamic_batching { }");
  const parameters: [string, string][] = [
    ...[...saves.values()].map((s): [string, string] => [`intv.save.${s.name}`, s.output]),
    ...[...params.values()].map((p): [string, string] => [`intv.param.${p.name}`, p.input]),
  ];
  if (model.manifest) parameters.push(["intv.manifest", JSON.stringify(model.manifest)]);
  for (const [key, value] of parameters) {
    lines.push(`parameters {\n  key: ${quote(key)}\n  value { string_value: ${quote(value)} }\n}`);
  }
  return `${lines.join("\n")}\n`;
}

/** A protobuf text-format string literal. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}
