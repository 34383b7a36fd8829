// A strict protobuf wire-format decoder driven by the descriptors in `schema.ts`.
//
// Strict: an unknown field number, a wire type that does not match the schema, a length that runs
// past its message, a truncated varint, invalid UTF-8 in a `string`, an unknown enum value, or
// nesting deeper than MAX_DEPTH is an OnnxFormatError that says which message, which field and at
// which byte. Nothing is dropped silently.
//
// Fast: decoding costs time proportional to the number of fields, not the number of weight bytes.
// From bytes in memory, `bytes` fields (raw_data of a 500 MB weight) are `subarray` views into the
// input. From a file (`decodeModelFile`), the same decoder reads through a window that positioned
// reads move along the file: tags, lengths, names and small values are read, and a weight's
// `raw_data` of LAZY_MIN bytes or more is not read at all but kept as a FileRange (fileRange.ts),
// so a 650 MB model costs a few megabytes of reads. Offsets in errors are the file's either way.

import { closeSync, openSync } from "node:fs";
import { OnnxFormatError } from "./errors.js";
import { FileRange, SourceFile, readExactlySync } from "./fileRange.js";
import { isReserved, messageDesc, WireType, type FieldDesc, type MessageDesc } from "./schema.js";
import { KEEP_MAX, keepEncoding } from "./keptEncoding.js";
import type { ModelProto, OnnxMessages } from "./types.js";

/** Deepest message nesting accepted; real models (subgraphs in subgraphs) stay far below it. */
export const MAX_DEPTH = 100;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A lazy field's value decoded from a file is a FileRange from this many bytes on. */
export const LAZY_MIN = 4096;

interface State {
  /** The bytes held: the whole input, or a window of the file. */
  buf: Uint8Array;
  /** The same memory as a Node Buffer, for its native string slicing. */
  node: Buffer;
  view: DataView;
  /** Offset of `buf[0]` in the input: positions below are the input's, `buf[pos - base]`. */
  base: number;
  pos: number;
  /** Where the window comes from; null when `buf` is the whole input. */
  readonly window: FileWindow | null;
  /** Fields stepped over (DecodeOptions.skip); null for none. */
  readonly skip: ReadonlySet<FieldDesc> | null;
  /** Set when a TensorProto says its data is external (so a reader knows whether to look). */
  external: boolean;
  /** Whether NodeProtos keep the bytes they are decoded from, frozen or not (DecodeOptions.keepNodeEncodings). */
  readonly keep: false | "frozen" | "unfrozen";
  /** Where kept nodes' bytes are copied to from a file's window (readKeptNode); made on first use. */
  arena: Arena | null;
}

/**
 * Memory for the bytes of kept nodes read from a file: the window is reused by the next read, so
 * each node is copied out of it, into chunks of at least ARENA_CHUNK holding nothing else (a node
 * keeps only its own bytes alive, and a chunk's Buffer and DataView serve all its nodes).
 */
class Arena {
  static readonly CHUNK = 1024 * 1024;
  buf = new Uint8Array(0);
  node = Buffer.alloc(0);
  view = new DataView(this.buf.buffer);
  used = 0;

  /** Room for `n` more bytes: returns where they go. */
  reserve(n: number): number {
    if (this.used + n > this.buf.length) {
      this.buf = new Uint8Array(Math.max(n, Arena.CHUNK));
      this.node = Buffer.from(this.buf.buffer, 0, this.buf.length);
      this.view = new DataView(this.buf.buffer);
      this.used = 0;
    }
    const at = this.used;
    this.used += n;
    return at;
  }
}

export interface DecodeOptions {
  /**
   * Fields to step over without decoding them, as `message.field` (`onnx.GraphProto.node`), for a
   * caller that needs part of a model (its interface: runtime/model-info.ts): from a file, what they
   * hold is not even read. A skipped field's contents are not checked, and the result lacks it.
   */
  skip?: readonly string[];
  /**
   * Keep the bytes of each NodeProto without subgraphs (keptEncoding.ts): the encoder writes them
   * again instead of encoding the node, and the node is frozen, deep. `"unfrozen"`: not frozen, for
   * a caller that edits no node in place before it is written (the compiler, which freezes what it
   * hands out: compile.ts). Ignored with `skip` (the bytes would hold what the object lacks).
   */
  keepNodeEncodings?: boolean | "unfrozen";
}

