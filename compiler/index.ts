// The compiler's public surface.
export { compile, compileOrThrow, loadModel, prepareModel, MIN_OPSET, type CompileOptions, type CompileResult, type LoadedModel } from "./compile.js";
export {
  encodeModel, encodeModelChunks, decodeModel, readModelFile, writeModelFile, OnnxFormatError,
  skimModel, skimModelFile, withoutInitializers,
  type ModelProto, type ModelSkim, type TensorProto, type ValueInfoProto,
} from "./onnx/index.js";
export { MANIFEST_KEY, parseManifest, type Manifest, type SaveEntry, type ParamEntry, type PassEntry } from "../common/index.js";
export { DEFAULT_LIMITS, type Limits } from "./limits.js";
export { COMPILER_VERSION } from "./version.js";
export {
  DiagnosticError, InternalError, hasErrors, renderDiagnostic, renderDiagnostics, didYouMean, editDistance, suggest,
  DIAGNOSTIC_CODES, codeInfo, diagnostic, docsLink, isDiagnosticCode,
  type Diagnostic, type DiagnosticCode, type CodeInfo, type Label, type Severity, type Span, type RenderOptions, type SourceLookup,
} from "../common/index.js";
export { buildModuleTree, formatTree, moduleToJson, type Module, type ModuleTree, type ModuleJson } from "./modules/index.js";
export type { InterventionPlan, PlanPlace, PlanSave, PlanPatch, PlanSource } from "./plan.js";
