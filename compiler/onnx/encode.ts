// Protobuf encoder for decoded ONNX messages, the inverse of `decode.ts`.
//
// Output is what protobuf C++ writes (and so what PyTorch and the `onnx` package write): fields in
// ascending field-number order, repeated scalars packed exactly when the schema says
// `[packed = true]`, singular fields written whenever they are present. Decoding such a file and
// encoding it again gives the same bytes.
//
// Two passes: the first validates every value and records the length of each nested message,
// string and packed field (in visiting order) in `sizes`; the second writes into one buffer of
// exactly the right size. Large `bytes` values (weights) are not copied into that buffer: the
// output is a list of parts in which they appear as the caller's own views, or as the FileRanges
// a model decoded from a file has for its weights (`encodeModelParts`; file.ts copies those from
// file to file). `encodeModel` and `encodeModelChunks` read the ranges into memory.

import { OnnxEncodeError } from "./errors.js";
import { messageDesc, type FieldDesc, type MessageDesc } from "./schema.js";
import { MAX_DEPTH } from "./decode.js";
import { BIG_BYTES, Writer, varint32Size, varint64Size } from "./writer.js";
import { FileRange, readExactlySync, type Part } from "./fileRange.js";
import { closeSync } from "node:fs";
import type { ModelProto, OnnxMessages } from "./types.js";
import { keptEncoding } from "./keptEncoding.js";

/** Protobuf (C++, and so onnxruntime) refuses messages of 2 GiB or more. */
const MAX_MESSAGE = 2 ** 31 - 1;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** A validation failure on its way up the tree; each level adds its field to `segments`. */
class PathError {
  constructor(
    readonly segments: string[],
    readonly problem: string,
  ) {}
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (v instanceof Uint8Array) return "a Uint8Array";
  if (v instanceof FileRange) return "a FileRange";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `a string`;
  if (typeof v === "bigint") return `bigint ${v}n`;
  return `${typeof v} ${String(v)}`;
}

function joinPath(segments: readonly string[]): string {
  return segments.reduce((acc, s) => (s.startsWith("[") || acc === "" ? acc + s : `${acc}.${s}`), "");
}

// `String.prototype.isWellFormed` (Node 20+) is not in the ES2022 lib typings.
const isWellFormed = (String.prototype as unknown as { isWellFormed: (this: string) => boolean }).isWellFormed;

function loneSurrogateAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const d = s.charCodeAt(i + 1);
    if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) i++;
    else return i;
  }
  return -1;
}

/** Bytes one string takes in UTF-8; rejects lone surrogates, which UTF-8 cannot carry. */
function utf8Length(s: string): number {
  if (!isWellFormed.call(s)) throw new PathError([], `string has a lone surrogate at index ${loneSurrogateAt(s)} (not encodable as UTF-8)`);
  return Buffer.byteLength(s, "utf8");
}

interface SizeState {
  readonly sizes: number[];
  big: number;
}

/** Validates one scalar element and returns its encoded size (with length prefix, without tag). */
function scalarSize(st: SizeState, f: FieldDesc, v: unknown): number {
  switch (f.scalar) {
    case "int32":
    case "sint32":
    case "sfixed32":
    case "uint32":
    case "fixed32": {
      const unsigned = f.scalar === "uint32" || f.scalar === "fixed32";
      if (typeof v !== "number" || !Number.isInteger(v) || v < (unsigned ? 0 : INT32_MIN) || v > (unsigned ? UINT32_MAX : INT32_MAX)) {
        throw new PathError([], `expected a ${f.enumName ? "enum" : f.scalar} number, got ${describe(v)}`);
      }
      if (f.enumValues !== undefined && !f.enumValues.has(v)) throw new PathError([], `${v} is not a value of enum ${f.enumName}`);
      if (f.scalar === "fixed32" || f.scalar === "sfixed32") return 4;
      if (f.scalar === "sint32") return varint32Size(((v << 1) ^ (v >> 31)) >>> 0);
      return v < 0 ? 10 : varint32Size(v);
    }
    case "int64":
    case "sint64":
    case "sfixed64":
    case "uint64":
    case "fixed64": {
      const unsigned = f.scalar === "uint64" || f.scalar === "fixed64";
      if (typeof v !== "bigint" || v < (unsigned ? 0n : INT64_MIN) || v > (unsigned ? UINT64_MAX : INT64_MAX)) {
        throw new PathError([], `expected a ${f.scalar} bigint, got ${describe(v)}`);
      }
      if (f.scalar === "fixed64" || f.scalar === "sfixed64") return 8;
      return varint64Size(f.scalar === "sint64" ? (v << 1n) ^ (v >> 63n) : v);
    }
    case "float":
    case "double":
      if (typeof v !== "number") throw new PathError([], `expected a number, got ${describe(v)}`);
      return f.scalar === "float" ? 4 : 8;
    case "bool":
      if (typeof v !== "boolean") throw new PathError([], `expected a boolean, got ${describe(v)}`);
      return 1;
    case "string": {
      if (typeof v !== "string") throw new PathError([], `expected a string, got ${describe(v)}`);
      const n = utf8Length(v);
      st.sizes.push(n);
      return varint32Size(n) + n;
    }
    case "bytes": {
      if (v instanceof FileRange) {
        st.big += v.length;
        return varint32Size(v.length) + v.length;
      }
      if (!(v instanceof Uint8Array)) throw new PathError([], `expected a Uint8Array, got ${describe(v)}`);
      if (v.length >= BIG_BYTES) st.big += v.length;
      return varint32Size(v.length) + v.length;
    }
  }
}

function isMessageObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof FileRange);
}

/**
 * Whether the fields set in `obj` are its properties in field-number order, the order they are
 * encoded in: then both passes visit just those properties (a message sets few of its fields: an
 * attribute 3 of its 21, a tensor 4 of its 16) instead of every field of the schema. The decoder
 * makes its objects so, and the compiler's export its nodes. Only for plain objects: a class's
 * getters, or fields of a prototype, are not the object's own enumerable properties, and the
 * schema's walk reads them (as it did before this path). Throws on an own property the schema
 * does not have: a typo must not vanish silently.
 */
function inFieldOrder(desc: MessageDesc, obj: Record<string, unknown>): boolean {
  if (Object.getPrototypeOf(obj) !== Object.prototype) return false;
  let last = 0;
  let ordered = true;
  for (const key in obj) {
    if (obj[key] === undefined) continue;
    const f = desc.byName.get(key);
    if (f === undefined) {
      // Inherited (something added to Object.prototype): not the message's, and ignored by the
      // schema's walk, which the message then takes.
      if (!Object.hasOwn(obj, key)) return false;
      throw new PathError([key], `${desc.name} has no field \`${key}\``);
    }
    if (f.id < last) ordered = false;
    last = f.id;
  }
  return ordered;
}

/** NodeProtos may carry the bytes they were decoded from (keptEncoding.ts): those are written as they are. */
const NODE = messageDesc("onnx.NodeProto");

/** Size of a message body; records it in `sizes` at the position the writer will look for it. */
function sizeMessage(st: SizeState, desc: MessageDesc, obj: unknown, depth: number): number {
  if (!isMessageObject(obj)) throw new PathError([], `expected a ${desc.name} object, got ${describe(obj)}`);
  if (depth > MAX_DEPTH) throw new PathError([], `messages nested deeper than ${MAX_DEPTH} levels (is there a cycle?)`);
  const slot = st.sizes.length;
  if (desc === NODE) {
    const kept = keptEncoding(obj);
    if (kept !== undefined) {
      st.sizes.push(kept.length);
      return kept.length;
    }
  }
  st.sizes.push(0);
  let total = 0;
  if (inFieldOrder(desc, obj)) {
    for (const key in obj) {
      const v = obj[key];
      if (v !== undefined) total += sizePresent(st, desc.byName.get(key)!, obj, v, depth);
    }
  } else {
    for (const f of desc.fields) {
      const v = obj[f.name];
      if (v !== undefined) total += sizePresent(st, f, obj, v, depth);
    }
    // Any other own property is one the schema does not have: a typo must not vanish silently.
    const unknown = Object.keys(obj).find((k) => obj[k] !== undefined && !desc.byName.has(k));
    if (unknown !== undefined) throw new PathError([unknown], `${desc.name} has no field \`${unknown}\``);
  }
  st.sizes[slot] = total;
  return total;
}