function skipSet(options: DecodeOptions | undefined): ReadonlySet<FieldDesc> | null {
  if (options?.skip === undefined || options.skip.length === 0) return null;
  return new Set(
    options.skip.map((name) => {
      const dot = name.lastIndexOf(".");
      const f = messageDesc(name.slice(0, dot)).byName.get(name.slice(dot + 1));
      if (f === undefined) throw new Error(`decode: no field \`${name}\` to skip`);
      return f;
    }),
  );
}

function keeping(options: DecodeOptions | undefined, skip: ReadonlySet<FieldDesc> | null): State["keep"] {
  const keep = options?.keepNodeEncodings;
  if (skip !== null || keep === undefined || keep === false) return false;
  return keep === "unfrozen" ? "unfrozen" : "frozen";
}

/**
 * Positioned reads of a file into a window buffer. Reads that follow on from the last one grow
 * (a run of small fields: nodes), reads that jump (past a weight) start small again.
 */
class FileWindow {
  static readonly MIN = 64 * 1024;
  static readonly MAX = 4 * 1024 * 1024;
  private chunk = FileWindow.MIN;
  private store = new Uint8Array(0);
  private lastStart = -1;
  private lastEnd = -1;

  constructor(
    readonly fd: number,
    readonly file: SourceFile,
  ) {}

  /** Makes `s.buf` hold at least `n` bytes from `s.pos` (the caller checked they are in the file). */
  fill(s: State, n: number): void {
    const pos = s.pos;
    const onward = pos >= this.lastStart && pos <= this.lastEnd;
    this.chunk = onward ? Math.min(this.chunk * 2, FileWindow.MAX) : FileWindow.MIN;
    const want = Math.min(Math.max(n, this.chunk), this.file.size - pos);
    if (this.store.length < want) this.store = new Uint8Array(Math.max(want, FileWindow.MIN));
    const buf = this.store.subarray(0, want);
    readExactlySync(this.fd, buf, pos, this.file.path);
    this.lastStart = pos;
    this.lastEnd = pos + want;
    s.buf = buf;
    s.node = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    s.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    s.base = pos;
  }
}

/** Makes the `n` bytes at `s.pos` readable; `n` must not run past the current message's end. */
function need(s: State, n: number): void {
  if (s.pos + n - s.base > s.buf.length) s.window!.fill(s, n);
}

/** Bytes a tag and what follows it directly (a varint, a length, or a fixed64) can take. */
const FIELD_HEAD = 20;

// The two 32-bit halves of the last 64-bit varint read (module-level to avoid allocations).
let lo = 0;
let hi = 0;

const fail = (message: string, offset: number): never => {
  throw new OnnxFormatError(`${message} at byte ${offset}`, offset);
};

function where(desc: MessageDesc, f: FieldDesc): string {
  return `field \`${f.name}\` (${f.id}) of ${desc.name}`;
}

/** Reads a varint of at most 10 bytes into `lo`/`hi`. */
function readVarint64(s: State, end: number): void {
  const buf = s.buf;
  const base = s.base;
  const start = s.pos;
  let p = start;
  let b: number;
  lo = 0;
  hi = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (p >= end) fail("truncated varint", start);
    b = buf[p++ - base]!;
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      s.pos = p;
      lo >>>= 0;
      return;
    }
  }
  if (p >= end) fail("truncated varint", start);
  b = buf[p++ - base]!;
  lo = (lo | ((b & 0x7f) << 28)) >>> 0;
  hi = (b & 0x7f) >>> 4;
  if (b < 0x80) {
    s.pos = p;
    return;
  }
  for (let shift = 3; shift < 32; shift += 7) {
    if (p >= end) fail("truncated varint", start);
    b = buf[p++ - base]!;
    hi |= (b & 0x7f) << shift;
    if (b < 0x80) {
      s.pos = p;
      hi >>>= 0;
      return;
    }
  }
  fail("varint longer than 10 bytes", start);
}

/**
 * Reads a varint that must fit in 32 bits unsigned (a tag or a length), or -1 when it does not.
 * Nearly every tag and most lengths are one byte: that case costs one comparison. The caller
 * names the value in its error (no closure per call: this runs for every field of a model).
 */
