// Lazy `stack`/`concat`: kept as lists of their parts until a tensor is needed, so that static
// indexing selects parts (exact dependencies) instead of slicing a materialized tensor.

import { fail } from "../../common/index.js";
import type { Value } from "../ir/index.js";
import { checkSameElem, normalizeAxis, rankOf, shapeOf, unsqueeze, type Builder } from "../lower/index.js";
import type { Lazy } from "./values.js";

export function materialize(b: Builder, t: Lazy): Value {
  switch (t.kind) {
    case "value":
      return t.value;
    case "stack": {
      if (t.items.length === 0) fail("E0209", "`stack` of an empty list", t.span);
      const parts = t.items.map((x) => materialize(b, x));
      parts.slice(1).forEach((p) => checkSameElem(parts[0]!, p, "`stack`", t.span));
      const rank = rankOf(parts[0]!);
      const axis = rank === null ? t.axis : normalizeAxis(t.axis, rank + 1, t.span);
      const shapes = parts.map(shapeOf);
      if (shapes.every((s) => s !== null)) {
        for (const s of shapes) {
          if (s!.length !== shapes[0]!.length || s!.some((d, i) => typeof d === "number" && typeof shapes[0]![i] === "number" && d !== shapes[0]![i])) {
            fail("E0203", "`stack` needs tensors of the same shape", t.span);
          }
        }
      }
      const expanded = parts.map((p) => unsqueeze(b, p, [axis]));
      return expanded.length === 1 ? expanded[0]! : b.op1("Concat", expanded, { axis });
    }
    case "concat": {
      if (t.items.length === 0) fail("E0209", "`concat` of an empty list", t.span);
      const parts = t.items.map((x) => materialize(b, x));
      parts.slice(1).forEach((p) => checkSameElem(parts[0]!, p, "`concat`", t.span));
      const rank = rankOf(parts[0]!);
      const axis = rank === null ? t.axis : normalizeAxis(t.axis, rank, t.span);
      return parts.length === 1 ? parts[0]! : b.op1("Concat", parts, { axis });
    }
    default: {
      const never: never = t;
      return never;
    }
  }
}

/** Static rank of a lazy tensor without materializing it. */
export function lazyRank(t: Lazy): number | null {
  if (t.kind === "value") return rankOf(t.value);
  const r = t.items.length > 0 ? lazyRank(t.items[0]!) : null;
  if (r === null) return null;
  return t.kind === "stack" ? r + 1 : r;
}

/** Normalized stack axis, when it can be known statically. */
export function stackAxis(t: Extract<Lazy, { kind: "stack" }>): number | null {
  const r = lazyRank(t);
  if (r === null) return t.axis >= 0 ? t.axis : null;
  return t.axis < 0 ? t.axis + r : t.axis;
}
