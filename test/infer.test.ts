// Shape inference, one operator family at a time, on graphs built by hand (the comparison with
// ONNX's inference and onnxruntime on real exports is test/infer-onnx.test.ts).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { decodeModel, formatTree, prepareModel } from "../compiler/index.js";
import type { AttributeProto, TensorProto } from "../compiler/onnx/index.js";
import { broadcastShapes, formatShape, Graph, inferNodeTypes, inferTypes, sliceLength, Value, type Dim } from "../compiler/ir/index.js";
import { product, reshapeRest } from "../compiler/ir/infer/dims.js";

const F = 1;
const I64 = 7;
const BOOL = 9;

type AttrValue = number | number[] | string | TensorProto | Graph;

/** A small graph under construction. */
class G {
  readonly g: Graph;
  private n = 0;
  constructor(parent: Graph | null = null) {
    this.g = new Graph(parent);
  }
  /** A value of the enclosing graph, read in this subgraph. */
  outer(v: Value): Value {
    const proxy = new Value(v.name, "outer", v.type, this.g);
    proxy.outer = v;
    this.g.outerValues.set(v.name, proxy);
    return proxy;
  }
  input(name: string, shape: Dim[] | null, elemType = F): Value {
    const v = this.g.addValue(name, "input", { elemType, shape });
    this.g.inputs.push(v);
    return v;
  }
  /** An int64 initializer (raw little-endian bytes, as exporters write them). */
  ints(values: number[], dims: number[] = [values.length]): Value {
    return this.tensor(I64, values, dims);
  }
  floats(values: number[], dims: number[] = [values.length]): Value {
    return this.tensor(F, values, dims);
  }
  tensor(elemType: number, values: number[], dims: number[]): Value {
    const name = `c${this.n++}`;
    const raw = new Uint8Array(values.length * (elemType === I64 ? 8 : 4));
    const view = new DataView(raw.buffer);
    values.forEach((x, i) => (elemType === I64 ? view.setBigInt64(i * 8, BigInt(x), true) : view.setFloat32(i * 4, x, true)));
    const v = this.g.addValue(name, "initializer", { elemType, shape: dims });
    v.initializer = { name, data_type: elemType, dims: dims.map(BigInt), raw_data: raw };
    this.g.initializers.push(v);
    return v;
  }
  op(opType: string, inputs: (Value | null)[], attrs: Record<string, AttrValue> = {}, outputs = 1, domain = ""): Value[] {
    const attribute = Object.entries(attrs).map(([name, value]) => attr(name, value));
    const k = this.n++;
    const node = this.g.addNode({ op_type: opType, domain, name: `${opType}_${k}`, attribute }, inputs, Array.from({ length: outputs }, (_, i) => `${opType}_${k}_${i}`));
    for (const [name, value] of Object.entries(attrs)) {
      if (value instanceof Graph) {
        node.setSubgraph(name, value);
        value.owner = node;
        for (const inner of value.outerValues.values()) inner.outer!.uses.push({ node, index: -1, inner });
      }
    }
    return node.outputs as Value[];
  }
  op1(opType: string, inputs: (Value | null)[], attrs: Record<string, AttrValue> = {}): Value {
    return this.op(opType, inputs, attrs)[0]!;
  }
  infer(): this {
    inferTypes(this.g);
    return this;
  }
}

/** Attributes that are float lists even when every entry is a whole number. */
const FLOAT_LISTS = new Set(["scales"]);

