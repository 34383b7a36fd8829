// What an operator's inference function sees: its node's inputs (types, and the contents of small
// tensors that hold shapes), its attributes, and a way to infer a subgraph. One `Inference` lives
// for one call of `inferTypes`/`inferNodeTypes`; nothing is kept between calls.

import { DataType, tensorRawData, type TensorProto } from "../../onnx/index.js";
import type { Graph, Node, Value } from "../graph.js";
import { constantTensor } from "../constants.js";
import type { Dim, ValueType } from "../types.js";

/** An inferred output type; null when nothing is known. */
export type Out = ValueType | null;

/** Shape inference for one operator: the types of the node's outputs, in order. */
export type ShapeRule = (c: NodeCtx) => Out[];

/**
 * Known-value inference for one operator: the contents (flattened, C order) of output 0 when the
 * inputs' contents are known. Entries are numbers, symbolic dimensions, or null (unknown).
 */
export type ValueRule = (c: NodeCtx) => Content | null;

export type Content = Dim[];

/** Tensors longer than this are not read or computed as contents. */
export const MAX_CONTENT = 1024;

/** The services a run offers its rules (implemented by the driver in `../infer.ts`). */
export interface Run {
  content(v: Value): Content | null;
  inferGraph(g: Graph): void;
}

export class NodeCtx {
  constructor(
    readonly run: Run,
    readonly node: Node,
  ) {}

  get op(): string {
    return this.node.opType;
  }
  get nInputs(): number {
    return this.node.inputs.length;
  }
  get nOutputs(): number {
    return this.node.outputs.length;
  }

  input(i: number): Value | null {
    return this.node.inputs[i] ?? null;
  }
  /** Whether input i is given (not absent, not the empty name). */
  has(i: number): boolean {
    return !!this.node.inputs[i];
  }
  type(i: number): ValueType | null {
    return this.node.inputs[i]?.resolve().type ?? null;
  }
  shape(i: number): Dim[] | null {
    return this.type(i)?.shape ?? null;
  }
  elem(i: number): number {
    return this.type(i)?.elemType ?? 0;
  }
  rank(i: number): number | null {
    return this.shape(i)?.length ?? null;
  }

  /** Contents of input i (a shape, axes, pads...) when known. */
  content(i: number): Content | null {
    const v = this.node.inputs[i];
    return v ? this.run.content(v) : null;
  }
  /** Contents of input i when every entry is a number. */
  numbers(i: number): number[] | null {
    const c = this.content(i);
    return c && c.every((d) => typeof d === "number") ? (c as number[]) : null;
  }
  /** The length of 1-D input i when static (how many entries a shape or axes input has). */
  length(i: number): number | null {
    const s = this.shape(i);
    if (s && s.length === 1 && typeof s[0] === "number") return s[0];
    return this.content(i)?.length ?? null;
  }

  attrInt(name: string, dflt: number): number {
    const a = this.node.attribute(name);
    return a?.i !== undefined ? Number(a.i) : dflt;
  }
  attrInts(name: string): number[] | null {
    const a = this.node.attribute(name);
    return a?.ints ? a.ints.map(Number) : null;
  }
  attrFloat(name: string, dflt: number): number {
    const a = this.node.attribute(name);
    return a?.f !== undefined ? a.f : dflt;
  }
  attrFloats(name: string): number[] | null {
    const a = this.node.attribute(name);
    return a?.floats ? [...a.floats] : null;
  }
  attrString(name: string, dflt: string): string {
    const a = this.node.attribute(name);
    return a?.s !== undefined ? new TextDecoder().decode(a.s) : dflt;
  }
  attrTensor(name: string): TensorProto | null {
    return this.node.attribute(name)?.t ?? null;
  }
  hasAttr(name: string): boolean {
    return this.node.attribute(name) !== undefined;
  }

  /** Axes given as an attribute (older opsets) or as input `i` (newer); null when not known. */
  axes(i: number): number[] | null {
    if (this.hasAttr("axes")) return this.attrInts("axes") ?? [];
    return this.has(i) ? this.numbers(i) : null;
  }
  /** Whether axes are given at all, as attribute or input. */
  hasAxes(i: number): boolean {
    return this.hasAttr("axes") || this.has(i);
  }

  inferGraph(g: Graph): void {
    this.run.inferGraph(g);
  }
}

export function typed(elemType: number, shape: Dim[] | null): ValueType {
  return { elemType, shape };
}

/** Input i's type with another element type (Not, IsNaN, Cast...). */
export function sameShape(c: NodeCtx, i: number, elemType: number): ValueType {
  return { elemType, shape: c.shape(i) };
}

