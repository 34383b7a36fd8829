// The compiler's public surface.
export { compile, compileOrThrow, loadModel, prepareModel, MIN_OPSET, type CompileOptions, type CompileResult, type LoadedModel } from "./compile.js";
export { encodeModel, encodeModelChunks, decodeModel, readModelFile, writeModelFile, writeModelReference, OnnxFormatError, type ModelProto } from "./onnx/index.js";
export { MANIFEST_KEY, parseManifest, type Manifest, type SaveEntry, type ParamEntry, type PassEntry } from "./manifest.js";
export { DEFAULT_LIMITS, type Limits } from "./resolve/index.js";
export { COMPILER_VERSION } from "./version.js";
export * from "./diagnostics/index.js";
export { buildModuleTree, formatTree, moduleToJson, type Module, type ModuleTree, type ModuleJson } from "./modules/index.js";
export type { InterventionPlan, PlanPlace, PlanSave, PlanPatch, PlanSource } from "./plan.js";
