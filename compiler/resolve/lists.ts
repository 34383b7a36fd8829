// Lists are compile-time sequences: indexing and slicing them (Python's rules), and indexing a
// lazy `stack(xs)` as the list it was made of, so `stack(xs)[i]` is `xs[i]` and depends on it only.

import { fail, type Span } from "../../common/index.js";
import { indexTensor, type Builder, type IndexItem } from "../lower/index.js";
import { materialize, stackAxis } from "./lazy.js";
import { describe, tensorVal, type CVal, type Lazy } from "./values.js";

/** `items[start:stop:step]` as Python slices a list. */
export function sliceList<T>(items: T[], start: number | null, stop: number | null, step: number | null): T[] {
  const n = items.length;
  const s = step ?? 1;
  const norm = (x: number) => (x < 0 ? Math.max(x + n, s > 0 ? 0 : -1) : Math.min(x, s > 0 ? n : n - 1));
  const a = start === null ? (s > 0 ? 0 : n - 1) : norm(start);
  const b = stop === null ? (s > 0 ? n : -1) : norm(stop);
  const out: T[] = [];
  if (s > 0) for (let i = a; i < b; i += s) out.push(items[i]!);
  else for (let i = a; i > b; i += s) out.push(items[i]!);
  return out;
}

/** `xs[i]` of a list: a compile-time integer, negative from the end. */
export function listItem(items: CVal[], index: CVal, span: Span): CVal {
  if (index.k !== "num" || !Number.isInteger(index.v)) fail("E0206", `a list index must be a compile-time integer, not ${describe(index)}`, span);
  const i = index.v < 0 ? index.v + items.length : index.v;
  const item = items[i];
  if (i < 0 || i >= items.length || item === undefined) {
    fail("E0206", `index ${index.v} is out of range for a list of ${items.length}`, span, items.length > 0 ? `indices go from 0 to ${items.length - 1}` : "the list is empty");
  }
  return item;
}

/** `stack(xs)[i]` is `xs[i]` and `stack(xs)[a:b]` is `stack(xs[a:b])`: exact dependencies. */
export function indexStack(b: Builder, t: Extract<Lazy, { kind: "stack" }>, items: IndexItem[], span: Span): CVal | null {
  if (stackAxis(t) !== 0 || items.length === 0) return null;
  const first = items[0]!;
  const rest = items.slice(1);
  const n = t.items.length;
  let picked: CVal;
  if (first.kind === "int") {
    const i = first.value < 0 ? first.value + n : first.value;
    if (i < 0 || i >= n) fail("E0206", `index ${first.value} is out of range for a stack of ${n}`, first.span);
    picked = { k: "tensor", t: t.items[i]! };
  } else if (first.kind === "slice") {
    const sel = sliceList(t.items, first.start, first.stop, first.step);
    if (sel.length === 0) fail("E0206", "this slice selects nothing from the stack", first.span);
    picked = { k: "tensor", t: { kind: "stack", items: sel, axis: 0, span: t.span } };
  } else return null;
  if (rest.length === 0) return picked;
  const x = materialize(b, (picked as { t: Lazy }).t);
  const restItems = first.kind === "slice" ? [{ kind: "slice" as const, start: null, stop: null, step: null, span }, ...rest] : rest;
  return tensorVal(indexTensor(b, x, restItems, span));
}
