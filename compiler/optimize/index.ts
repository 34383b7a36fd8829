// Optimizing the spliced graph before it is emitted: the reads' placeholders are removed
// (placeholders.ts), what nothing uses is removed (dead.ts), a pass's copies of size computations
// read the ones it starts from where those are computed anyway (sizes.ts), selections the script makes move
// towards the inputs so that only the selected rows are computed (slices.ts), the copies that
// compute the model's outputs take the names of the model's nodes they replace (names.ts), and
// graph outputs lose the Identity in front of them where they can (outputs.ts). The model's nodes
// that reached none of its outputs in the model as given are kept as they are.

import type { IrModel, Node, Value } from "../ir/index.js";
import type { ModuleTree } from "../modules/index.js";
import type { PassState } from "../splice/index.js";
import { removeDead } from "./dead.js";
import { adoptNames } from "./names.js";
import { inlineOutputIdentities } from "./outputs.js";
import { removePlaceholders } from "./placeholders.js";
import { shareSizes } from "./sizes.js";
import { pushSelections } from "./slices.js";

export { removeDead } from "./dead.js";

/** What optimizing needs: the graph, the passes, and the model's own nodes. */
export interface OptimizeInput {
  model: IrModel;
  /** The model's modules: what each of its values is computed from (sizes or contents). */
  tree: ModuleTree;
  passes: readonly PassState[];
  bases: readonly PassState[];
  original: { nodes: ReadonlySet<Node>; unused: ReadonlySet<Node>; outputs: readonly Value[] };
}

export function optimize<T extends OptimizeInput>(input: T): T {
  const graph = input.model.graph;
  removePlaceholders(graph, [...input.bases, ...input.passes].flatMap((p) => p.placeholderNodes()));
  removeDead(graph, input.original.unused);
  const origins = input.tree.origins;
  shareSizes(graph, input.passes, (v) => origins.of(v) !== "data", (n) => input.tree.rankOf(n), input.original.unused);
  pushSelections(graph, input.model.opset);
  const last = input.passes[input.passes.length - 1];
  if (last) adoptNames(graph, last, input.original);
  inlineOutputIdentities(graph, input.original.nodes);
  return input;
}
