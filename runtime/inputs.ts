// Inputs are checked before running: names, element types, ranks, static dimensions and the
// consistency of symbolic dimensions across inputs. Nested arrays and plain numbers are converted
// to the declared element type here. Every problem is collected; the caller throws them together.

import {
  ELEM_SIZE, allocate, describeTensor, isElemName, numberToHalf, sizeOf, suggest,
  type Dim, type ElemName, type Tensor, type TypedArray,
} from "../common/index.js";

/** One value the compiled model takes: a model input or a script param. */
export interface InputSpec {
  /** The name to pass it under: the graph input's name, or the param's name in the script. */
  name: string;
  /** The graph input that carries it. */
  input: string;
  kind: "input" | "param";
  /** Lowercase ONNX element type; null when the model does not declare it. */
  elemType: string | null;
  /** null when the rank is unknown. */
  shape: Dim[] | null;
  /** True when it may be omitted (a param with a default, an input backed by an initializer). */
  optional: boolean;
}

export type Scalar = number | bigint | boolean | string;
export type NestedArray = readonly (Scalar | NestedArray)[];
/** What `run` accepts for one input: a tensor, a (nested) array, or a single number. */
export type InputValue = Tensor | NestedArray | Scalar;

/** `int64[batch, seq]`, `float32[?]`, `float32[...]` (unknown rank). */
export function describeSpec(spec: { elemType: string | null; shape: Dim[] | null }): string {
  const dims = spec.shape === null ? "..." : spec.shape.map((d) => (d === null ? "?" : String(d))).join(", ");
  return `${spec.elemType ?? "?"}[${dims}]`;
}

const label = (spec: InputSpec): string => `${spec.kind} \`${spec.name}\``;

export function isTensor(value: unknown): value is Tensor {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "dims" in value && "data" in value && "type" in value;
}

/**
 * Convert and check the given inputs. Returns the feeds keyed by graph input name, or the
 * problems found (all of them).
 */
export function prepareInputs(
  specs: readonly InputSpec[],
  given: Readonly<Record<string, InputValue>>,
): { feeds: Map<string, Tensor>; problems: string[] } {
  const problems: string[] = [];
  const feeds = new Map<string, Tensor>();
  const byName = new Map<string, InputSpec>();
  for (const s of specs) byName.set(s.name, s);
  for (const s of specs) if (!byName.has(s.input)) byName.set(s.input, s); // params by graph name too
  const bindings = new Map<string, { size: number; spec: InputSpec }>();
  const seen = new Set<InputSpec>();
  const provided = new Set<InputSpec>();

  for (const [name, value] of Object.entries(given)) {
    const spec = byName.get(name);
    if (!spec) {
      problems.push(unknownInput(name, specs));
      continue;
    }
    if (seen.has(spec)) {
      problems.push(`${label(spec)} is given twice (as \`${spec.name}\` and \`${spec.input}\`)`);
      continue;
    }
    seen.add(spec);
    if (value === undefined) continue;
    provided.add(spec);
    const tensor = toTensor(spec, value, problems);
    if (!tensor) continue;
    if (checkShape(spec, tensor, bindings, problems)) feeds.set(spec.input, tensor);
  }
  for (const spec of specs) {
    if (provided.has(spec) || spec.optional) continue;
    problems.push(`missing ${label(spec)} (${describeSpec(spec)})`);
  }
  return { feeds, problems };
}

