// Optimizing the spliced graph before it is emitted: what the script created but nothing uses is
// removed (dead.ts), and graph outputs lose the Identity in front of them where they can
// (outputs.ts). The model's own nodes are always kept.

import type { IrModel, Node } from "../ir/index.js";
import { removeDead } from "./dead.js";
import { inlineOutputIdentities } from "./outputs.js";

export { removeDead } from "./dead.js";

/** What optimizing needs: the graph, and the model's own nodes (kept whatever happens). */
export interface OptimizeInput {
  model: IrModel;
  original: { nodes: ReadonlySet<Node> };
}

export function optimize<T extends OptimizeInput>(input: T): T {
  removeDead(input.model.graph, input.original.nodes);
  inlineOutputIdentities(input.model.graph, input.original.nodes);
  return input;
}
