// A param: an extra input of the graph, named after the param (or `param.NAME` when the model has
// a tensor of that name); a default is an initializer of the same name, the standard ONNX way of
// making an input optional.

import type { TensorProto } from "../onnx/index.js";
import type { Value, ValueType } from "../ir/index.js";
import type { Builder } from "../lower/index.js";

/** The graph input for a param, not yet listed among the graph's inputs (see `spliceParam`). */
export function paramInput(b: Builder, name: string, type: ValueType): Value {
  const fresh = b.model.names.has(name) ? b.freshName(`param.${name}`) : b.freshName(name);
  return b.model.graph.addValue(fresh, "input", type);
}

/** List the param's input among the graph's inputs, with its default when it has one. */
export function spliceParam(b: Builder, input: Value, defaultValue: TensorProto | null): void {
  if (defaultValue) input.initializer = { ...defaultValue, name: input.name };
  b.model.graph.inputs.push(input);
}