function unknownInput(name: string, specs: readonly InputSpec[]): string {
  const inputs = specs.filter((s) => s.kind === "input").map((s) => `\`${s.name}\``);
  const params = specs.filter((s) => s.kind === "param").map((s) => `\`${s.name}\``);
  const close = suggest(name, specs.map((s) => s.name));
  const parts = [];
  if (inputs.length) parts.push(`inputs ${inputs.join(", ")}`);
  if (params.length) parts.push(`params ${params.join(", ")}`);
  const takes = parts.length ? `; the model takes ${parts.join(" and ")}` : "; the model takes no inputs";
  return `unknown input \`${name}\`${close ? ` (did you mean \`${close}\`?)` : ""}${takes}`;
}

// ---------------------------------------------------------------------------------------------

function toTensor(spec: InputSpec, value: InputValue, problems: string[]): Tensor | null {
  const where = label(spec);
  if (isTensor(value)) {
    const problem = checkTensor(value);
    if (problem) {
      problems.push(`${where}: ${problem}`);
      return null;
    }
    if (spec.elemType !== null && value.type !== spec.elemType) {
      problems.push(`${where}: expected ${spec.elemType}, got ${value.type}`);
      return null;
    }
    return { type: value.type, dims: [...value.dims], data: value.data } as Tensor;
  }
  const shape = notAnInput(value);
  if (shape) {
    problems.push(`${where}: ${shape}`);
    return null;
  }
  const type = spec.elemType;
  if (type === null || !isElemName(type)) {
    problems.push(type === null
      ? `${where}: the model does not declare its element type; pass a tensor`
      : `${where}: element type ${type} is not supported by intv's runtime`);
    return null;
  }
  try {
    return fromNested(type, value);
  } catch (e) {
    problems.push(`${where}: ${(e as Error).message}`);
    return null;
  }
}

/**
 * Why `value` is neither a tensor, a nested array nor a number, or null when it may be one: an
 * object that is not `{ type, dims, data }` (`{ type, shape, data }` is a natural slip) or a bare
 * typed array is named with what was expected, rather than failing later on its contents.
 */
function notAnInput(value: unknown): string | null {
  const expected = "a tensor `{ type, dims, data }`, a nested array or a number";
  if (ArrayBuffer.isView(value)) return `expected ${expected}, got a ${value.constructor.name}; give its shape and type: \`{ type, dims, data }\``;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const keys = Object.keys(value);
  const shown = keys.length > 0 ? `an object with ${keys.map((k) => `\`${k}\``).join(", ")}` : "an empty object";
  const hint = "shape" in value && !("dims" in value) ? " (a tensor's shape is its `dims`)" : "";
  return `expected ${expected}, got ${shown}${hint}`;
}

/** A value as a message shows it: JSON where it can be (BigInt included), else its string form. */
function show(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}n` : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

const ARRAY_OF: Record<ElemName, { name: string; prototype: object }> = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, int8: Int8Array,
  int16: Int16Array, int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array,
  uint16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array, bool: Uint8Array,
};

function checkTensor(t: Tensor): string | null {
  if (!isElemName(t.type)) return `element type ${String(t.type)} is not supported by intv's runtime`;
  if (!Array.isArray(t.dims) || !t.dims.every((d) => Number.isInteger(d) && d >= 0)) {
    return `dims must be non-negative integers, got [${String(t.dims)}]`;
  }
  const want = ARRAY_OF[t.type];
  if (!(t.data instanceof (want as unknown as new () => object))) {
    const got = (t.data as object | undefined)?.constructor?.name ?? typeof t.data;
    return `${t.type} data must be a ${want.name}, got ${got}`;
  }
  if (t.data.length !== sizeOf(t.dims)) {
    return `shape [${t.dims.join(", ")}] needs ${sizeOf(t.dims)} elements, the data has ${t.data.length}`;
  }
  return null;
}

/** Build a tensor of `type` from a nested array (or a scalar); the nesting gives the shape. */
export function fromNested(type: ElemName, value: NestedArray | Scalar): Tensor {
  const dims: number[] = [];
  for (let v: unknown = value; Array.isArray(v); v = v[0]) dims.push(v.length);
  const data = allocate(type, sizeOf(dims));
  let n = 0;
  const put = makeSetter(type, data);
  const walk = (v: unknown, depth: number, path: number[]): void => {
    if (depth === dims.length) {
      if (Array.isArray(v)) throw new Error(`ragged nested array: ${at(path)} is an array, expected a ${what(type)}`);
      put(n++, v, path);
      return;
    }
    if (!Array.isArray(v)) throw new Error(`ragged nested array: ${at(path)} is not an array`);
    if (v.length !== dims[depth]) {
      throw new Error(`ragged nested array: ${at(path)} has ${v.length} elements, expected ${dims[depth]}`);
    }
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, [...path, i]);
  };
  walk(value, 0, []);
  return { type, dims, data } as Tensor;
}

