// The operator registry: one shape rule per operator type, keyed `OpType` for the default ONNX
// domain and `domain:OpType` for others (`com.microsoft:FusedMatMul`). To support an operator,
// add its rule to the family file it belongs to (or a new one listed here).

import type { Node } from "../graph.js";
import type { ShapeRule, ValueRule } from "./context.js";
import { controlRules } from "./control.js";
import { convRules } from "./conv.js";
import { elementwiseRules } from "./elementwise.js";
import { generateRules } from "./generate.js";
import { indexingRules } from "./indexing.js";
import { matmulRules } from "./matmul.js";
import { normalizationRules } from "./normalization.js";
import { shapeRules } from "./shape.js";
import { valueRules } from "./values.js";

const FAMILIES: Record<string, ShapeRule>[] = [
  elementwiseRules, normalizationRules, matmulRules, convRules, shapeRules, generateRules, indexingRules, controlRules,
];

function collect<R>(families: Record<string, R>[]): ReadonlyMap<string, R> {
  const out = new Map<string, R>();
  for (const family of families) {
    for (const [key, rule] of Object.entries(family)) {
      if (out.has(key)) throw new Error(`shape rule for \`${key}\` is defined twice`);
      out.set(key, rule);
    }
  }
  return out;
}

/** Shape and element-type rules by operator key. */
export const SHAPE_RULES: ReadonlyMap<string, ShapeRule> = collect(FAMILIES);

/** Known-value rules (contents of small int64 tensors) by operator key. */
export const VALUE_RULES: ReadonlyMap<string, ValueRule> = collect([valueRules]);

/** The registry key of a node: `OpType` in the default domain, `domain:OpType` otherwise. */
export function opKey(node: Node): string {
  const d = node.domain;
  return d === "" || d === "ai.onnx" ? node.opType : `${d}:${node.opType}`;
}
