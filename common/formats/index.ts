// Data formats shared by the compiler and the runtime: ONNX element types, 16-bit floats, tensors
// as plain data, NumPy `.npy` files, and the manifest a compiled model carries.

export { DataType, ELEM_TYPES, SCRIPT_ELEM_TYPE_NAMES, elemBits, elemTypeCode, elemTypeLabel, elemTypeName, type DataTypeCode } from "./elemTypes.js";
export { halfToNumber, numberToBfloat16, numberToHalf } from "./float16.js";
export {
  ELEM_NAMES, ELEM_SIZE, allocate, describeTensor, isElemName, sizeOf, toNumbers, viewOf,
  type ElemArrays, type ElemName, type Tensor, type TypedArray,
} from "./tensor.js";
export { NpyError, decodeNpy, decodeNpyHeader, encodeNpy, encodeNpyHeader, npyDataBytes, readNpy, writeNpy, type NpyHeader } from "./npy.js";
export { NpyAppender, NpyRows, reservedHeaderBytes } from "./npyStream.js";
export {
  MANIFEST_FORMAT, MANIFEST_KEY, NODE_NAME_PREFIX, PROMPT_LENGTH_INPUT, parseManifest,
  type Dim, type Manifest, type ParamEntry, type PassEntry, type SaveEntry, type TensorSpec,
} from "./manifest.js";
