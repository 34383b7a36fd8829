// Splicing: the graph surgery of a script. Passes as copies of the model's computation (clone.ts,
// passes.ts), the places a script reads and patches (ports.ts), saves as extra outputs (saves.ts),
// params as extra inputs (params.ts), values routed out of If branches (branches.ts). The
// resolver calls these as it runs each statement, so later statements see the graph as earlier
// ones left it; `splice` below finishes the job once the script has run.

import type { IrModel, Node, Value } from "../ir/index.js";
import { Builder } from "../lower/index.js";
import type { PassState } from "./passes.js";
import { restoreOutputNames } from "./outputs.js";

export { PassState, type PatchRecord } from "./passes.js";
export { SlotIds, covers, type PortRef, type PortInstance } from "./ports.js";
export { copyMainGraph, type GraphCopy } from "./clone.js";
export { spliceSave } from "./saves.js";
export { paramInput, spliceParam } from "./params.js";
export { readBranchPort } from "./branches.js";
export { restoreOutputNames } from "./outputs.js";

/** What splicing needs of a resolution. */
export interface SpliceInput {
  model: IrModel;
  passes: readonly PassState[];
  /** The model's own outputs, before the script changed anything. */
  original: { outputs: readonly Value[] };
}

export interface Spliced {
  /** Each node a pass copied, to the model's node it is a copy of. */
  copies: Map<Node, Node>;
}

/** Finish splicing: the model's outputs get their names back; copies are mapped to originals. */
export function splice<R extends SpliceInput>(resolution: R): R & Spliced {
  const { model } = resolution;
  restoreOutputNames(model.graph, resolution.original.outputs, new Builder(model, model.graph));
  const copies = new Map<Node, Node>();
  for (const p of resolution.passes) if (p.copy) for (const [orig, c] of p.copy.nodes) copies.set(c, orig);
  return { ...resolution, copies };
}