function attr(name: string, v: AttrValue): AttributeProto {
  if (typeof v === "number") return Number.isInteger(v) ? { name, type: 2, i: BigInt(v) } : { name, type: 1, f: v };
  if (typeof v === "string") return { name, type: 3, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return v.every(Number.isInteger) && !FLOAT_LISTS.has(name) ? { name, type: 7, ints: v.map(BigInt) } : { name, type: 6, floats: v };
  if (v instanceof Graph) return { name, type: 5, g: { name } };
  return { name, type: 4, t: v };
}

/** `float32[batch, 3]`-style text of a value's type. */
function typeOf(v: Value): string {
  const t = v.type;
  if (!t) return "?";
  return `${t.elemType}${formatShape(t.shape)}`;
}

const shape = (v: Value): string => formatShape(v.type?.shape ?? null);

test("dims: broadcasting keeps a static dimension, a lone symbol, and agrees only on equal symbols", () => {
  assert.deepEqual(broadcastShapes([["batch", 1, 4], [3, 1]]), ["batch", 3, 4]);
  assert.deepEqual(broadcastShapes([["batch"], [5]]), [5]);
  assert.deepEqual(broadcastShapes([["seq"], [null]]), ["seq"]);
  assert.deepEqual(broadcastShapes([["seq"], ["batch"]]), [null]);
  assert.deepEqual(broadcastShapes([["seq"], ["seq"]]), ["seq"]);
  assert.deepEqual(broadcastShapes([[null], [1]]), [null]);
  assert.deepEqual(broadcastShapes([[], [2, 3]]), [2, 3]);
  assert.equal(broadcastShapes([[2], null]), null);
});

test("dims: products, Reshape's -1, slice lengths", () => {
  assert.equal(product([2, 3, 4]), 24);
  assert.equal(product(["batch", 1]), "batch");
  assert.equal(product(["batch", 2]), null);
  assert.equal(reshapeRest(["batch", "seq", 32], [{ copy: 0 }, { copy: 1 }, 4]), 8);
  assert.equal(reshapeRest(["batch", "seq", 4, 8], [{ copy: 0 }, 32]), "seq");
  assert.equal(reshapeRest([null, 8, 4], [{ copy: 0 }]), 32);
  assert.equal(reshapeRest(["batch", "seq", 32], [32]), null);
  assert.equal(reshapeRest([6, 4], [5]), null);
  assert.equal(sliceLength(10, 1, -1, 1), 8);
  assert.equal(sliceLength(10, -1, -11, -1), 10);
  assert.equal(sliceLength(12, 10, 2, -3), 3);
  assert.equal(sliceLength(5, 0, 2 ** 63, 2), 3);
});

test("elementwise: broadcast, comparisons, Cast, Where, Dropout", () => {
  const b = new G();
  const x = b.input("x", ["batch", 1, 4]);
  const y = b.input("y", [3, 1]);
  const add = b.op1("Add", [x, y]);
  const eq = b.op1("Equal", [x, y]);
  const cast = b.op1("Cast", [x], { to: I64 });
  const where = b.op1("Where", [eq, x, b.floats([0], [])]);
  const [drop, mask] = b.op("Dropout", [x, b.floats([0.5], [])], {}, 2);
  const gelu = b.op1("Gelu", [x]);
  const fast = b.op("FastGelu", [x], {}, 1, "com.microsoft")[0]!;
  const sum = b.op1("Sum", [x, y, b.floats([1, 2, 3, 4], [4])]);
  b.infer();
  assert.equal(typeOf(add), "1[batch, 3, 4]");
  assert.equal(typeOf(eq), "9[batch, 3, 4]");
  assert.equal(typeOf(cast), "7[batch, 1, 4]");
  assert.equal(typeOf(where), "1[batch, 3, 4]");
  assert.equal(typeOf(drop!), "1[batch, 1, 4]");
  assert.equal(typeOf(mask!), "9[batch, 1, 4]");
  assert.equal(typeOf(gelu), "1[batch, 1, 4]");
  assert.equal(typeOf(fast), "1[batch, 1, 4]");
  assert.equal(typeOf(sum), "1[batch, 3, 4]");
});

test("matmul: numpy matmul ranks, Gemm transposes, Einsum with ellipsis and implicit output", () => {
  const b = new G();
  const a = b.input("a", ["batch", 1, "seq", 8]);
  const w = b.input("w", [4, 8, 16]);
  const v = b.input("v", [8]);
  const m = b.input("m", [5, 8]);
  const mm = b.op1("MatMul", [a, w]);
  const mv = b.op1("MatMul", [a, v]);
  const vm = b.op1("MatMul", [v, w]);
  const gemm = b.op1("Gemm", [m, b.input("wt", [16, 8])], { transB: 1 });
  const ein = b.op1("Einsum", [a, w], { equation: "...sd,hde->...se" });
  const implicit = b.op1("Einsum", [m, b.input("n", [8, 3])], { equation: "ij,jk" });
  b.infer();
  assert.equal(shape(mm), "[batch, 4, seq, 16]");
  assert.equal(shape(mv), "[batch, 1, seq]");
  assert.equal(shape(vm), "[4, 16]");
  assert.equal(shape(gemm), "[5, 16]");
  assert.equal(shape(ein), "[batch, 1, seq, 16]");
  assert.equal(shape(implicit), "[5, 3]");
});

test("conv: pads, strides, dilations, groups, auto_pad; symbolic sizes survive size-keeping windows", () => {
  const b = new G();
  const x = b.input("x", ["batch", 4, 17, 23]);
  const w = b.input("w", [8, 2, 3, 3]);
  const conv = b.op1("Conv", [x, w], { group: 2, pads: [1, 0, 2, 1], strides: [1, 2], dilations: [2, 2] });
  const same = b.op1("Conv", [x, w], { group: 2, auto_pad: "SAME_UPPER", strides: [2, 3] });
  const valid = b.op1("Conv", [x, w], { group: 2, auto_pad: "VALID", strides: [2, 2] });
  const free = b.input("free", ["batch", 4, "h", "w"]);
  const keep = b.op1("Conv", [free, w], { group: 2, pads: [1, 1, 1, 1] });
  const shrink = b.op1("Conv", [free, w], { group: 2 });
  const ct = b.op1("ConvTranspose", [x, b.input("wt", [4, 3, 3, 4])], { strides: [3, 1], dilations: [1, 2], pads: [1, 1, 0, 2], output_padding: [1, 0], group: 2 });
  const ctShape = b.op1("ConvTranspose", [x, b.input("wt2", [4, 5, 3, 4])], { strides: [2, 2], output_shape: [36, 49] });
  const ctSame = b.op1("ConvTranspose", [x, b.input("wt3", [4, 5, 3, 3])], { strides: [2, 2], auto_pad: "SAME_UPPER" });
  b.infer();
  assert.equal(shape(conv), "[batch, 8, 16, 10]");
  assert.equal(shape(same), "[batch, 8, 9, 8]");
  assert.equal(shape(valid), "[batch, 8, 8, 11]");
  assert.equal(shape(keep), "[batch, 8, h, w]");
  assert.equal(shape(shrink), "[batch, 8, ?, ?]");
  assert.equal(shape(ct), "[batch, 6, 51, 26]");
  assert.equal(shape(ctShape), "[batch, 5, 36, 49]");
  assert.equal(shape(ctSame), "[batch, 5, 34, 46]");
});

test("pooling: ceil_mode drops a last window that would start in the end padding (as onnxruntime and PyTorch do)", () => {
  const b = new G();
  const x = b.input("x", ["batch", 3, 17, 23]);
  const [mp, idx] = b.op("MaxPool", [x], { kernel_shape: [3, 2], strides: [2, 2], ceil_mode: 1 }, 2);
  const ap = b.op1("AveragePool", [x], { kernel_shape: [2, 3], strides: [3, 2], pads: [0, 1, 1, 1], ceil_mode: 1 });
  const dil = b.op1("MaxPool", [x], { kernel_shape: [2, 2], dilations: [2, 3], pads: [1, 1, 1, 1] });
  const same = b.op1("AveragePool", [x], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: "SAME_LOWER" });
  const lp = b.op1("LpPool", [x], { kernel_shape: [3, 3], strides: [2, 1], p: 2 });
  const gap = b.op1("GlobalAveragePool", [x]);
  b.infer();
  assert.equal(shape(mp!), "[batch, 3, 8, 12]");
  assert.equal(typeOf(idx!), "7[batch, 3, 8, 12]");
  assert.equal(shape(ap), "[batch, 3, 6, 12]");
  assert.equal(shape(dil), "[batch, 3, 17, 22]");
  assert.equal(shape(same), "[batch, 3, 9, 12]");
  assert.equal(shape(lp), "[batch, 3, 8, 21]");
  assert.equal(shape(gap), "[batch, 3, 1, 1]");
});

