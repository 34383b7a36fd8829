// Splicing: the graph surgery of a script. Passes computed copy-on-write (passes.ts, clone.ts),
// the places a script reads and patches (ports.ts), saves as extra outputs (saves.ts), params as
// extra inputs (params.ts), values routed out of If branches (branches.ts). The resolver calls
// these as it runs each statement, so later statements see the graph as earlier ones left it;
// `splice` below finishes the job once the script has run.

import type { IrModel, Node, Value } from "../ir/index.js";
import { Builder } from "../lower/index.js";
import type { PassState } from "./passes.js";
import { restoreOutputNames } from "./outputs.js";

export { PassState, type PatchRecord, type Originals } from "./passes.js";
export { SlotIds, covers, type PortRef, type PortInstance } from "./ports.js";
export { copyNode, cloneSubgraph, freshCopyName, type CopyMap } from "./clone.js";
export { spliceSave } from "./saves.js";
export { spliceCall } from "./calls.js";
export { paramInput, spliceParam } from "./params.js";
export { readBranchPort } from "./branches.js";
export { restoreOutputNames } from "./outputs.js";

/** What splicing needs of a resolution. */
export interface SpliceInput {
  model: IrModel;
  /** The script's passes in the order they ran; the model's outputs are the last one's. */
  passes: readonly PassState[];
  /** The computations of the model on overridden inputs that passes start from. */
  bases: readonly PassState[];
  /** The model's own outputs, before the script changed anything. */
  original: { outputs: readonly Value[] };
}

export interface Spliced {
  /** Each node a pass copied, to the model's node it is a copy of. */
  copies: Map<Node, Node>;
}

/**
 * Finish splicing: the model's outputs are the last pass's, under their own names; copies are
 * mapped to the model's nodes (for messages).
 */
export function splice<R extends SpliceInput>(resolution: R): R & Spliced {
  const { model, passes, original } = resolution;
  const last = passes[passes.length - 1];
  if (last) {
    last.isLast = true;
    original.outputs.forEach((v, i) => (model.graph.outputs[i] = last.outputValue(i, v)));
  }
  restoreOutputNames(model.graph, original.outputs, new Builder(model, model.graph));
  const copies = new Map<Node, Node>();
  for (const p of [...resolution.bases, ...passes]) for (const [orig, c] of p.copies()) copies.set(c, orig);
  return { ...resolution, copies };
}
