// Creating ONNX nodes for the script: every inserted node is named after the script location it
// comes from (`intv/steer.intv:7:1/Add_3`) and carries the source line as its doc string, so a
// viewer like Netron and the runtime's error mapping can point back at the script.

import type { AttributeProto, TensorProto } from "../onnx/index.js";
import { CompileError, DataType, NODE_NAME_PREFIX, numberToBfloat16, numberToHalf, type Span } from "../../common/index.js";
import { tooManyNodes } from "../limits.js";
import { inferNodeTypes, type Graph, type IrModel, type Value, type ValueType } from "../ir/index.js";

// Element-type codes the lowering uses, from the one table (common/formats/elemTypes.ts).
export const { FLOAT, UINT8, INT8, INT32, INT64, BOOL, FLOAT16, DOUBLE, BFLOAT16 } = DataType;

export type AttrValue = number | bigint | string | number[] | bigint[] | TensorProto | { float: number };

export class Builder {
  /** The script location new nodes are attributed to. */
  span: Span | null = null;
  sourceLine = "";
  /** Initializers added by the compiler, by content key, so `load` of one file is one tensor. */
  private readonly constantCache = new Map<string, Value>();
  private maxNodes = Infinity;
  /** The next suffix to try for each base name given to `freshName`. */
  private readonly suffixes = new Map<string, number>();
  private startNodes = 0;
  /** Nodes added inside If branches (not counted by the main graph's size). */
  private branchNodes = 0;

  /** Where new nodes go: the main graph, or the If branch a statement is being lowered into. */
  graph: Graph;

  constructor(
    readonly model: IrModel,
    main: Graph,
  ) {
    this.graph = main;
  }

  get opset(): number {
    return this.model.opset;
  }

  freshName(base: string): string {
    // Resume at the last suffix given for `base`: counting up from 1 each time made n names with
    // one base (the constants of one statement, such as `unbind` of a long axis) cost n^2/2
    // lookups — 20,000 took two minutes (found by test/fuzz.test.ts). Same names as before.
    let name = base;
    let i = this.suffixes.get(base) ?? 1;
    while (this.model.names.has(name)) name = `${base}_${i++}`;
    this.suffixes.set(base, i);
    this.model.names.add(name);
    return name;
  }

  private location(): string {
    const s = this.span;
    return s ? `${s.file}:${s.line}:${s.col}` : "script";
  }

  /**
   * Refuse (E0404) to grow the graph by more than `max` nodes from now on. Checked as each node is
   * added, because one statement can add any number (`unbind` of a dimension of 10^8; found by
   * test/fuzz.test.ts), not only between statements.
   */
  limitNodes(max: number): void {
    this.maxNodes = max;
    this.startNodes = this.model.graph.nodes.size;
  }

  /**
   * Refuse (E0404) now if `n` more nodes would pass the limit: for work whose size is known
   * before it starts (`unbind` of 10^8 took 20 s to reach the limit node by node).
   */
  reserve(n: number): void {
    // The main graph's growth (pass copies included) plus what went into If branches: `this.graph`
    // is a branch while a statement is lowered into one, and its own size says nothing.
    if (this.model.graph.nodes.size - this.startNodes + this.branchNodes + n > this.maxNodes) {
      throw new CompileError(tooManyNodes(this.maxNodes, this.span ?? undefined));
    }
  }

  /** Add a node; returns its outputs (typed by inference where possible). */
  op(opType: string, inputs: (Value | null)[], attrs: Record<string, AttrValue> = {}, outputs = 1): Value[] {
    this.reserve(1);
    const n = this.model.addedNodes++;
    const prefix = `${NODE_NAME_PREFIX}${this.location()}`;
    const outNames = Array.from({ length: outputs }, (_, i) => this.freshName(`${prefix}/${opType}_${n}${outputs > 1 ? `_${i}` : ""}`));
    const attribute = Object.entries(attrs).map(([name, v]) => attributeProto(name, v));
    const proto = { name: `${prefix}/${opType}_${n}`, op_type: opType, doc_string: this.docString() } as Parameters<Graph["addNode"]>[0];
    if (attribute.length > 0) proto.attribute = attribute;
    // Values of enclosing scopes are read inside a body through proxies (explicit outer edges).
    const scoped = inputs.map((v) => (v && v.graph !== this.graph ? this.graph.outerRef(v) : v));
    const node = this.graph.addNode(proto, scoped, outNames);
    if (this.graph !== this.model.graph) this.branchNodes++;
    inferNodeTypes(node);
    return node.outputs as Value[];
  }

