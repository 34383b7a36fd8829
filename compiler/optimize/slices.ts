// Computing a selected part only where it is needed. A slice or a gather along an axis that a
// computation treats row by row — elementwise operators (with broadcasting that allows it), a
// MatMul or Gemm over other axes, a reduction, softmax or LayerNormalization over other axes —
// equals that computation on the selected rows: `lm_head(ln_f(h))[:, -1, :]` is
// `lm_head(ln_f(h[:, -1, :]))`. So a selection the script makes (`save x = model.output[:, -1, :]`
// in a pass that is not the last) moves towards the inputs, one operator at a time, wherever the
// full value has no other consumer (or its other consumers make the same selection), and the rest
// of the sequence is never computed.
//
// Only selections inserted by intv move, so the model's own computation stays as exported. A
// moved selection keeps its script location in its name (runtime failures are reported there).

import { INT64 } from "../lower/index.js";
import { constantInts, inferNodeTypes, type Graph, type Node, type Value } from "../ir/index.js";
import { makeTensor } from "../lower/index.js";
import { NODE_NAME_PREFIX } from "../../common/index.js";

/** A selection of rows: a Gather with a constant index, or a Slice with constant bounds. */
type Selection =
  | { kind: "gather"; node: Node; axis: number; index: Value; drops: boolean }
  | { kind: "slice"; node: Node; axes: number[]; starts: Value; ends: Value; steps: Value | null };

const ELEMENTWISE = new Set([
  "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Where", "Relu", "Tanh", "Sigmoid", "Erf", "Exp", "Log", "Sqrt",
  "Abs", "Neg", "Reciprocal", "Cast", "Identity", "Not", "And", "Or", "Xor", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual",
  "LeakyRelu", "Elu", "Selu", "Gelu", "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Clip", "Mod", "Sign", "Floor", "Ceil", "Round",
  "IsNaN", "IsInf", "PRelu", "BitShift", "Dropout",
]);
const REDUCTIONS = new Set(["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"]);
const ROW_AXIS_OPS = new Set(["Softmax", "LogSoftmax", "Hardmax"]);

/** Move every selection intv inserted towards the inputs while it can; returns how many steps were taken. */
export function pushSelections(graph: Graph, opset: number): number {
  const pusher = new Pusher(graph, opset);
  const work = [...graph.nodes].filter((n) => n.name.startsWith(NODE_NAME_PREFIX) && (n.opType === "Gather" || n.opType === "Slice") && n.domain === "");
  let steps = 0;
  while (work.length > 0) {
    const s = work.pop()!;
    if (!graph.nodes.has(s)) continue;
    const made = pusher.push(s);
    if (!made) continue;
    steps++;
    work.push(...made);
  }
  return steps;
}

class Pusher {
  private readonly consts = new Map<string, Value>();
  private count = 0;

  constructor(
    private readonly graph: Graph,
    private readonly opset: number,
  ) {}

  /** Push selection `s` through its input's producer; the new selections, or null when it stays. */
  push(s: Node): Node[] | null {
    const sel = this.selection(s);
    if (!sel) return null;
    const x = s.inputs[0]!;
    const p = x.producer;
    if (!p || p.graph !== this.graph || p.subgraphs.size > 0 || this.graph.outputs.includes(x)) return null;
    if (p.outputs.some((o, i) => i > 0 && o && (o.uses.length > 0 || this.graph.outputs.includes(o)))) return null;
    // Every consumer of the full value makes this same selection.
    const group = x.uses.map((u) => u.node);
    if (x.uses.some((u) => u.index !== 0) || !group.every((g) => g === s || this.same(sel, this.selection(g)))) return null;
    const rank = x.type?.shape?.length;
    if (rank === undefined) return null;
    const plan = this.planThrough(p, sel, rank);
    if (!plan) return null;
    // The selection on each input that needs it, then the operator on the selected rows.
    const made: Node[] = [];
    const inputs = p.inputs.map((v, i) => {
      const how = plan.inputs[i];
      if (!v || !how) return v;
      if ("replaceWith" in how) return how.replaceWith;
      const node = this.select(v, sel, how, s);
      made.push(node);
      return node.outputs[0]!;
    });
    const proto = { ...p.proto, name: this.name(s, p.opType), attribute: plan.attributes ?? p.proto.attribute };
    if (!proto.attribute) delete proto.attribute;
    const q = this.graph.addNode(proto, inputs, [this.name(s, `${p.opType}_out`)]);
    q.order = s.order;
    inferNodeTypes(q);
    const out = q.outputs[0]!;
    for (const g of group) {
      const gout = g.outputs[0]!;
      for (const u of [...gout.uses]) this.graph.rewire(u, out);
      for (let i = 0; i < this.graph.outputs.length; i++) if (this.graph.outputs[i] === gout) this.graph.outputs[i] = out;
      this.graph.removeNode(g);
    }
    this.graph.removeNode(p);
    return made;
  }

