// Public surface of the ONNX I/O layer: lossless, strict ModelProto decode/encode, model files
// and their external data, and a model's interface read without its weights (skim.ts). Other
// folders import from here only.

export * from "./types.js";
export { OnnxFormatError, OnnxEncodeError } from "./errors.js";
export { decodeModel, decodeMessage, MAX_DEPTH } from "./decode.js";
export { encodeModel, encodeModelChunks, encodeMessage, encodeMessageChunks } from "./encode.js";
export { readModelFile, writeModelFile, type ReadModelResult, type WriteModelOptions } from "./file.js";
export {
  checkExternalData,
  externalDataRef,
  externalDataRefs,
  forEachTensor,
  loadExternalTensorData,
  type ExternalDataRef,
} from "./externalData.js";
export { onnxRoot } from "./schema.js";
export { skimModel, skimModelFile, withoutInitializers, type ModelSkim } from "./skim.js";