  op1(opType: string, inputs: (Value | null)[], attrs: Record<string, AttrValue> = {}): Value {
    return this.op(opType, inputs, attrs, 1)[0]!;
  }

  /** Add what `fn` creates to `graph` (an If branch) instead of the graph nodes go to now. */
  within<T>(graph: Graph, fn: () => T): T {
    const outer = this.graph;
    this.graph = graph;
    try {
      return fn();
    } finally {
      this.graph = outer;
    }
  }

  private docString(): string {
    const s = this.span;
    if (!s) return "inserted by intv";
    return `inserted by intv for ${s.file}:${s.line}:${s.col}: ${this.sourceLine.trim()}`;
  }

  /** An initializer holding `tensor` (added once per distinct key). */
  initializer(tensor: TensorProto, key?: string): Value {
    const cached = key !== undefined ? this.constantCache.get(key) : undefined;
    if (cached) return cached;
    const name = this.freshName(`intv.const.${this.location()}`);
    const t: TensorProto = { ...tensor, name };
    const main = this.model.graph;
    const v = main.addValue(name, "initializer", { elemType: t.data_type ?? 0, shape: (t.dims ?? []).map(Number) });
    v.initializer = t;
    main.initializers.push(v);
    if (key !== undefined) this.constantCache.set(key, v);
    return v;
  }

  /** A constant tensor of `elemType` (float-ish or integer) holding `values` with `dims`. */
  constant(elemType: number, values: number[] | bigint[], dims: number[]): Value {
    const key = `${elemType}|${dims.join(",")}|${values.join(",")}`;
    return this.initializer(makeTensor(elemType, values, dims), key);
  }

  scalar(elemType: number, value: number): Value {
    return this.constant(elemType, [value], []);
  }

  ints(values: number[]): Value {
    return this.constant(INT64, values.map((v) => BigInt(v)), [values.length]);
  }

  int(value: number): Value {
    return this.constant(INT64, [BigInt(value)], []);
  }
}

export function typeOfValue(v: Value): ValueType | null {
  return v.resolve().type;
}

function attributeProto(name: string, v: AttrValue): AttributeProto {
  if (typeof v === "number") return { name, type: 2, i: BigInt(v) };
  if (typeof v === "bigint") return { name, type: 2, i: v };
  if (typeof v === "string") return { name, type: 3, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: 7, ints: (v as (number | bigint)[]).map((x) => BigInt(x)) };
  if ("float" in v) return { name, type: 1, f: v.float };
  return { name, type: 4, t: v };
}

/** Encode numbers as a TensorProto of `elemType` (raw little-endian bytes). */
export function makeTensor(elemType: number, values: number[] | bigint[], dims: number[]): TensorProto {
  const n = values.length;
  let raw: Uint8Array;
  switch (elemType) {
    case FLOAT:
      raw = new Uint8Array(Float32Array.from(values as number[], Number).buffer);
      break;
    case DOUBLE:
      raw = new Uint8Array(Float64Array.from(values as number[], Number).buffer);
      break;
    case FLOAT16:
      raw = new Uint8Array(Uint16Array.from(values as number[], (x) => numberToHalf(Number(x))).buffer);
      break;
    case BFLOAT16:
      raw = new Uint8Array(Uint16Array.from(values as number[], (x) => numberToBfloat16(Number(x))).buffer);
      break;
    case INT64:
      raw = new Uint8Array(BigInt64Array.from(values as bigint[], (x) => BigInt(x)).buffer);
      break;
    case INT32:
      raw = new Uint8Array(Int32Array.from(values as number[], Number).buffer);
      break;
    case INT8:
      raw = new Uint8Array(Int8Array.from(values as number[], Number).buffer);
      break;
    case UINT8:
    case BOOL:
      raw = Uint8Array.from(values as number[], (x) => (elemType === BOOL ? (Number(x) ? 1 : 0) : Number(x)));
      break;
    default:
      throw new Error(`cannot make a constant of element type ${elemType}`);
  }
  void n;
  return { dims: dims.map((d) => BigInt(d)), data_type: elemType, raw_data: raw };
}