/** Size of field `f` of `obj`, set to `v`. */
function sizePresent(st: SizeState, f: FieldDesc, obj: Record<string, unknown>, v: unknown, depth: number): number {
  if (f.oneofOthers.length > 0) {
    const clash = f.oneofOthers.find((o) => obj[o] !== undefined);
    if (clash !== undefined) throw new PathError([f.name], `\`${f.name}\` and \`${clash}\` are members of one oneof; set at most one`);
  }
  try {
    return sizeField(st, f, v, depth);
  } catch (e) {
    if (e instanceof PathError) e.segments.unshift(f.name);
    throw e;
  }
}

function sizeField(st: SizeState, f: FieldDesc, v: unknown, depth: number): number {
  if (!f.repeated) {
    const n = f.kind === "message" ? sizeMessage(st, f.message!, v, depth + 1) : scalarSize(st, f, v);
    return f.tagBytes.length + (f.kind === "message" ? varint32Size(n) : 0) + n;
  }
  if (!Array.isArray(v)) throw new PathError([], `expected an array, got ${describe(v)}`);
  if (v.length === 0) return 0;
  let total = 0;
  const slot = st.sizes.length;
  if (f.packed) st.sizes.push(0);
  for (let i = 0; i < v.length; i++) {
    try {
      if (f.kind === "message") {
        const n = sizeMessage(st, f.message!, v[i], depth + 1);
        total += f.tagBytes.length + varint32Size(n) + n;
      } else {
        total += (f.packed ? 0 : f.tagBytes.length) + scalarSize(st, f, v[i]);
      }
    } catch (e) {
      if (e instanceof PathError) e.segments.unshift(`[${i}]`);
      throw e;
    }
  }
  if (!f.packed) return total;
  st.sizes[slot] = total;
  return f.packedTagBytes.length + varint32Size(total) + total;
}

function writeScalar(w: Writer, f: FieldDesc, v: unknown): void {
  switch (f.scalar) {
    case "int32":
      return w.int32(v as number);
    case "uint32":
      return w.varint32(v as number);
    case "sint32": {
      const n = v as number;
      return w.varint32(((n << 1) ^ (n >> 31)) >>> 0);
    }
    case "int64":
    case "uint64":
      return w.varint64(v as bigint);
    case "sint64": {
      const n = v as bigint;
      return w.varint64((n << 1n) ^ (n >> 63n));
    }
    case "fixed32":
      w.view.setUint32(w.pos, v as number, true);
      w.pos += 4;
      return;
    case "sfixed32":
      w.view.setInt32(w.pos, v as number, true);
      w.pos += 4;
      return;
    case "fixed64":
      w.view.setBigUint64(w.pos, v as bigint, true);
      w.pos += 8;
      return;
    case "sfixed64":
      w.view.setBigInt64(w.pos, v as bigint, true);
      w.pos += 8;
      return;
    case "float":
      w.view.setFloat32(w.pos, v as number, true);
      w.pos += 4;
      return;
    case "double":
      w.view.setFloat64(w.pos, v as number, true);
      w.pos += 8;
      return;
    case "bool":
      w.buf[w.pos++] = v ? 1 : 0;
      return;
    case "string":
      return w.string(v as string);
    case "bytes":
      return w.bytes(v as Uint8Array | FileRange);
  }
}

function writeMessage(w: Writer, desc: MessageDesc, obj: Record<string, unknown>): void {
  w.cursor++; // this message's own size, read by the caller before the call
  if (desc === NODE) {
    const kept = keptEncoding(obj); // what sizeMessage found (a kept node is frozen)
    if (kept !== undefined) return w.raw(kept);
  }
  // The same choice as sizeMessage made (the object has not changed since), so the same order.
  if (inFieldOrder(desc, obj)) {
    for (const key in obj) {
      const v = obj[key];
      if (v !== undefined) writeField(w, desc.byName.get(key)!, v);
    }
  } else {
    for (const f of desc.fields) {
      const v = obj[f.name];
      if (v !== undefined) writeField(w, f, v);
    }
  }
}

function writeField(w: Writer, f: FieldDesc, v: unknown): void {
  if (!f.repeated) {
    w.raw(f.tagBytes);
    if (f.kind === "message") writeNested(w, f.message!, v as Record<string, unknown>);
    else writeScalar(w, f, v);
    return;
  }
  const arr = v as unknown[];
  if (arr.length === 0) return;
  if (f.kind === "message") {
    for (const el of arr) {
      w.raw(f.tagBytes);
      writeNested(w, f.message!, el as Record<string, unknown>);
    }
  } else if (f.packed) {
    w.raw(f.packedTagBytes);
    w.varint32(w.sizes[w.cursor++]!);
    for (const el of arr) writeScalar(w, f, el);
  } else {
    for (const el of arr) {
      w.raw(f.tagBytes);
      writeScalar(w, f, el);
    }
  }
}

