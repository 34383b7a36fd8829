// The runtime's public surface: load and run compiled models, read and write NumPy files.

export { Runtime, type RuntimeOptions, type RunOptions, type RunResult, type ExecutionProvider } from "./runtime.js";
export { ModelLoadError, OnnxRuntimeMissingError, ONNXRUNTIME_RANGE, RuntimeInputError, RuntimeDiagnosticError, parseInsertedNodeName, type InsertedNodeOrigin } from "./errors.js";
export { describeSpec, fromNested, type InputSpec, type InputValue, type NestedArray, type Scalar } from "./inputs.js";
export {
  NpyError, decodeNpy, encodeNpy, readNpy, writeNpy,
  ELEM_NAMES, allocate, describeTensor, halfToNumber, sizeOf, numberToHalf, toNumbers, type ElemArrays, type ElemName, type Tensor, type TypedArray,
} from "../common/index.js";
export { readModelInfo, readModelInfoFromFile, type ModelInfo, type ValueInfo } from "./model-info.js";
export { runScript, clearScriptCache, type RunScriptOptions, type RunScriptResult } from "./script.js";
export { requireOnnxRuntime } from "./require-ort.js";
export { type GenerateOptions, type GenerationStep } from "./generate.js";
export { isSampling, type SamplingOptions } from "./sampling.js";
export { detectLayout, PROMPT_LENGTH_INPUT, type DecoderLayout, type CacheEntry } from "./generate-layout.js";
export { TokenizerError, loadTokenizer, tokenizerNextTo, type ChatMessage, type TextTokenizer } from "./tokenizer.js";