  private name(s: Node, what: string): string {
    let n = `${s.name}/pushed/${what}_${this.count++}`;
    while (this.graph.lookup(n)) n = `${s.name}/pushed/${what}_${this.count++}`;
    return n;
  }

  /** The selection a node makes, with axes of its input made non-negative; null for any other node. */
  private selection(n: Node): Selection | null {
    const x = n.inputs[0];
    const rank = x?.type?.shape?.length;
    if (!x || rank === undefined || n.domain !== "" || !n.name.startsWith(NODE_NAME_PREFIX)) return null;
    if (n.opType === "Gather") {
      const index = n.inputs[1];
      const ints = index ? constantInts(index) : null;
      const dims = index?.resolve().type?.shape;
      if (!index || !ints || !dims || dims.length > 1 || (dims.length === 1 && dims[0] !== 1)) return null;
      const axis = Number(n.attribute("axis")?.i ?? 0n);
      return { kind: "gather", node: n, axis: axis < 0 ? axis + rank : axis, index, drops: dims.length === 0 };
    }
    if (n.opType === "Slice" && this.opset >= 10) {
      const [, starts, ends, axesV, steps] = n.inputs;
      if (!starts || !ends || !constantInts(starts) || !constantInts(ends) || (steps && !constantInts(steps))) return null;
      const axes = axesV ? constantInts(axesV) : constantInts(starts)!.map((_, i) => i);
      if (!axes) return null;
      return { kind: "slice", node: n, axes: axes.map((a) => (a < 0 ? a + rank : a)), starts, ends, steps: steps ?? null };
    }
    return null;
  }

  private same(a: Selection, b: Selection | null): boolean {
    if (!b || a.kind !== b.kind) return false;
    if (a.kind === "gather" && b.kind === "gather") return a.axis === b.axis && sameInts(a.index, b.index);
    if (a.kind === "slice" && b.kind === "slice") {
      return a.axes.join() === b.axes.join() && sameInts(a.starts, b.starts) && sameInts(a.ends, b.ends) && (a.steps === b.steps || (!!a.steps && !!b.steps && sameInts(a.steps, b.steps)));
    }
    return false;
  }