function writeNested(w: Writer, desc: MessageDesc, obj: Record<string, unknown>): void {
  w.varint32(w.sizes[w.cursor]!);
  writeMessage(w, desc, obj);
}

/**
 * Encodes a message of the named type as a list of parts whose concatenation is the encoding:
 * bytes in memory (large `bytes` values are the caller's own views), and FileRanges left unread.
 */
export function encodeMessageParts(typeName: string, message: unknown): Part[] {
  const desc = messageDesc(typeName);
  const st: SizeState = { sizes: [], big: 0 };
  let total: number;
  try {
    total = sizeMessage(st, desc, message, 0);
  } catch (e) {
    if (e instanceof PathError) throw new OnnxEncodeError(joinPath(e.segments), e.problem);
    throw e;
  }
  if (total > MAX_MESSAGE) {
    throw new OnnxEncodeError("", `encoded ${desc.name} would be ${total} bytes, over protobuf's 2 GiB limit (store large tensors as external data)`);
  }
  const w = new Writer(total - st.big, st.sizes);
  writeMessage(w, desc, message as Record<string, unknown>);
  if (w.pos !== w.buf.length || w.cursor !== st.sizes.length) {
    throw new Error(`internal error: ${desc.name} changed while being encoded (this is a bug in intv, or the model was mutated by a getter)`);
  }
  return w.finish();
}

/** Encodes a message of the named type as a list of chunks (large `bytes` values uncopied, file ranges read). */
export function encodeMessageChunks<K extends keyof OnnxMessages>(typeName: K, message: OnnxMessages[K]): Uint8Array[];
export function encodeMessageChunks(typeName: string, message: unknown): Uint8Array[];
export function encodeMessageChunks(typeName: string, message: unknown): Uint8Array[] {
  const parts = encodeMessageParts(typeName, message);
  return parts.some((p) => p instanceof FileRange) ? [concatParts(parts)] : (parts as Uint8Array[]);
}

/** Encodes a message of the named type into one buffer. */
export function encodeMessage<K extends keyof OnnxMessages>(typeName: K, message: OnnxMessages[K]): Uint8Array;
export function encodeMessage(typeName: string, message: unknown): Uint8Array;
export function encodeMessage(typeName: string, message: unknown): Uint8Array {
  return concatParts(encodeMessageParts(typeName, message));
}

/**
 * The encoded model as chunks whose concatenation is the file; weights in memory stay the caller's
 * views, weights still in their file are read (into one buffer with the rest: see encodeModelParts).
 */
export function encodeModelChunks(model: ModelProto): Uint8Array[] {
  return encodeMessageChunks("onnx.ModelProto", model);
}

/** The encoded model as parts: bytes in memory and weights still in their files (file.ts writes them). */
export function encodeModelParts(model: ModelProto): Part[] {
  return encodeMessageParts("onnx.ModelProto", model);
}

/**
 * The encoded model in one buffer. Deterministic: the same model gives the same bytes. Weights
 * still in their files are read straight into the buffer.
 */
export function encodeModel(model: ModelProto): Uint8Array {
  return concatParts(encodeModelParts(model));
}

/** The parts in one buffer (the only part itself when it is a whole buffer); file ranges are read. */
export function concatParts(parts: readonly Part[]): Uint8Array {
  const only = parts[0];
  if (parts.length === 1 && only instanceof Uint8Array && only.byteOffset === 0 && only.length === only.buffer.byteLength) return only;
  let n = 0;
  for (const c of parts) n += c.length;
  const out = new Uint8Array(n);
  let p = 0;
  for (const c of parts) {
    if (c instanceof Uint8Array) out.set(c, p);
    else readRangeInto(c, out.subarray(p, p + c.length));
    p += c.length;
  }
  return out;
}

/** Reads a range into `into` (its length), opening the file once per range. */
function readRangeInto(range: FileRange, into: Uint8Array): void {
  const fd = range.file.openSync();
  try {
    readExactlySync(fd, into, range.offset, range.file.path);
  } finally {
    closeSync(fd);
  }
}
