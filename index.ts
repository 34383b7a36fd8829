// The intv package: compile `.intv` scripts into instrumented ONNX models, and run them.
//
//   import { compile, Runtime } from "intv";
//
// The compiled model is a standard ONNX file; the runtime here only adds saves by name, input
// checks and script-level error messages on top of onnxruntime-node.

// Compiling
export { compile, compileOrThrow, checkScript, encodeModel, type CompileOptions, type CompileResult, type CheckResult } from "./compiler/index.js";
// Writing the compiled model: streamed, atomic; a large one patched into a copy of its input made while compiling
export { writeModelFile, startBackgroundCopy, type WriteModelOptions, type BackgroundCopy } from "./compiler/index.js";

// Running
export {
  Runtime, runScript, clearScriptCache,
  ModelLoadError, OnnxRuntimeMissingError, RuntimeInputError, RuntimeDiagnosticError,
  type RuntimeOptions, type RunOptions, type RunResult, type RunScriptOptions, type RunScriptResult,
  type GenerateOptions, type GenerationStep, type SamplingOptions,
  type ExecutionProvider, type InputSpec, type InputValue, type NestedArray, type Scalar,
} from "./runtime/index.js";

// Dataset runs: batched, streamed to disk, resumable (README.md, "Dataset runs")
export {
  runDataset, datasetResults, runtimeRunner, WorkerPool, DatasetError, STATE_FILE,
  type DatasetProgress, type DatasetResult, type DatasetRunner, type RunDatasetOptions, type LinesSpec,
  type ResultSpec, type WrittenResult, type Layout,
} from "./runtime/index.js";

// Tensors and NumPy files
export {
  NpyError, decodeNpy, encodeNpy, readNpy, writeNpy,
  fromNested, halfToNumber, numberToHalf, toNumbers,
  type ElemArrays, type ElemName, type Tensor, type TypedArray,
} from "./runtime/index.js";

// The compiled model's self-description, and diagnostics
export {
  MANIFEST_KEY, MANIFEST_FORMAT, NODE_NAME_PREFIX, parseManifest,
  type Manifest, type SaveEntry, type ParamEntry, type PassEntry, type TensorSpec, type Dim,
} from "./common/index.js";
export {
  DiagnosticError, InternalError, hasErrors, renderDiagnostics,
  type Diagnostic, type Span, type Severity, type Label,
} from "./common/index.js";