/** Element types that hold integers (contents of these are exact). */
const INTEGRAL = new Set<number>([
  DataType.INT64, DataType.INT32, DataType.INT16, DataType.INT8, DataType.UINT64, DataType.UINT32,
  DataType.UINT16, DataType.UINT8, DataType.BOOL,
]);

export function isIntegral(elemType: number): boolean {
  return INTEGRAL.has(elemType);
}

/** Numbers of a small constant (initializer or Constant node), or null. */
export function constantNumbers(v: Value): number[] | null {
  const r = v.resolve();
  const p = r.producer;
  if (p && p.opType === "Constant") {
    const a = p.proto.attribute?.[0];
    if (a?.name === "value_ints" && a.ints) return a.ints.length <= MAX_CONTENT ? a.ints.map(Number) : null;
    if (a?.name === "value_int" && a.i !== undefined) return [Number(a.i)];
    if (a?.name === "value_floats" && a.floats) return a.floats.length <= MAX_CONTENT ? [...a.floats] : null;
    if (a?.name === "value_float" && a.f !== undefined) return [a.f];
  }
  const t = constantTensor(r);
  return t ? tensorNumbers(t) : null;
}

/** The numbers in a small tensor of a numeric type, or null. */
export function tensorNumbers(t: TensorProto): number[] | null {
  if (t.data_location === 1 || t.segment) return null;
  const count = (t.dims ?? []).reduce((n, d) => n * Number(d), 1);
  if (count > MAX_CONTENT) return null;
  const type = t.data_type ?? 0;
  if (t.raw_data && t.raw_data.length > 0) {
    const width = RAW_WIDTH[type];
    if (!width || t.raw_data.length !== width * count) return null;
    const raw = tensorRawData(t)!;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(readRaw(view, type, i * width));
    return out;
  }
  let data: readonly (number | bigint)[] | undefined;
  switch (type) {
    case DataType.FLOAT:
      data = t.float_data;
      break;
    case DataType.DOUBLE:
      data = t.double_data;
      break;
    case DataType.INT64:
      data = t.int64_data;
      break;
    case DataType.UINT32:
    case DataType.UINT64:
      data = t.uint64_data;
      break;
    case DataType.INT32:
    case DataType.INT16:
    case DataType.INT8:
    case DataType.UINT16:
    case DataType.UINT8:
    case DataType.BOOL:
      data = t.int32_data;
      break;
    default:
      return null;
  }
  const out = (data ?? []).map(Number);
  return out.length === count ? out : null;
}

const RAW_WIDTH: Record<number, number> = {
  [DataType.FLOAT]: 4, [DataType.DOUBLE]: 8, [DataType.INT64]: 8, [DataType.UINT64]: 8, [DataType.INT32]: 4,
  [DataType.UINT32]: 4, [DataType.INT16]: 2, [DataType.UINT16]: 2, [DataType.INT8]: 1, [DataType.UINT8]: 1,
  [DataType.BOOL]: 1,
};

function readRaw(view: DataView, type: number, at: number): number {
  switch (type) {
    case DataType.FLOAT:
      return view.getFloat32(at, true);
    case DataType.DOUBLE:
      return view.getFloat64(at, true);
    case DataType.INT64:
      return Number(view.getBigInt64(at, true));
    case DataType.UINT64:
      return Number(view.getBigUint64(at, true));
    case DataType.INT32:
      return view.getInt32(at, true);
    case DataType.UINT32:
      return view.getUint32(at, true);
    case DataType.INT16:
      return view.getInt16(at, true);
    case DataType.UINT16:
      return view.getUint16(at, true);
    case DataType.INT8:
      return view.getInt8(at);
    default:
      return view.getUint8(at);
  }
}

/**
 * Record an inferred type on a value, filling in only what is unknown: a declared element type
 * or dimension is never replaced, and an inferred type that disagrees with the declared element
 * type is dropped.
 */
export function fillType(v: Value, t: Out): void {
  if (!t || (t.elemType === 0 && !t.shape)) return;
  const cur = v.type;
  if (!cur) {
    v.type = t;
    return;
  }
  if (cur.elemType !== 0 && t.elemType !== 0 && cur.elemType !== t.elemType) return;
  const elemType = cur.elemType || t.elemType;
  let shape = cur.shape;
  if (!shape) shape = t.shape;
  else if (t.shape && t.shape.length === shape.length && shape.some((d, i) => d === null && t.shape![i] !== null)) {
    shape = shape.map((d, i) => d ?? t.shape![i]!);
  }
  if (elemType !== cur.elemType || shape !== cur.shape) v.type = { elemType, shape };
}