test("normalization: Y keeps X's type; LayerNormalization's statistics and BatchNormalization's outputs", () => {
  const b = new G();
  const x = b.input("x", ["batch", 6, 5, 5]);
  const c = b.input("c", [6]);
  const bn = b.op1("BatchNormalization", [x, c, c, c, c]);
  const inorm = b.op1("InstanceNormalization", [x, c, c]);
  const [ln, mean, inv] = b.op("LayerNormalization", [x, b.input("s", [5, 5])], { axis: -2 }, 3);
  const skip = b.op("SkipLayerNormalization", [x, x, c], {}, 4, "com.microsoft");
  b.infer();
  assert.equal(typeOf(bn), "1[batch, 6, 5, 5]");
  assert.equal(typeOf(inorm), "1[batch, 6, 5, 5]");
  assert.equal(typeOf(ln!), "1[batch, 6, 5, 5]");
  assert.equal(typeOf(mean!), "1[batch, 6, 1, 1]");
  assert.equal(typeOf(inv!), "1[batch, 6, 1, 1]");
  assert.equal(typeOf(skip[0]!), "1[batch, 6, 5, 5]");
  assert.equal(typeOf(skip[3]!), "1[batch, 6, 5, 5]");
  assert.equal(skip[1]!.type, null);
});

