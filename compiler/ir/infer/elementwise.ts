// Elementwise operators: unary ones keep their input's type, binary and variadic ones broadcast,
// comparisons and logic give bool, Cast changes only the element type.

import { DataType } from "../../onnx/index.js";
import { broadcastShapes } from "./dims.js";
import { sameShape, type NodeCtx, type Out, type ShapeRule } from "./context.js";

/** Output 0 has input 0's type. */
const same: ShapeRule = (c) => [c.type(0)];

const UNARY = [
  "Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "BitwiseNot", "Ceil", "Celu", "Clip", "Cos", "Cosh",
  "CumSum", "Elu", "Erf", "Exp", "Floor", "Gelu", "HardSigmoid", "HardSwish", "Hardmax", "Identity", "LeakyRelu",
  "Log", "LogSoftmax", "Mish", "Neg", "Reciprocal", "Relu", "Round", "Selu", "Shrink", "Sigmoid", "Sign", "Sin",
  "Sinh", "Softmax", "Softplus", "Softsign", "Sqrt", "Tan", "Tanh", "ThresholdedRelu", "Trilu",
  "com.microsoft:BiasGelu", "com.microsoft:FastGelu", "com.microsoft:Gelu", "com.microsoft:QuickGelu",
  "com.microsoft:BiasAdd", "com.microsoft:RotaryEmbedding",
];

/** Broadcasting operators whose output has input 0's element type. */
const BROADCAST = ["Add", "Sub", "Mul", "Div", "Mod", "Pow", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "Max", "Min", "Sum", "Mean"];

const COMPARE = ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor"];

function broadcast(c: NodeCtx, inputs: number[]): Out {
  return { elemType: c.elem(inputs[0]!), shape: broadcastShapes(inputs.map((i) => c.shape(i))) };
}

const all = (c: NodeCtx) => c.node.inputs.map((_, i) => i);

export const elementwiseRules: Record<string, ShapeRule> = {
  ...Object.fromEntries(UNARY.map((op) => [op, same])),
  ...Object.fromEntries(BROADCAST.map((op): [string, ShapeRule] => [op, (c) => [broadcast(c, all(c))]])),
  ...Object.fromEntries(COMPARE.map((op): [string, ShapeRule] => [op, (c) => [{ elemType: DataType.BOOL, shape: broadcastShapes([c.shape(0), c.shape(1)]) }]])),
  Not: (c) => [sameShape(c, 0, DataType.BOOL)],
  IsNaN: (c) => [sameShape(c, 0, DataType.BOOL)],
  IsInf: (c) => [sameShape(c, 0, DataType.BOOL)],
  // The slope broadcasts to X (unidirectionally): the output is X's shape.
  PRelu: same,
  Where: (c) => [{ elemType: c.elem(1) || c.elem(2), shape: broadcastShapes([c.shape(0), c.shape(1), c.shape(2)]) }],
  Cast: (c) => [sameShape(c, 0, c.attrInt("to", 0))],
  CastLike: (c) => [sameShape(c, 0, c.elem(1))],
  // The mask is bool from opset 10 and T before; inputs after X (ratio) exist from opset 12.
  Dropout: (c) => [c.type(0), sameShape(c, 0, c.nInputs > 1 ? DataType.BOOL : 0)],
};
