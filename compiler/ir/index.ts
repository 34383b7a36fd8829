// The graph IR: import from and export to ModelProto, edit with producers and consumers kept
// current, order, and infer element types and shapes.
export { Graph, Node, Value, readsValue, type Use, type ValueKind } from "./graph.js";
export { importModel, typeFromProto, type IrModel } from "./fromProto.js";
export { exportModel, typeToProto } from "./toProto.js";
export { toposort, valueRanks, predecessorValues, type TopoResult } from "./toposort.js";
export { inferTypes, inferNodeTypes, broadcastShapes, sliceLength } from "./infer.js";
export { liveNodes, deadNodes } from "./live.js";
export { constantInts, constantTensor, constantFloat } from "./constants.js";
export { type Dim, type ValueType, formatShape, sameDim } from "./types.js";