test("reshape plumbing: Shape → Gather → Unsqueeze → Concat → Reshape carries batch and seq", () => {
  const b = new G();
  const x = b.input("x", ["batch", "seq", 32]);
  const s = b.op1("Shape", [x]);
  const n = b.op1("Gather", [s, b.ints([0], [])], { axis: 0 });
  const t = b.op1("Gather", [s, b.ints([1], [])], { axis: 0 });
  const n1 = b.op1("Unsqueeze", [n, b.ints([0])]);
  const t1 = b.op1("Unsqueeze", [t], { axes: [0] });
  const target = b.op1("Concat", [n1, t1, b.ints([4]), b.ints([-1])], { axis: 0 });
  const heads = b.op1("Reshape", [x, target]);
  const back = b.op1("Reshape", [heads, b.ints([0, -1, 32])]);
  const zeros = b.op1("Reshape", [x, b.ints([0, 0, 2, 0])]);
  const rows = b.op1("Reshape", [x, b.ints([-1, 32])]);
  const mixed = b.op1("Reshape", [x, b.op1("Concat", [b.ints([-1]), b.op1("Shape", [x], { start: -1 })], { axis: 0 })]);
  const unknown = b.op1("Reshape", [x, b.input("dyn", [3], I64)]);
  b.infer();
  assert.equal(shape(heads), "[batch, seq, 4, 8]");
  assert.equal(shape(back), "[batch, seq, 32]");
  assert.equal(shape(zeros), "[batch, seq, 2, ?]");
  assert.equal(shape(rows), "[?, 32]");
  assert.equal(shape(mixed), "[?, 32]");
  assert.equal(shape(unknown), "[?, ?, ?]");
});

