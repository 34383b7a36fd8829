// The compiler's public surface.
export { compile, compileForWrite, compileOrThrow, checkScript, MIN_OPSET, type CompileOptions, type CompileResult, type CheckResult } from "./compile.js";
export { loadModel, prepareModel, type LoadedModel } from "./model.js";
export {
  encodeModel, encodeModelChunks, decodeModel, readModelFile, writeModelFile, writeModelReference, OnnxFormatError,
  skimModel, skimModelFile, withoutInitializers, tensorRawData,
  type ModelProto, type ModelSkim, type TensorProto, type ValueInfoProto, type WriteModelOptions,
} from "./onnx/index.js";
export { startBackgroundCopy, type BackgroundCopy } from "../common/index.js";
export { MANIFEST_KEY, parseManifest, type Manifest, type SaveEntry, type ParamEntry, type PassEntry } from "../common/index.js";
export { DEFAULT_LIMITS, type Limits } from "./limits.js";
export { COMPILER_VERSION } from "./version.js";
export {
  DiagnosticError, InternalError, hasErrors, renderDiagnostic, renderDiagnostics, didYouMean, editDistance, suggest,
  DIAGNOSTIC_CODES, codeInfo, diagnostic, docsLink, isDiagnosticCode,
  type Diagnostic, type DiagnosticCode, type CodeInfo, type Label, type Severity, type Span, type RenderOptions, type SourceLookup,
} from "../common/index.js";
export { buildModuleTree, formatTree, moduleToJson, moduleTensors, formatTensors, type Module, type ModuleTree, type ModuleJson, type ModuleTensorsJson, type TensorJson } from "./modules/index.js";
export type { InterventionPlan, PlanPlace, PlanSave, PlanPatch, PlanSource } from "./plan.js";
