// A compiled model into onnxruntime without a copy of its weights in this process: written as a
// file next to the model whose unchanged weights are references into the model file
// (compiler/onnx: writeModelReference), loaded by path and removed once loaded. `intv run`,
// `intv generate` and `runScript` load a model compiled in memory this way; where the model's
// folder cannot be written, the encoded bytes are loaded instead.

import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { encodeModel, writeModelReference, type ModelProto } from "../compiler/model.js";
import { ModelLoadError } from "./errors.js";
import { Runtime, type RuntimeOptions } from "./runtime.js";

export async function loadCompiled(model: ModelProto, modelPath: string, options: RuntimeOptions): Promise<Runtime> {
  let file: string;
  try {
    file = await writeModelReference(model, dirname(modelPath));
  } catch {
    return Runtime.load(encodeModel(model), options);
  }
  try {
    return await Runtime.load(file, options);
  } catch (e) {
    if (e instanceof ModelLoadError) e.message = e.message.replace(`\`${file}\``, "from bytes");
    throw e;
  } finally {
    await rm(file, { force: true });
  }
}