test("known values: arithmetic on shapes feeds Expand, ConstantOfShape, Range, Slice and Pad", () => {
  const b = new G();
  const x = b.input("x", ["batch", "seq", 12]);
  const s = b.op1("Shape", [x]);
  const seq = b.op1("Gather", [s, b.ints([1], [])]);
  const half = b.op1("Div", [b.op1("Gather", [s, b.ints([2], [])]), b.ints([2], [])]);
  const target = b.op1("Concat", [b.op1("Unsqueeze", [seq, b.ints([0])]), b.op1("Unsqueeze", [half, b.ints([0])])], { axis: 0 });
  const filled = b.op1("ConstantOfShape", [target]);
  const positions = b.op1("Range", [b.ints([0], []), seq, b.ints([1], [])]);
  const expanded = b.op1("Expand", [b.input("row", [1, 6]), target]);
  // torch's expand(-1, ...): Where(Equal(shape, -1), ones, shape)
  const wanted = b.op1("Concat", [b.ints([-1]), b.op1("Unsqueeze", [half, b.ints([0])])], { axis: 0 });
  const fixed = b.op1("Where", [b.op1("Equal", [wanted, b.ints([-1])]), b.ints([1]), wanted]);
  const expanded2 = b.op1("Expand", [b.input("col", [7, 1]), fixed]);
  const sliced = b.op1("Slice", [x, b.ints([0]), b.op1("Unsqueeze", [seq, b.ints([0])]), b.ints([1])]);
  const padded = b.op1("Pad", [x, b.op1("Cast", [b.op1("Concat", [b.ints([0, 0, 1]), b.ints([0, 0, 3])], { axis: 0 })], { to: I64 })]);
  const size = b.op1("Size", [x]);
  b.infer();
  assert.equal(typeOf(filled), "1[seq, 6]");
  assert.equal(typeOf(positions), "7[seq]");
  assert.equal(shape(expanded), "[seq, 6]");
  assert.equal(shape(expanded2), "[7, 6]");
  assert.equal(shape(sliced), "[batch, seq, 12]");
  assert.equal(shape(padded), "[batch, seq, 16]");
  assert.equal(typeOf(size), "7[]");
});

test("rearranging: Flatten, Transpose, Squeeze/Unsqueeze in both forms, Tile, Concat, Slice", () => {
  const b = new G();
  const x = b.input("x", ["batch", 1, 6, 8]);
  const flat = b.op1("Flatten", [x]);
  const flat0 = b.op1("Flatten", [x], { axis: 0 });
  const flatNeg = b.op1("Flatten", [x], { axis: -2 });
  const tr = b.op1("Transpose", [x], { perm: [0, 2, 3, 1] });
  const rev = b.op1("Transpose", [x]);
  const sq = b.op1("Squeeze", [x, b.ints([1])]);
  const sqAttr = b.op1("Squeeze", [x], { axes: [-3] });
  const sqAll = b.op1("Squeeze", [x]);
  const usq = b.op1("Unsqueeze", [x, b.ints([0, -1])]);
  const tile = b.op1("Tile", [x, b.ints([1, 3, 1, 2])]);
  const cat = b.op1("Concat", [x, b.input("y", [null, 1, 6, 8]), x], { axis: -1 });
  const sl = b.op1("Slice", [x, b.ints([1, -100]), b.ints([-1, 100]), b.ints([2, 3]), b.ints([2, 1])]);
  const slOld = b.op1("Slice", [x], { starts: [1], ends: [1000], axes: [3] });
  b.infer();
  assert.equal(shape(flat), "[batch, 48]");
  assert.equal(shape(flat0), "[1, ?]");
  assert.equal(shape(flatNeg), "[batch, 48]");
  assert.equal(shape(tr), "[batch, 6, 8, 1]");
  assert.equal(shape(rev), "[8, 6, 1, batch]");
  assert.equal(shape(sq), "[batch, 6, 8]");
  assert.equal(shape(sqAttr), "[batch, 6, 8]");
  assert.equal(shape(sqAll), "[?...]", "batch may be 1");
  assert.equal(shape(usq), "[1, batch, 1, 6, 8, 1]");
  assert.equal(shape(tile), "[batch, 3, 6, 16]");
  assert.equal(shape(cat), "[batch, 1, 6, 24]");
  assert.equal(shape(sl), "[batch, 1, 2, 8]");
  assert.equal(shape(slOld), "[batch, 1, 6, 7]");
});

