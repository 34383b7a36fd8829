// Whether onnxruntime-node can be loaded, for commands that want to say so before compiling.
// A file of its own: its declarations name nothing of onnxruntime-node (ort.ts's do), so the
// public API's types do not need the optional package installed.

import { loadOnnxRuntime } from "./ort.js";

/** Throws OnnxRuntimeMissingError, saying how to install it, when onnxruntime-node is missing. */
export async function requireOnnxRuntime(): Promise<void> {
  await loadOnnxRuntime();
}
