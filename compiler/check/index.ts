// Checks of the spliced graph: cycles a patch closed (errors, cycles.ts), and warnings about a
// script that compiles but may not mean what it says (warnings.ts).

import type { Diagnostic } from "../../common/index.js";
import type { IrModel, Node } from "../ir/index.js";
import type { ModuleTree } from "../modules/index.js";
import type { ParamRecord, ReadRecord } from "../resolve/index.js";
import type { PatchRecord } from "../splice/index.js";
import { checkCycles } from "./cycles.js";
import { laterPatchWarnings, unreachedPatchWarnings, unusedParamWarnings } from "./warnings.js";

export { checkCycles } from "./cycles.js";
export { laterPatchWarnings, unreachedPatchWarnings, unusedParamWarnings } from "./warnings.js";

/** What checking needs of the spliced graph and the script's records. */
export interface CheckInput {
  model: IrModel;
  tree: ModuleTree;
  reads: readonly ReadRecord[];
  patches: readonly PatchRecord[];
  params: readonly ParamRecord[];
  /** Each node a pass copied, to the model's node it is a copy of (cycle messages name modules). */
  copies: ReadonlyMap<Node, Node>;
  original: { nodes: ReadonlySet<Node> };
}

/** The cycles (errors; nothing else is said then), or the warnings. */
export function check(input: CheckInput): Diagnostic[] {
  const graph = input.model.graph;
  const cycles = checkCycles(graph, input.patches, input.reads, input.tree, input.copies);
  if (cycles.length > 0) return cycles;
  return [
    ...laterPatchWarnings(graph, input.patches, input.reads),
    ...unreachedPatchWarnings(graph, input.patches),
    ...unusedParamWarnings(graph, input.params, input.original.nodes),
  ];
}
