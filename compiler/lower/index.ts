// Lowering: tensor operations as ONNX nodes at the model's opset. The Builder adds nodes named
// after the script location they come from; ops.ts and indexing.ts check what they can at compile
// time and build the nodes; errors.ts is how a lowering failure becomes a diagnostic.

export {
  Builder, makeTensor, typeOfValue,
  FLOAT, UINT8, INT8, INT32, INT64, BOOL, FLOAT16, DOUBLE, BFLOAT16,
  type AttrValue,
} from "./builder.js";
export { indexTensor, scatterTensor, type IndexItem } from "./indexing.js";
export {
  INT64_MAX, INT64_MIN, binary, checkBroadcast, checkSameElem, dimOf, elemName, elemOf, isFloatType, isIntType,
  literalFor, normalizeAxis, rankOf, reduce, shapeOf, squeeze, unary, unsqueeze,
} from "./ops.js";
