// Matrix products: MatMul (numpy matmul: batch dimensions broadcast), Gemm, Einsum.

import { DataType } from "../../onnx/index.js";
import type { Dim } from "../types.js";
import { broadcastShapes, unifyDim } from "./dims.js";
import type { NodeCtx, Out, ShapeRule } from "./context.js";

/** numpy matmul of two shapes; null when a rank is unknown or zero. */
export function matmulShape(a: Dim[] | null, b: Dim[] | null): Dim[] | null {
  if (!a || !b || a.length === 0 || b.length === 0) return null;
  const sa = a.length === 1 ? [1, a[0]!] : a;
  const sb = b.length === 1 ? [b[0]!, 1] : b;
  const batch = broadcastShapes([sa.slice(0, -2), sb.slice(0, -2)])!;
  const out: Dim[] = [...batch, sa[sa.length - 2]!, sb[sb.length - 1]!];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.pop();
  return out;
}

function matmul(elemType: (c: NodeCtx) => number): ShapeRule {
  return (c) => [{ elemType: elemType(c), shape: matmulShape(c.shape(0), c.shape(1)) }];
}

function gemm(c: NodeCtx): Out[] {
  const a = c.shape(0);
  const b = c.shape(1);
  const m = a && a.length === 2 ? (c.attrInt("transA", 0) ? a[1]! : a[0]!) : null;
  const n = b && b.length === 2 ? (c.attrInt("transB", 0) ? b[0]! : b[1]!) : null;
  return [{ elemType: c.elem(0), shape: [m, n] }];
}

/** com.microsoft FusedMatMul: MatMul with optional transposes of the last two dimensions. */
function fusedMatMul(c: NodeCtx): Out[] {
  if (c.attrInt("transBatchA", 0) || c.attrInt("transBatchB", 0)) return [{ elemType: c.elem(0), shape: null }];
  const t = (s: Dim[] | null, trans: number) => (s && trans && s.length >= 2 ? [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!] : s);
  return [{ elemType: c.elem(0), shape: matmulShape(t(c.shape(0), c.attrInt("transA", 0)), t(c.shape(1), c.attrInt("transB", 0))) }];
}

/** Einsum: letters name dimensions, `...` stands for broadcast leading dimensions. */
export function einsumShape(equation: string, shapes: (Dim[] | null)[]): Dim[] | null {
  const eq = equation.replace(/\s+/g, "");
  const [lhs, rhs] = eq.includes("->") ? eq.split("->") as [string, string] : [eq, null];
  const terms = lhs.split(",");
  if (terms.length !== shapes.length) return null;
  const letters = new Map<string, Dim>();
  const counts = new Map<string, number>();
  const ellipses: Dim[][] = [];
  for (let t = 0; t < terms.length; t++) {
    const shape = shapes[t];
    if (!shape) return null;
    const term = terms[t]!;
    const dots = term.indexOf("...");
    const named = term.replace("...", "");
    if (!/^[A-Za-z]*$/.test(named)) return null;
    const nEllipsis = shape.length - named.length;
    if (nEllipsis < 0 || (dots < 0 && nEllipsis !== 0)) return null;
    let at = 0;
    for (let i = 0; i < term.length; i++) {
      if (i === dots) {
        ellipses.push(shape.slice(at, at + nEllipsis));
        at += nEllipsis;
        i += 2;
        continue;
      }
      const ch = term[i]!;
      letters.set(ch, unifyDim(letters.get(ch), shape[at++]));
      counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
  }
  const ellipsis = broadcastShapes(ellipses.length > 0 ? ellipses : [[]])!;
  if (rhs === null) {
    const free = [...counts.entries()].filter(([, n]) => n === 1).map(([ch]) => ch).sort();
    return [...ellipsis, ...free.map((ch) => letters.get(ch)!)];
  }
  const out: Dim[] = [];
  for (let i = 0; i < rhs.length; i++) {
    if (rhs.startsWith("...", i)) {
      out.push(...ellipsis);
      i += 2;
      continue;
    }
    const d = letters.get(rhs[i]!);
    if (d === undefined) return null;
    out.push(d);
  }
  return out;
}

export const matmulRules: Record<string, ShapeRule> = {
  MatMul: matmul((c) => c.elem(0)),
  MatMulInteger: matmul(() => DataType.INT32),
  Gemm: gemm,
  "com.microsoft:FusedMatMul": fusedMatMul,
  Einsum: (c) => [{ elemType: c.elem(0), shape: einsumShape(c.attrString("equation", ""), c.node.inputs.map((_, i) => c.shape(i))) }],
};
