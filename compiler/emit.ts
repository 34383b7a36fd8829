// Emit: the manifest and the compiled ModelProto, from the spliced, optimized graph. The manifest
// (common/formats/manifest.ts) goes into the model's `metadata_props`, so the compiled model
// describes itself.

import { elemTypeName, type Manifest, MANIFEST_FORMAT, MANIFEST_KEY, nodeCrypto, type TensorSpec } from "../common/index.js";
import { exportModel, type IrModel, type Value } from "./ir/index.js";
import type { ModelProto } from "./onnx/index.js";
import type { PassState } from "./splice/index.js";
import type { ParamRecord, SaveRecord } from "./resolve/index.js";
import { COMPILER_VERSION } from "./version.js";

/** What emitting needs of the compiled graph and the script's records. */
export interface EmitInput {
  model: IrModel;
  passes: readonly PassState[];
  saves: readonly SaveRecord[];
  params: readonly ParamRecord[];
  /** The model's own inputs (without initializers) and outputs, before the script changed anything. */
  original: { inputs: readonly Value[]; outputs: readonly Value[] };
}

export interface Emitted {
  model: ModelProto;
  manifest: Manifest;
}

export function emit(input: EmitInput, script: { filename: string; source: string }): Emitted {
  const manifest = buildManifest(input, script.filename, script.source);
  return { model: emitModel(input.model, manifest), manifest };
}

function spec(v: Value): TensorSpec {
  const t = v.resolve().type;
  return { elemType: t?.elemType ? elemTypeName(t.elemType) ?? "unknown" : "unknown", shape: t?.shape ?? null };
}

export function buildManifest(input: EmitInput, filename: string, source: string): Manifest {
  return {
    format: MANIFEST_FORMAT,
    compilerVersion: COMPILER_VERSION,
    script: filename,
    sourceHash: nodeCrypto().createHash("sha256").update(source).digest("hex"),
    passes: input.passes.map((p) => ({ name: p.name, overrides: p.overrides.map((o) => ({ ...o })) })),
    saves: input.saves.map((s) => ({ name: s.name, output: s.output.name, ...spec(s.output), pass: s.pass.name, line: s.span.line, col: s.span.col })),
    params: input.params.map((p) => ({ name: p.name, input: p.input.name, ...spec(p.input), hasDefault: p.hasDefault })),
    modelInputs: input.original.inputs.map((v) => ({ name: v.name, ...spec(v) })),
    // The model's outputs as the compiled graph has them (the last pass's values, under the model's names).
    modelOutputs: input.model.graph.outputs.slice(0, input.original.outputs.length).map((v) => ({ name: v.resolve().name, ...spec(v) })),
  };
}

export function emitModel(model: IrModel, manifest: Manifest): ModelProto {
  const proto = exportModel(model);
  const meta = (proto.metadata_props ?? []).filter((p) => p.key !== MANIFEST_KEY);
  meta.push({ key: MANIFEST_KEY, value: JSON.stringify(manifest) });
  proto.metadata_props = meta;
  // Inputs with defaults (params) need IR version 4 or later; every model we accept has it.
  return proto;
}