function readVarint32(s: State, end: number): number {
  const p = s.pos;
  if (p < end) {
    const b = s.buf[p - s.base]!;
    if (b < 0x80) {
      s.pos = p + 1;
      return b;
    }
  }
  readVarint64(s, end);
  return hi === 0 ? lo : -1;
}

function toInt64(): bigint {
  if (hi === 0) return BigInt(lo);
  if (hi === 0xffffffff && lo >= 0x80000000) return BigInt(lo | 0);
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
}

function toUint64(): bigint {
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

function readString(s: State, end: number, desc: MessageDesc, f: FieldDesc, at: number): string {
  const len = readLength(s, end, desc, f, at);
  need(s, len);
  const buf = s.buf;
  const start = s.pos - s.base;
  const stop = start + len;
  s.pos += len;
  // Node's native UTF-8 decoding (`toString` without an encoding goes straight to it) stands in
  // U+FFFD for invalid bytes instead of failing; a string that has one is decoded again by the
  // fatal TextDecoder, which refuses invalid UTF-8 and keeps a U+FFFD the input really holds. Why
  // not scan the bytes in JavaScript first: a model's strings are 400 KB (GPT-2), scanned mostly
  // before the JIT has warmed up.
  const text = s.node.toString(undefined, start, stop);
  if (text.indexOf("\uFFFD") < 0) return text;
  try {
    return utf8.decode(buf.subarray(start, stop));
  } catch {
    return fail(`invalid UTF-8 in ${where(desc, f)}`, start + s.base);
  }
}

function readLength(s: State, end: number, desc: MessageDesc, f: FieldDesc, at: number): number {
  const start = s.pos;
  const len = readVarint32(s, end);
  if (len < 0) fail(`length of ${where(desc, f)} out of range`, start);
  if (len > end - s.pos) {
    fail(`truncated or corrupt data: ${where(desc, f)} claims ${len} bytes but only ${end - s.pos} remain in ${desc.name}`, at);
  }
  return len;
}

/** Reads one non-LEN scalar element of `f` (varint, fixed32/float, fixed64/double). */
function readNumeric(s: State, end: number, desc: MessageDesc, f: FieldDesc, at: number): number | bigint | boolean {
  switch (f.scalar) {
    case "float":
    case "fixed32":
    case "sfixed32": {
      if (end - s.pos < 4) fail(`truncated ${where(desc, f)}`, at);
      const p = s.pos - s.base;
      s.pos += 4;
      return f.scalar === "float" ? s.view.getFloat32(p, true) : f.scalar === "fixed32" ? s.view.getUint32(p, true) : s.view.getInt32(p, true);
    }
    case "double":
    case "fixed64":
    case "sfixed64": {
      if (end - s.pos < 8) fail(`truncated ${where(desc, f)}`, at);
      const p = s.pos - s.base;
      s.pos += 8;
      if (f.scalar === "double") return s.view.getFloat64(p, true);
      return f.scalar === "fixed64" ? s.view.getBigUint64(p, true) : s.view.getBigInt64(p, true);
    }
    default:
      break;
  }
  const start = s.pos;
  readVarint64(s, end);
  switch (f.scalar) {
    case "int64":
      return toInt64();
    case "uint64":
      return toUint64();
    case "sint64": {
      const u = toUint64();
      return (u >> 1n) ^ -(u & 1n);
    }
    case "int32": {
      const v = lo | 0;
      if (f.enumValues !== undefined && !f.enumValues.has(v)) {
        fail(`unknown value ${v} of enum ${f.enumName} in ${where(desc, f)}`, start);
      }
      return v;
    }
    case "uint32":
      return lo;
    case "sint32":
      return (lo >>> 1) ^ -(lo & 1);
    case "bool":
      return lo !== 0 || hi !== 0;
    default:
      return fail(`internal: ${f.scalar} is not numeric`, start);
  }
}

type Obj = Record<string, unknown>;

/** TensorProto.data_location; the value 1 is EXTERNAL. */
const DATA_LOCATION = messageDesc("onnx.TensorProto").byName.get("data_location");

function decodeFields(s: State, desc: MessageDesc, end: number, target: Obj, depth: number): void {
  while (s.pos < end) {
    const at = s.pos;
    need(s, Math.min(FIELD_HEAD, end - at));
    const tag = readVarint32(s, end);
    if (tag < 0) fail(`tag in ${desc.name} out of range`, at);
    const id = tag >>> 3;
    const wt = tag & 7;
    const f = id === 0 ? undefined : desc.byId[id];
    if (f === undefined) {
      const reserved = isReserved(desc, id) ? ", a reserved field number" : "";
      fail(`unknown field ${id} (wire type ${wt}${reserved}) in ${desc.name}`, at);
      return;
    }
    if (s.skip !== null && s.skip.has(f)) {
      stepOver(s, end, desc, f, wt, at);
      continue;
    }
    if (wt === f.wireType) {
      const value = readOne(s, end, desc, f, at, target, depth);
      if (value === 1 && f === DATA_LOCATION) s.external = true;
      if (f.repeated) {
        const arr = target[f.name] as unknown[] | undefined;
        if (arr === undefined) target[f.name] = [value];
        else arr.push(value);
      } else {
        if (f.oneofOthers.length > 0) clearOneof(target, f);
        target[f.name] = value;
      }
    } else if (wt === WireType.LEN && f.packable) {
      const len = readLength(s, end, desc, f, at);
      need(s, len);
      const stop = s.pos + len;
      let arr = target[f.name] as unknown[] | undefined;
      if (arr === undefined) {
        arr = [];
        if (len > 0) target[f.name] = arr;
      }
      if (f.scalar === "float") {
        if (len % 4 !== 0) fail(`packed ${where(desc, f)} has ${len} bytes, not a multiple of 4`, at);
        for (let p = s.pos - s.base; p < stop - s.base; p += 4) arr.push(s.view.getFloat32(p, true));
        s.pos = stop;
      } else {
        while (s.pos < stop) arr.push(readNumeric(s, stop, desc, f, s.pos));
      }
    } else {
      fail(`${where(desc, f)} has wire type ${wt}, expected ${f.wireType}${f.packable ? " or 2 (packed)" : ""}`, at);
    }
  }
}

/** Moves past one field's value without decoding it. */
function stepOver(s: State, end: number, desc: MessageDesc, f: FieldDesc, wt: number, at: number): void {
  if (wt === WireType.LEN) {
    const len = readLength(s, end, desc, f, at); // before `s.pos +=`, which would read s.pos first
    s.pos += len;
  } else if (wt === WireType.VARINT) readVarint64(s, end);
  else if (wt === WireType.I32 || wt === WireType.I64) {
    const n = wt === WireType.I32 ? 4 : 8;
    if (end - s.pos < n) fail(`truncated ${where(desc, f)}`, at);
    s.pos += n;
  } else fail(`${where(desc, f)} has wire type ${wt}, expected ${f.wireType}`, at);
}

function readOne(s: State, end: number, desc: MessageDesc, f: FieldDesc, at: number, target: Obj, depth: number): unknown {
  if (f.kind === "message") {
    const len = readLength(s, end, desc, f, at);
    if (depth >= MAX_DEPTH) fail(`messages nested deeper than ${MAX_DEPTH} levels (${where(desc, f)})`, at);
    if (s.keep && f.message === NODE && len <= KEEP_MAX) return readKeptNode(s, len, depth);
    // A singular message seen twice is merged, as protobuf specifies.
    const existing = f.repeated ? undefined : (target[f.name] as Obj | undefined);
    const obj: Obj = existing ?? {};
    const stop = s.pos + len;
    decodeFields(s, f.message!, stop, obj, depth + 1);
    return obj;
  }
  if (f.scalar === "string") return readString(s, end, desc, f, at);
  if (f.scalar === "bytes") {
    const len = readLength(s, end, desc, f, at);
    const start = s.pos;
    s.pos += len;
    if (s.window === null) return s.buf.subarray(start - s.base, start - s.base + len);
    // From a file: a large weight stays where it is; anything else is copied out of the window,
    // which the next read reuses.
    if (f.lazy && len >= LAZY_MIN) return new FileRange(s.window.file, start, len);
    s.pos = start;
    need(s, len);
    s.pos += len;
    return s.buf.slice(start - s.base, start - s.base + len);
  }
  return readNumeric(s, end, desc, f, at);
}

const NODE = messageDesc("onnx.NodeProto");

/**
 * A NodeProto of `len` bytes at `s.pos`, which keeps the bytes it is decoded from when it has no
 * subgraph (keptEncoding.ts). From a file, the bytes are first copied out of the window (which the
 * next read reuses) into the arena, and the node is decoded from there: its `bytes` fields are
 * views into its kept bytes, as they are into the input when decoding from memory.
 */
function readKeptNode(s: State, len: number, depth: number): Obj {
  const start = s.pos;
  let bytes: Uint8Array;
  let from: State = s;
  if (s.window !== null) {
    need(s, len);
    const arena = (s.arena ??= new Arena());
    const at = arena.reserve(len);
    arena.buf.set(s.buf.subarray(start - s.base, start - s.base + len), at);
    bytes = arena.buf.subarray(at, at + len);
    // Offsets in errors stay the file's: position `start` is the arena's `at`.
    from = { buf: arena.buf, node: arena.node, view: arena.view, base: start - at, pos: start, window: null, skip: null, external: false, keep: s.keep, arena: null };
  } else {
    bytes = s.buf.subarray(start - s.base, start - s.base + len);
  }
  const obj: Obj = {};
  const externalBefore = from.external;
  from.external = false;
  decodeFields(from, NODE, start + len, obj, depth + 1);
  s.pos = start + len;
  const external = from.external;
  from.external = externalBefore;
  if (external) s.external = true;
  // Not kept: a node with a body (the IR exports it), and one with a tensor whose data is external,
  // so that a kept node holds no external reference (externalDataRefs steps over kept nodes).
  const attrs = obj.attribute as Obj[] | undefined;
  if (!external && !attrs?.some((a) => a.g !== undefined || a.graphs !== undefined)) keepEncoding(obj, bytes, s.keep === "frozen");
  return obj;
}

function clearOneof(target: Obj, f: FieldDesc): void {
  for (const other of f.oneofOthers) if (target[other] !== undefined) delete target[other];
}

/** A plain Uint8Array view over the same memory (a Node Buffer's subarrays would be Buffers). */
function plain(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes one message of the named type; `bytes` fields of the result are views into `bytes`. */
export function decodeMessage<K extends keyof OnnxMessages>(typeName: K, bytes: Uint8Array, options?: DecodeOptions): OnnxMessages[K];
export function decodeMessage(typeName: string, bytes: Uint8Array, options?: DecodeOptions): unknown;
export function decodeMessage(typeName: string, bytes: Uint8Array, options?: DecodeOptions): unknown {
  const buf = plain(bytes);
  const skip = skipSet(options);
  const s: State = {
    buf,
    node: Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength),
    view: new DataView(buf.buffer, buf.byteOffset, buf.byteLength),
    base: 0,
    pos: 0,
    window: null,
    skip,
    external: false,
    keep: keeping(options, skip),
    arena: null,
  };
  const out: Obj = {};
  decodeFields(s, messageDesc(typeName), buf.length, out, 0);
  return out;
}

/** Decodes a serialized ModelProto. Throws OnnxFormatError on anything the schema does not allow. */
export function decodeModel(bytes: Uint8Array, options?: DecodeOptions): ModelProto {
  return decodeMessage("onnx.ModelProto", bytes, options);
}

/**
 * Decodes the ModelProto in a file with positioned reads, reading only what is not a weight: each
 * `raw_data` of LAZY_MIN bytes or more is a FileRange of this file. Throws OnnxFormatError as
 * `decodeModel` does (offsets are the file's), and Node's own errors when the file cannot be read.
 */
export function decodeModelFile(file: string, options?: DecodeOptions): ModelProto {
  return decodeModelFileInfo(file, options).model;
}

/** `decodeModelFile`, also saying whether any tensor's data is external (`data_location` EXTERNAL). */
export function decodeModelFileInfo(file: string, options?: DecodeOptions): { model: ModelProto; external: boolean } {
  const skip = skipSet(options);
  const fd = openSync(file, "r");
  try {
    const source = SourceFile.fromDescriptor(file, fd);
    const empty = new Uint8Array(0);
    const s: State = { buf: empty, node: Buffer.from(empty.buffer), view: new DataView(empty.buffer), base: 0, pos: 0, window: new FileWindow(fd, source), skip, external: false, keep: keeping(options, skip), arena: null };
    const out: Obj = {};
    decodeFields(s, messageDesc("onnx.ModelProto"), source.size, out, 0);
    return { model: out as ModelProto, external: s.external };
  } finally {
    closeSync(fd);
  }
}
