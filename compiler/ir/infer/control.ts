// Control flow: If merges its branches' output types; Loop and Scan type their bodies' inputs
// from the node's inputs, infer the body, and type the final state and the stacked scan outputs.

import { DataType } from "../../onnx/index.js";
import type { Graph } from "../graph.js";
import type { Dim, ValueType } from "../types.js";
import { axisIn, joinShapes } from "./dims.js";
import { fillType, type NodeCtx, type Out, type ShapeRule } from "./context.js";

const typeOfOutput = (g: Graph | undefined, i: number): ValueType | null => g?.outputs[i]?.resolve().type ?? null;

/** Two types a value may have (the branches of an If, a loop's state before and after). */
function join(a: ValueType | null, b: ValueType | null): Out {
  if (!a || !b) return null;
  const elemType = a.elemType === b.elemType ? a.elemType : a.elemType === 0 ? b.elemType : b.elemType === 0 ? a.elemType : 0;
  return { elemType, shape: joinShapes(a.shape, b.shape) };
}

function ifRule(c: NodeCtx): Out[] {
  const then = c.node.subgraphs.get("then_branch");
  const other = c.node.subgraphs.get("else_branch");
  if (then) c.inferGraph(then);
  if (other) c.inferGraph(other);
  return c.node.outputs.map((_, i) => join(typeOfOutput(then, i), typeOfOutput(other, i)));
}

/** Body inputs that carry state take the element type only: a state's shape may change per iteration. */
const elemOnly = (t: ValueType | null): Out => (t && t.elemType !== 0 ? { elemType: t.elemType, shape: null } : null);

/** Loop(M, cond, v_initial...): body(iter, cond, v...) → (cond, v..., scan outputs...). */
function loop(c: NodeCtx): Out[] {
  const body = c.node.subgraphs.get("body");
  if (!body) return [];
  const nState = c.nInputs - 2;
  if (body.inputs[0]) fillType(body.inputs[0], { elemType: DataType.INT64, shape: [] });
  if (body.inputs[1]) fillType(body.inputs[1], { elemType: DataType.BOOL, shape: [] });
  for (let i = 0; i < nState; i++) if (body.inputs[2 + i]) fillType(body.inputs[2 + i]!, elemOnly(c.type(2 + i)));
  c.inferGraph(body);
  // A constant trip count with no condition runs exactly that many times.
  const m = c.has(0) && !c.has(1) ? c.numbers(0) : null;
  const trips: Dim = m && m.length === 1 ? m[0]! : null;
  return c.node.outputs.map((_, i) => {
    const out = typeOfOutput(body, 1 + i);
    if (i < nState) return join(c.type(2 + i), out) ?? elemOnly(c.type(2 + i) ?? out);
    return out ? { elemType: out.elemType, shape: out.shape ? [trips, ...out.shape] : null } : null;
  });
}

/** Scan (opset 9+): N state variables, then num_scan_inputs inputs scanned along their axes. */
function scan(c: NodeCtx): Out[] {
  const body = c.node.subgraphs.get("body");
  const m = c.attrInt("num_scan_inputs", 0);
  if (!body || body.inputs.length !== c.nInputs) return []; // Scan-8 has a sequence_lens input first
  const nState = c.nInputs - m;
  const inAxes = c.attrInts("scan_input_axes") ?? new Array<number>(m).fill(0);
  let length: Dim = null;
  for (let i = 0; i < c.nInputs; i++) {
    const v = body.inputs[i];
    if (!v) continue;
    if (i < nState) {
      // Scan's state keeps its type from step to step (as ONNX's inference assumes, unlike Loop).
      fillType(v, c.type(i));
      continue;
    }
    const s = c.shape(i);
    const axis = s ? axisIn(inAxes[i - nState] ?? 0, s.length) : null;
    if (s && axis !== null && i === nState) length = s[axis]!;
    fillType(v, { elemType: c.elem(i), shape: s && axis !== null ? s.filter((_, k) => k !== axis) : null });
  }
  c.inferGraph(body);
  const outAxes = c.attrInts("scan_output_axes");
  return c.node.outputs.map((_, i) => {
    const out = typeOfOutput(body, i);
    if (i < nState) return join(c.type(i), out) ?? elemOnly(c.type(i) ?? out);
    if (!out) return null;
    if (!out.shape) return { elemType: out.elemType, shape: null };
    const axis = axisIn(outAxes?.[i - nState] ?? 0, out.shape.length + 1);
    if (axis === null) return { elemType: out.elemType, shape: null };
    return { elemType: out.elemType, shape: [...out.shape.slice(0, axis), length, ...out.shape.slice(axis)] };
  });
}

export const controlRules: Record<string, ShapeRule> = {
  If: ifRule,
  Loop: loop,
  Scan: scan,
};