test("Split: sizes as attribute (opset < 13) or input, equal parts, and opset 18's num_outputs", () => {
  const b = new G();
  const x = b.input("x", ["batch", 10, 12]);
  const attr = b.op("Split", [x], { axis: 1, split: [3, 7] }, 2);
  const input = b.op("Split", [x, b.ints([2, 4, 6])], { axis: -1 }, 3);
  const equal = b.op("Split", [x], { axis: 2 }, 4);
  const chunks = b.op("Split", [x], { axis: 1, num_outputs: 3 }, 3);
  const sym = b.op("Split", [x], { axis: 0 }, 2);
  b.infer();
  assert.deepEqual(attr.map(shape), ["[batch, 3, 12]", "[batch, 7, 12]"]);
  assert.deepEqual(input.map(shape), ["[batch, 10, 2]", "[batch, 10, 4]", "[batch, 10, 6]"]);
  assert.deepEqual(equal.map(shape), ["[batch, 10, 3]", "[batch, 10, 3]", "[batch, 10, 3]", "[batch, 10, 3]"]);
  assert.deepEqual(chunks.map(shape), ["[batch, 4, 12]", "[batch, 4, 12]", "[batch, 2, 12]"]);
  assert.deepEqual(sym.map(shape), ["[?, 10, 12]", "[?, 10, 12]"]);
});

test("Pad and Resize: pads as attribute or input (with axes), sizes or scales", () => {
  const b = new G();
  const x = b.input("x", ["batch", 4, 6, 8]);
  const padAttr = b.op1("Pad", [x], { pads: [0, 0, 1, 2, 0, 0, 3, 4] });
  const padAxes = b.op1("Pad", [x, b.ints([1, 2, 3, 4]), null, b.ints([-2, -1])]);
  const byScale = b.op1("Resize", [x, null, b.floats([1, 1, 0.5, 2.5])]);
  const bySize = b.op1("Resize", [x, null, null, b.ints([1, 4, 3, 16])]);
  const byAxes = b.op1("Resize", [x, null, null, b.ints([5, 7])], { axes: [2, 3] });
  const resize10 = b.op1("Resize", [x, b.floats([1, 1, 2, 1.5])]);
  const upsample = b.op1("Upsample", [x], { scales: [1, 1, 2, 2] });
  b.infer();
  assert.equal(shape(padAttr), "[batch, 4, 10, 14]");
  assert.equal(shape(padAxes), "[batch, 4, 10, 14]");
  assert.equal(shape(byScale), "[batch, 4, 3, 20]");
  assert.equal(shape(bySize), "[1, 4, 3, 16]");
  assert.equal(shape(byAxes), "[batch, 4, 5, 7]");
  assert.equal(shape(resize10), "[batch, 4, 12, 12]");
  assert.equal(shape(upsample), "[batch, 4, 12, 16]");
});

test("indexing: Gather*, Scatter*, TopK, ArgMax, OneHot, NonZero", () => {
  const b = new G();
  const x = b.input("x", ["batch", "seq", 12]);
  const idx = b.input("idx", [2, 3], I64);
  const gather = b.op1("Gather", [x, idx], { axis: 1 });
  const gatherScalar = b.op1("Gather", [x, b.ints([0], [])], { axis: -1 });
  const ge = b.op1("GatherElements", [x, b.input("ge", ["batch", 2, 12], I64)], { axis: 1 });
  const gnd = b.op1("GatherND", [x, b.input("nd", ["batch", 4, 1], I64)], { batch_dims: 1 });
  const snd = b.op1("ScatterND", [x, b.input("si", [2, 1], I64), b.input("su", [2, "seq", 12])]);
  const [tv, ti] = b.op("TopK", [x, b.ints([5])], { axis: 1 }, 2);
  const [ov, oi] = b.op("TopK", [x], { k: 3 }, 2);
  const am = b.op1("ArgMax", [x], { axis: -1, keepdims: 0 });
  const onehot = b.op1("OneHot", [idx, b.ints([10], []), b.floats([0, 1])], { axis: 1 });
  const nz = b.op1("NonZero", [x]);
  b.infer();
  assert.equal(typeOf(gather), "1[batch, 2, 3, 12]");
  assert.equal(typeOf(gatherScalar), "1[batch, seq]");
  assert.equal(typeOf(ge), "1[batch, 2, 12]");
  assert.equal(typeOf(gnd), "1[batch, 4, 12]");
  assert.equal(typeOf(snd), "1[batch, seq, 12]");
  assert.equal(typeOf(tv!), "1[batch, 5, 12]");
  assert.equal(typeOf(ti!), "7[batch, 5, 12]");
  assert.equal(typeOf(ov!), "1[batch, seq, 3]");
  assert.equal(typeOf(oi!), "7[batch, seq, 3]");
  assert.equal(typeOf(am), "7[batch, seq]");
  assert.equal(typeOf(onehot), "1[2, 10, 3]");
  assert.equal(typeOf(nz), "7[3, ?]");
});

