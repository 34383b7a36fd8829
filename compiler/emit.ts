// Emit: the manifest and the compiled ModelProto. Graph outputs of the model keep their names
// (a patched output gets an Identity carrying the original name), so the compiled model is a
// drop-in replacement for the original.

import { createHash } from "node:crypto";
import type { Graph, IrModel, Value } from "./ir/index.js";
import { exportModel } from "./ir/index.js";
import type { ModelProto } from "./onnx/index.js";
import { elemTypeName } from "./onnx/index.js";
import { MANIFEST_FORMAT, MANIFEST_KEY, type Manifest, type TensorSpec } from "../common/index.js";
import type { Interpreter } from "./resolve/index.js";
import { COMPILER_VERSION } from "./version.js";
import type { Builder } from "./lower/builder.js";

/** Give patched graph outputs their original names back. */
export function restoreOutputNames(graph: Graph, originals: Value[], b: Builder): void {
  originals.forEach((orig, i) => {
    const now = graph.outputs[i];
    if (!now || now === orig) return;
    const name = orig.name;
    graph.rename(orig, b.freshName(`${name}.unpatched`));
    b.span = null;
    const id = b.op1("Identity", [now]);
    graph.rename(id, name);
    b.model.names.add(name);
    graph.outputs[i] = id;
  });
}

function spec(v: Value): TensorSpec {
  const t = v.resolve().type;
  return { elemType: t?.elemType ? elemTypeName(t.elemType) ?? "unknown" : "unknown", shape: t?.shape ?? null };
}

export function buildManifest(interp: Interpreter, model: IrModel, filename: string, source: string, modelInputs: Value[], modelOutputs: Value[]): Manifest {
  return {
    format: MANIFEST_FORMAT,
    compilerVersion: COMPILER_VERSION,
    script: filename,
    sourceHash: createHash("sha256").update(source).digest("hex"),
    passes: interp.passes.map((p) => ({ name: p.name, overrides: p.overrides.map((o) => ({ ...o })) })),
    saves: interp.saves.map((s) => ({ name: s.name, output: s.output.name, ...spec(s.output), pass: s.pass.name, line: s.span.line, col: s.span.col })),
    params: interp.params.map((p) => ({ name: p.name, input: p.input.name, ...spec(p.input), hasDefault: p.hasDefault })),
    modelInputs: modelInputs.map((v) => ({ name: v.name, ...spec(v) })),
    modelOutputs: modelOutputs.map((v) => ({ name: v.name, ...spec(v) })),
  };
  void model;
}

export function emitModel(model: IrModel, manifest: Manifest): ModelProto {
  const proto = exportModel(model);
  const meta = (proto.metadata_props ?? []).filter((p) => p.key !== MANIFEST_KEY);
  meta.push({ key: MANIFEST_KEY, value: JSON.stringify(manifest) });
  proto.metadata_props = meta;
  // Inputs with defaults (params) need IR version 4 or later; every model we accept has it.
  return proto;
}