const at = (path: number[]): string => (path.length ? `element [${path.join("][")}]` : "the value");
const what = (type: ElemName): string => (type === "bool" ? "boolean" : "number");

function makeSetter(type: ElemName, data: TypedArray): (i: number, v: unknown, path: number[]) => void {
  const bad = (v: unknown, path: number[], why: string): never => {
    throw new Error(`${at(path)} is ${show(v)}: ${why}`);
  };
  if (type === "bool") {
    return (i, v, path) => {
      if (v === true || v === 1) data[i] = 1;
      else if (v === false || v === 0) data[i] = 0;
      else bad(v, path, "expected true, false, 0 or 1 (bool)");
    };
  }
  if (type === "int64" || type === "uint64") {
    const [lo, hi] = type === "int64" ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
    return (i, v, path) => {
      let b: bigint;
      if (typeof v === "bigint") b = v;
      else if (typeof v === "number" && Number.isInteger(v)) b = BigInt(v);
      else if (typeof v === "string" && /^-?\d+$/.test(v)) b = BigInt(v);
      else return bad(v, path, `expected an integer (${type})`);
      if (b < lo || b > hi) bad(v, path, `out of range for ${type}`);
      (data as BigInt64Array | BigUint64Array)[i] = b;
    };
  }
  const toNumber = (v: unknown, path: number[]): number => {
    if (typeof v === "number") return v;
    if (typeof v === "bigint") return Number(v);
    if (typeof v === "boolean") return v ? 1 : 0;
    if (typeof v === "string" && /^(-?inf(inity)?|nan)$/i.test(v)) {
      return /nan/i.test(v) ? NaN : v.startsWith("-") ? -Infinity : Infinity;
    }
    return bad(v, path, `expected a number (${type})`);
  };
  if (type === "float16") return (i, v, path) => void ((data as Uint16Array)[i] = numberToHalf(toNumber(v, path)));
  if (type === "float32" || type === "float64") return (i, v, path) => void ((data as Float64Array)[i] = toNumber(v, path));
  const bits = ELEM_SIZE[type] * 8;
  const signed = type.startsWith("int");
  const lo = signed ? -(2 ** (bits - 1)) : 0;
  const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  return (i, v, path) => {
    const x = toNumber(v, path);
    if (!Number.isInteger(x)) bad(v, path, `expected an integer (${type})`);
    if (x < lo || x > hi) bad(v, path, `out of range for ${type}`);
    (data as Int32Array)[i] = x;
  };
}

// ---------------------------------------------------------------------------------------------

function checkShape(
  spec: InputSpec,
  tensor: Tensor,
  bindings: Map<string, { size: number; spec: InputSpec }>,
  problems: string[],
): boolean {
  const where = label(spec);
  const shape = spec.shape;
  if (shape === null) return true;
  if (tensor.dims.length !== shape.length) {
    problems.push(`${where}: expected rank ${shape.length} (${describeSpec(spec)}), got rank ${tensor.dims.length} (${describeTensor(tensor)})`);
    return false;
  }
  let ok = true;
  for (let k = 0; k < shape.length; k++) {
    const want = shape[k]!;
    const got = tensor.dims[k]!;
    if (typeof want === "number" && want >= 0 && want !== got) {
      problems.push(`${where}: dimension ${k} must be ${want} (${describeSpec(spec)}), got ${got} (${describeTensor(tensor)})`);
      ok = false;
    } else if (typeof want === "string") {
      const bound = bindings.get(want);
      if (!bound) bindings.set(want, { size: got, spec });
      else if (bound.size !== got) {
        const other = bound.spec === spec ? "another dimension of it" : label(bound.spec);
        problems.push(`${where}: dimension ${k} (\`${want}\`) is ${got}, but \`${want}\` is ${bound.size} in ${other}`);
        ok = false;
      }
    }
  }
  return ok;
}