test("reductions: axes as attribute or input, keepdims, noop_with_empty_axes, unknown axes", () => {
  const b = new G();
  const x = b.input("x", ["batch", "seq", 12]);
  const attr = b.op1("ReduceMean", [x], { axes: [-1] });
  const input = b.op1("ReduceSum", [x, b.ints([1])], { keepdims: 0 });
  const all = b.op1("ReduceMax", [x], { keepdims: 0 });
  const allKeep = b.op1("ReduceMin", [x]);
  const noop = b.op1("ReduceSum", [x, b.ints([], [0])], { noop_with_empty_axes: 1 });
  const emptyAll = b.op1("ReduceSum", [x, b.ints([], [0])], { keepdims: 0 });
  const dyn = b.op1("ReduceSum", [x, b.input("axes", [2], I64)], { keepdims: 0 });
  const dynKeep = b.op1("ReduceSum", [x, b.input("axes2", [1], I64)]);
  b.infer();
  assert.equal(shape(attr), "[batch, seq, 1]");
  assert.equal(shape(input), "[batch, 12]");
  assert.equal(shape(all), "[]");
  assert.equal(shape(allKeep), "[1, 1, 1]");
  assert.equal(shape(noop), "[batch, seq, 12]");
  assert.equal(shape(emptyAll), "[]");
  assert.equal(shape(dyn), "[?]");
  assert.equal(shape(dynKeep), "[?, ?, ?]");
});

test("generators: Constant forms, Shape with start and end, ConstantOfShape's type, Range", () => {
  const b = new G();
  const x = b.input("x", ["batch", 4, 6, 8]);
  const ints = b.op1("Constant", [], { value_ints: [1, 2, 3] });
  const f = b.op1("Constant", [], { value_float: 0.5 });
  const t = b.op1("Constant", [], { value: { data_type: 10, dims: [2n, 2n], raw_data: new Uint8Array(8) } });
  const tail = b.op1("Shape", [x], { start: -2 });
  const mid = b.op1("Shape", [x], { start: 1, end: -1 });
  const plane = b.op1("ConstantOfShape", [tail], { value: { data_type: I64, dims: [1n], raw_data: new Uint8Array(8) } });
  const range = b.op1("Range", [b.floats([0], []), b.floats([2], []), b.floats([0.5], [])]);
  const eye = b.op1("EyeLike", [b.input("sq", [3, 3])], { dtype: 7 });
  b.infer();
  assert.equal(typeOf(ints), "7[3]");
  assert.equal(typeOf(f), "1[]");
  assert.equal(typeOf(t), "10[2, 2]");
  assert.equal(typeOf(tail), "7[2]");
  assert.equal(typeOf(mid), "7[2]");
  assert.equal(typeOf(plane), "7[6, 8]");
  assert.equal(typeOf(range), "1[4]");
  assert.equal(typeOf(eye), "7[3, 3]");
});

