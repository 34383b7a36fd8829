// Public surface of the ONNX I/O layer: lossless, strict ModelProto decode/encode, model files
// (their weights read lazily and written by streaming) and their external data, and a model's
// interface read without its weights (skim.ts). Other folders import from here only.
// (protobufjs's reflection of the schema is reflection.ts, for tests and tools: the compiler and
// the runtime never load protobufjs.)

export * from "./types.js";
export { OnnxFormatError, OnnxEncodeError } from "./errors.js";
export { decodeModel, decodeModelFile, decodeMessage, LAZY_MIN, MAX_DEPTH, type DecodeOptions } from "./decode.js";
export { FileRange, SourceFile, bytesLength, readBytes, tensorRawData, type Bytes } from "./fileRange.js";
export { encodeModel, encodeModelChunks, encodeMessage, encodeMessageChunks } from "./encode.js";
export { readModelFile, writeModelFile, writeModelReference, type ReadModelResult, type WriteModelOptions } from "./file.js";
export {
  checkExternalData,
  externalDataRef,
  externalDataRefs,
  forEachTensor,
  loadExternalTensorData,
  type ExternalDataRef,
} from "./externalData.js";
export { skimModel, skimModelFile, withoutInitializers, type ModelSkim } from "./skim.js";
export { freezeKeptNodes, keptEncoding } from "./keptEncoding.js";