  /**
   * How `sel` on `p`'s output (of rank `rank`) goes through `p`: for each input, the axes the
   * selection falls on there (and whether that axis broadcasts), and `p`'s attributes after the
   * change; null where the selection cannot go through.
   */
  private planThrough(p: Node, sel: Selection, rank: number): { inputs: (InputPlan | null)[]; attributes?: Node["proto"]["attribute"] } | null {
    const axes = sel.kind === "gather" ? [sel.axis] : sel.axes;
    const drops = sel.kind === "gather" && sel.drops;
    const op = p.opType;
    if (p.domain !== "") return null;
    if (ELEMENTWISE.has(op)) {
      const inputs = p.inputs.map((v) => (v ? this.alongBroadcast(v, axes, rank, p.outputs[0]!) : null));
      if (inputs.some((x) => x === undefined)) return null;
      return { inputs: inputs as (InputPlan | null)[] };
    }
    if (op === "MatMul") {
      const [a, b] = p.inputs;
      const ra = a?.type?.shape?.length;
      const rb = b?.type?.shape?.length;
      if (!a || !b || ra === undefined || rb === undefined || ra < 2 || rank < 2) return null;
      if (axes.some((x) => x === rank - 1)) return null; // the columns come from the other side
      if (axes.some((x) => x < rank - 2) && rb > 2) return null; // batch axes shared by both sides
      return { inputs: [{ axes: axes.map((x) => x - (rank - ra)), broadcast: false }, null] };
    }
    if (op === "Gemm") {
      if (drops || axes.some((x) => x !== 0) || (p.attribute("transA")?.i ?? 0n) !== 0n) return null;
      const c = p.inputs[2];
      const cShape = c?.type?.shape;
      let cPlan: InputPlan | null = null;
      if (c && cShape && cShape.length === 2 && cShape[0] !== 1) {
        if (!sameDimension(cShape[0] ?? null, p.outputs[0]!.type?.shape?.[0] ?? null)) return null;
        cPlan = { axes: [0], broadcast: false };
      } else if (c && !cShape) return null;
      return { inputs: [{ axes: [0], broadcast: false }, null, cPlan] };
    }
    if (REDUCTIONS.has(op)) {
      if ((p.attribute("keepdims")?.i ?? 1n) !== 1n) return null;
      const reduced = this.reducedAxes(p, rank);
      if (!reduced || axes.some((x) => reduced.includes(x))) return null;
      const inputs: (InputPlan | null)[] = [{ axes, broadcast: false }, ...p.inputs.slice(1).map(() => null)];
      if (!drops) return { inputs };
      if (p.inputs[1]) {
        // Axes given as an input (ReduceSum from opset 13, the others from 18).
        const renumbered = reduced.map((x) => (x > axes[0]! ? x - 1 : x));
        inputs[1] = { replaceWith: this.ints(renumbered) };
        return { inputs };
      }
      return { inputs, attributes: withInts(p, "axes", reduced.map((x) => (x > axes[0]! ? x - 1 : x))) };
    }
    if (ROW_AXIS_OPS.has(op) && this.opset >= 13) {
      const raw = Number(p.attribute("axis")?.i ?? -1n);
      const axis = raw < 0 ? raw + rank : raw;
      if (axes.includes(axis)) return null;
      const attributes = drops && raw >= 0 && axis > axes[0]! ? withInt(p, "axis", axis - 1) : undefined;
      return { inputs: [{ axes, broadcast: false }], attributes };
    }
    if (op === "LayerNormalization") {
      if (p.outputs.length > 1 && p.outputs.slice(1).some((o) => o && o.uses.length > 0)) return null;
      const raw = Number(p.attribute("axis")?.i ?? -1n);
      const start = raw < 0 ? raw + rank : raw;
      if (axes.some((x) => x >= start)) return null;
      const attributes = drops && raw >= 0 ? withInt(p, "axis", raw - 1) : undefined;
      return { inputs: [{ axes, broadcast: false }, null, null], attributes };
    }
    return null;
  }

  /** Where the selected axes fall on an input of an elementwise operator (right-aligned broadcasting). */
  private alongBroadcast(v: Value, axes: number[], rank: number, out: Value): InputPlan | null | undefined {
    const shape = v.type?.shape;
    const outShape = out.type?.shape;
    if (!shape || !outShape) return undefined;
    const offset = rank - shape.length;
    const mine = axes.filter((a) => a >= offset);
    if (mine.length === 0) return null; // the input has none of these axes: it broadcasts as it is
    const dims = mine.map((a) => shape[a - offset] ?? null);
    // An axis of size 1 against a larger one broadcasts; an axis equal to the output's is selected.
    const broadcast = mine.map((a, i) => dims[i] === 1 && outShape[a] !== 1);
    const equal = mine.map((a, i) => sameDimension(dims[i]!, outShape[a] ?? null));
    if (mine.some((_, i) => !broadcast[i] && !equal[i])) return undefined;
    if (broadcast.some((b) => b) && !broadcast.every((b) => b)) return undefined;
    return { axes: mine.map((a) => a - offset), broadcast: broadcast[0]! };
  }