test("control flow: If merges its branches, Loop stacks its scan outputs, Scan inserts the sequence axis", () => {
  const b = new G();
  const x = b.input("x", [2, 4, 6, 8]);
  const flag = b.input("flag", [], BOOL);
  const then = new G(b.g);
  then.g.outputs.push(then.op1("Relu", [then.outer(x)]));
  const other = new G(b.g);
  other.g.outputs.push(other.op1("Slice", [other.outer(x), other.ints([0]), other.ints([3]), other.ints([2])]));
  const chosen = b.op1("If", [flag], { then_branch: then.g, else_branch: other.g });

  const body = new G(b.g);
  const [, cond] = [body.input("i", null, 0), body.input("cond", null, 0)];
  const acc = body.input("acc", null, 0);
  const bx = body.outer(x);
  const next = body.op1("Add", [acc, bx]);
  const row = body.op1("ReduceMean", [bx], { axes: [1], keepdims: 0 });
  body.g.outputs.push(body.op1("Identity", [cond]), next, row);
  const [final, rows] = b.op("Loop", [b.ints([5], []), null, x], { body: body.g }, 2);

  const sb = new G(b.g);
  const state = sb.input("state", null, 0);
  const slice = sb.input("slice", null, 0);
  const st = sb.op1("Add", [state, slice]);
  sb.g.outputs.push(st, sb.op1("Identity", [st]));
  const [scanFinal, scanned] = b.op("Scan", [b.input("init", [2, 4, 8]), x], { body: sb.g, num_scan_inputs: 1, scan_input_axes: [2], scan_output_axes: [1] }, 2);
  b.infer();
  assert.equal(typeOf(chosen), "1[2, 4, ?, 8]");
  assert.equal(typeOf(body.g.inputs[0]!), "7[]", "the iteration number");
  assert.equal(typeOf(acc), "1[?...]", "a state takes its element type only");
  assert.equal(typeOf(final!), "1[?...]");
  assert.equal(typeOf(rows!), "1[5, 2, 6, 8]");
  assert.equal(typeOf(slice), "1[2, 4, 8]");
  assert.equal(typeOf(scanFinal!), "1[2, 4, 8]");
  assert.equal(typeOf(scanned!), "1[2, 6, 4, 8]");
});

test("declared types are kept and only completed; unknown operators stay unknown", () => {
  const b = new G();
  const x = b.input("x", ["batch", 3]);
  const relu = b.op1("Relu", [x]);
  relu.type = { elemType: F, shape: ["n", null] };
  const wrong = b.op1("Relu", [x]);
  wrong.type = { elemType: 10, shape: null };
  const custom = b.op("Mystery", [x], {}, 2, "example.com");
  const after = b.op1("Relu", [custom[0]!]);
  b.infer();
  assert.equal(typeOf(relu), "1[n, 3]");
  assert.equal(typeOf(wrong), "10[?...]", "a declared element type wins, and a shape inferred for another one is dropped");
  assert.equal(custom[0]!.type, null);
  assert.equal(custom[1]!.type, null);
  assert.equal(after.type, null);
});

test("inferNodeTypes: a node added later reads known values through the nodes before it", () => {
  const b = new G();
  const x = b.input("x", ["batch", "seq", 32]);
  const s = b.op1("Shape", [x]);
  const target = b.op1("Concat", [b.op1("Slice", [s, b.ints([0]), b.ints([2])]), b.ints([4, 8])], { axis: 0 });
  b.infer();
  const reshaped = b.op1("Reshape", [x, target]);
  assert.equal(reshaped.type, null);
  inferNodeTypes(reshaped.producer!);
  assert.equal(shape(reshaped), "[batch, seq, 4, 8]");
  // Nothing is cached between calls: a node typed on its own computes what it needs.
  const fresh = b.op1("Expand", [b.input("one", [1]), b.op1("Concat", [b.op1("Shape", [x], { end: 1 }), b.ints([2])], { axis: 0 })]);
  for (const n of [...b.g.nodes].slice(-3)) inferNodeTypes(n);
  assert.equal(shape(fresh), "[batch, 2]");
});

test("inspect: the CNN fixture's module tree has every shape, after the first Conv too (issue 10, item 11)", () => {
  const root = path.resolve(import.meta.dirname, "../..");
  const { tree } = prepareModel(decodeModel(readFileSync(path.join(root, "test/fixtures/cnn/model.onnx"))));
  const text = formatTree(tree);
  assert.match(text, /\(layer2\): float32\[batch, 8, 16, 16\] → float32\[batch, 16, 8, 8\]/);
  assert.match(text, /\(avgpool\): float32\[batch, 16, 8, 8\] → float32\[batch, 16, 1, 1\]/);
  assert.doesNotMatch(text, /\?/, text);
});
