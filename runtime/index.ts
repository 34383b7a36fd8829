// The runtime's public surface: load and run compiled models, read and write NumPy files.

export { Runtime, type RuntimeOptions, type RunOptions, type RunResult, type ExecutionProvider } from "./runtime.js";
export { ModelLoadError, OnnxRuntimeMissingError, ONNXRUNTIME_RANGE, RuntimeInputError, RuntimeDiagnosticError, parseInsertedNodeName, type InsertedNodeOrigin } from "./errors.js";
export { describeSpec, fromNested, isTensor, type InputSpec, type InputValue, type NestedArray, type Scalar } from "./inputs.js";
export {
  NpyError, decodeNpy, decodeNpyHeader, encodeNpy, encodeNpyHeader, readNpy, writeNpy, NpyAppender, NpyRows, type NpyHeader,
  ELEM_NAMES, allocate, describeTensor, halfToNumber, sizeOf, numberToHalf, toNumbers, type ElemArrays, type ElemName, type Tensor, type TypedArray,
} from "../common/index.js";
export { readModelInfo, readModelInfoFromFile, type ModelInfo, type ValueInfo } from "./model-info.js";
export { loadCompiled } from "./loadCompiled.js";
export { runScript, clearScriptCache, type RunScriptOptions, type RunScriptResult } from "./script.js";
export { requireOnnxRuntime } from "./require-ort.js";
export { runDataset, datasetResults, runtimeRunner, resultBatchAxes, type DatasetProgress, type DatasetResult, type DatasetRunner, type RunDatasetOptions } from "./dataset.js";
export { DatasetError, ATTENTION_MASK, planBatches, type BatchPlan, type ResultSpec } from "./batching.js";
export { openLines, type Cursor, type Line, type LineSource, type LinesSpec } from "./lines.js";
export { DatasetWriter, STATE_FILE, resultStems, saveFileStem, type Layout, type WrittenResult } from "./streamWriter.js";
export { WorkerPool, threadsPerWorker } from "./workers.js";
export { tritonConfig, tritonModelName, type TritonOptions } from "./triton.js";
export { type GenerateOptions, type GenerationStep } from "./generate.js";
export { isSampling, type SamplingOptions } from "./sampling.js";
export { detectLayout, PROMPT_LENGTH_INPUT, type DecoderLayout, type CacheEntry } from "./generate-layout.js";
export { TokenizerError, loadTokenizer, tokenizerNextTo, type ChatMessage, type TextTokenizer } from "./tokenizer.js";