  private reducedAxes(p: Node, rank: number): number[] | null {
    let axes: number[] | null;
    if (p.inputs[1]) axes = constantInts(p.inputs[1]);
    else {
      const attr = p.attribute("axes");
      axes = attr ? (attr.ints ?? []).map(Number) : null;
    }
    if (!axes || axes.length === 0) return null; // all axes (or noop_with_empty_axes): nothing is row-wise
    return axes.map((a) => (a < 0 ? a + rank : a));
  }

  /** The selection `sel` made on `v` along `how.axes` (a new node named after the selection it comes from). */
  private select(v: Value, sel: Selection, how: { axes: number[]; broadcast: boolean }, from: Node): Node {
    const doc = from.proto.doc_string;
    if (sel.kind === "gather") {
      // A broadcast axis (size 1) keeps its one row; a scalar index removes the axis there too.
      const index = how.broadcast ? (sel.drops ? this.int(0) : this.ints([0])) : sel.index;
      const node = this.graph.addNode({ name: this.name(from, "Gather"), op_type: "Gather", doc_string: doc, attribute: [{ name: "axis", type: 2, i: BigInt(how.axes[0]!) }] }, [v, index], [this.name(from, "Gather_out")]);
      node.order = from.order;
      inferNodeTypes(node);
      return node;
    }
    if (how.broadcast) {
      const node = this.graph.addNode({ name: this.name(from, "Identity"), op_type: "Identity", doc_string: doc }, [v], [this.name(from, "Identity_out")]);
      inferNodeTypes(node);
      return node;
    }
    const inputs = [v, sel.starts, sel.ends, this.ints(how.axes), ...(sel.steps ? [sel.steps] : [])];
    const node = this.graph.addNode({ name: this.name(from, "Slice"), op_type: "Slice", doc_string: doc }, inputs, [this.name(from, "Slice_out")]);
    node.order = from.order;
    inferNodeTypes(node);
    return node;
  }

  private int(value: number): Value {
    return this.constant([value], []);
  }

  private ints(values: number[]): Value {
    return this.constant(values, [values.length]);
  }

  private constant(values: number[], dims: number[]): Value {
    const key = `${dims.join(",")}|${values.join(",")}`;
    let v = this.consts.get(key);
    if (!v) {
      let name = `intv.const.pushed_${this.consts.size}`;
      for (let i = 1; this.graph.lookup(name); i++) name = `intv.const.pushed_${this.consts.size}_${i}`;
      v = this.graph.addValue(name, "initializer", { elemType: INT64, shape: dims });
      v.initializer = { ...makeTensor(INT64, values.map((x) => BigInt(x)), dims), name };
      this.graph.initializers.push(v);
      this.consts.set(key, v);
    }
    return v;
  }
}

/** For one input: the axes (of that input) the selection falls on, and whether they broadcast; or a replacement value. */
type InputPlan = { axes: number[]; broadcast: boolean } | { replaceWith: Value };

function sameInts(a: Value, b: Value): boolean {
  if (a.resolve() === b.resolve()) return true;
  const x = constantInts(a);
  const y = constantInts(b);
  const sa = a.resolve().type?.shape;
  const sb = b.resolve().type?.shape;
  return !!x && !!y && x.join() === y.join() && (sa?.length ?? -1) === (sb?.length ?? -1);
}

function sameDimension(a: number | string | null, b: number | string | null): boolean {
  return a !== null && b !== null && a === b;
}

function withInt(p: Node, name: string, value: number): Node["proto"]["attribute"] {
  const others = (p.proto.attribute ?? []).filter((a) => a.name !== name);
  return [...others, { name, type: 2, i: BigInt(value) }];
}

function withInts(p: Node, name: string, values: number[]): Node["proto"]["attribute"] {
  const others = (p.proto.attribute ?? []).filter((a) => a.name !== name);
  return [...others, { name, type: 7, ints: values.map((v) => BigInt(v)) }];
}
