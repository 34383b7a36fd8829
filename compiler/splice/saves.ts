// A save: the value becomes an extra output of the graph, through an Identity named after the
// save (`intv.save.first.mlp8`), so the runtime finds it by name.

import type { Value } from "../ir/index.js";
import type { Builder } from "../lower/index.js";

export function spliceSave(b: Builder, value: Value, name: string): Value {
  const graph = b.model.graph;
  const output = b.op1("Identity", [value]);
  graph.rename(output, b.freshName(`intv.save.${name}`));
  graph.outputs.push(output);
  graph.outputInfos.push(null);
  return output;
}
