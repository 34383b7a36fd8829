// Writing a compiled model as its input file with the changes patched in (patchCopy.ts applies it).
//
// A compile changes the graph's nodes, inputs, outputs and metadata, and leaves the weights, 99.9%
// of the file, as they were. Writing the model in protobuf's own order puts the nodes before the
// weights, so every weight moves and the whole file must be copied after the graph is encoded:
// one copy of the weights (the time of `cp`) after all the compile's work. But protobuf does not
// fix the order of a message's fields, and for a field that is not repeated it takes the last one
// it reads. So the output can be the input file, copied by the kernel while the compile runs,
// with the weights left where they are:
//
//   input:   [model fields] [graph: nodes | name | weights ... | inputs, outputs] [opset, metadata]
//   output:  [model fields] [graph: filler | (filler) | weights ... | new nodes, name, inputs,
//                                   outputs, other initializers] [opset, metadata]
//
// - every initializer whose encoding is byte for byte where it was in the input is *kept*: not
//   written at all;
// - the bytes before and between the kept ones (the old nodes, the graph's name) become *filler*:
//   the graph's `name` field (a string) holding zeros (valid UTF-8, so every protobuf library
//   reads it), which the graph's real name, written after it, replaces. A graph without a name
//   (ONNX's checker refuses one) gets `doc_string` as filler, replaced by its own or an empty one;
// - the file is cut after the last kept initializer, and the rest of the graph (every node, the
//   name, the initializers not kept, inputs, outputs, value_info) and then the model's fields
//   after the graph are written there;
// - the graph's length, at its start, is rewritten in place: it must take as many varint bytes as
//   before (it does for any graph from 256 MB to 32 GB), or the plan is not used.
//
// Every protobuf reader, this project's strict decoder included, reads the result as the same
// ModelProto the compile made (the test checks by decoding both), but for the order of the
// initializers: the kept ones come first. The plan is refused, and the
// model written from scratch, whenever anything does not fit: model fields before the graph that
// differ, a length that would change width, or filler larger than MAX_FILLER_SHARE of the kept
// weights (it stays in the file as zeros: an edited large weight would bloat the output).

import { readExactlySync, FileRange, type Part, type SourceFile } from "./fileRange.js";
import { concatParts, encodeMessageParts } from "./encode.js";
import { messageDesc, varintBytes, WireType } from "./schema.js";
import { varint32Size } from "./writer.js";
import type { GraphProto, ModelProto } from "./types.js";
import { closeSync } from "node:fs";

/** Filler may be at most this share of the kept bytes (the rest of the file is then written anew). */
export const MAX_FILLER_SHARE = 1 / 32;

/** How much of the input's start is read to find the graph field (model fields before it are small). */
const HEAD_BYTES = 64 * 1024;

/** Protobuf (C++, and so onnxruntime) refuses messages of 2 GiB or more. */
const MAX_MESSAGE = 2 ** 31 - 1;

/** A byte range of the output file to overwrite with a filler field. */
export interface Filler {
  readonly offset: number;
  readonly length: number;
}

/** How to turn a copy of the input file into the output model (applyPatch in patchCopy.ts). */
export interface PatchPlan {
  /** Where the graph's length varint is, and its new bytes (as many as the old). */
  readonly graphLengthAt: number;
  readonly graphLength: Uint8Array;
  /** Ranges before the cut to overwrite with filler fields, and the field's tag. */
  readonly fillers: readonly Filler[];
  readonly fillerTag: Uint8Array;
  /** Where the copy is cut and `tail` written. */
  readonly cutAt: number;
  /** The rest of the graph's fields, then the model's fields after the graph. */
  readonly tail: readonly Part[];
  /** The output file's size. */
  readonly size: number;
  /** Bytes of the input left where they are (kept initializers). */
  readonly keptBytes: number;
}

/** Where the graph field is in the input file. */
interface GraphField {
  /** Offset of the graph field's tag (the model fields before the graph end here). */
  readonly tagAt: number;
  readonly lengthAt: number;
  readonly lengthWidth: number;
  /** The graph message's body: [bodyAt, bodyAt + length). */
  readonly bodyAt: number;
  readonly length: number;
  /** The input's first bytes, up to and including the graph field's header. */
  readonly head: Uint8Array;
}

interface Kept {
  readonly start: number;
  readonly end: number;
  /** The initializer's position in the graph's list. */
  readonly index: number;
}

/**
 * The plan for writing `model` over a copy of `source` (the file its weights were read from), or
 * `undefined` when the output is better written from scratch (see above). Reads a few bytes of
 * `source` (its start, and each weight's field header) to check them.
 */
export function planPatch(model: ModelProto, source: SourceFile): PatchPlan | undefined {
  const graph = model.graph;
  if (graph === undefined) return undefined;
  const fd = source.openSync();
  try {
    const field = findGraphField(fd, source);
    if (field === undefined) return undefined;
    // The model's fields before the graph stay as they are in the copy: they must be the output's.
    const before = encodeModelFields(model, (id) => id < GRAPH_ID);
    if (!sameBytes(before, field.head.subarray(0, field.tagAt))) return undefined;

    const kept = keptInitializers(fd, source, graph, field);
    if (kept.length === 0) return undefined;
    const fillers: Filler[] = [];
    let at = field.bodyAt;
    let keptBytes = 0;
    for (const k of kept) {
      if (k.start > at) fillers.push({ offset: at, length: k.start - at });
      keptBytes += k.end - k.start;
      at = k.end;
    }
    const cutAt = at;
    const fillerBytes = fillers.reduce((n, f) => n + f.length, 0);
    if (fillerBytes > keptBytes * MAX_FILLER_SHARE) return undefined;
    // A gap is whole fields of the input, each at least a tag and a byte; a filler field needs as
    // much. Refused rather than trusted.
    if (fillers.some((f) => f.length < 2)) return undefined;

    // By position, not by object: a tensor listed twice is kept once and written once more.
    const keptAt = new Set(kept.map((k) => k.index));
    const rest: GraphProto = { ...graph, initializer: (graph.initializer ?? []).filter((_, i) => !keptAt.has(i)) };
    // The filler is replaced by the field it poses as, written after it.
    const filler = graph.name !== undefined ? "name" : "doc_string";
    if (fillers.length > 0 && filler === "doc_string") rest.doc_string = graph.doc_string ?? "";
    const graphTail = encodeMessageParts("onnx.GraphProto", rest);
    const after = encodeModelFields(model, (id) => id > GRAPH_ID);
    const graphLength = cutAt - field.bodyAt + partsLength(graphTail);
    if (varint32Size(graphLength) !== field.lengthWidth || graphLength > MAX_MESSAGE) return undefined;
    const size = cutAt + partsLength(graphTail) + partsLength(after);
    if (size > MAX_MESSAGE) return undefined;
    return {
      graphLengthAt: field.lengthAt,
      graphLength: varintBytes(graphLength),
      fillers,
      fillerTag: messageDesc("onnx.GraphProto").byName.get(filler)!.tagBytes,
      cutAt,
      tail: [...graphTail, ...after],
      size,
      keptBytes,
    };
  } finally {
    closeSync(fd);
  }
}

const GRAPH_ID = messageDesc("onnx.ModelProto").byName.get("graph")!.id;

/** The encoding of the model's fields whose numbers pass `keep` (in field order). */
function encodeModelFields(model: ModelProto, keep: (id: number) => boolean): Part[] {
  const picked: Record<string, unknown> = {};
  for (const f of messageDesc("onnx.ModelProto").fields) {
    const v = (model as Record<string, unknown>)[f.name];
    if (v !== undefined && keep(f.id)) picked[f.name] = v;
  }
  return encodeMessageParts("onnx.ModelProto", picked);
}

/** Walks the model's top-level fields from the file's start to the graph's (undefined: not found there). */
function findGraphField(fd: number, source: SourceFile): GraphField | undefined {
  const head = new Uint8Array(Math.min(HEAD_BYTES, source.size));
  readExactlySync(fd, head, 0, source.path);
  let pos = 0;
  while (pos < head.length) {
    const tagAt = pos;
    const tag = readVarint(head, pos);
    if (tag === undefined) return undefined;
    pos = tag.next;
    const id = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    if (wireType === WireType.VARINT) {
      const v = readVarint(head, pos);
      if (v === undefined) return undefined;
      pos = v.next;
    } else if (wireType === WireType.I64) pos += 8;
    else if (wireType === WireType.I32) pos += 4;
    else if (wireType === WireType.LEN) {
      const len = readVarint(head, pos);
      if (len === undefined) return undefined;
      if (id === GRAPH_ID) {
        const bodyAt = len.next;
        if (bodyAt + len.value > source.size) return undefined;
        return { tagAt, lengthAt: pos, lengthWidth: len.next - pos, bodyAt, length: len.value, head: head.subarray(0, bodyAt) };
      }
      pos = len.next + len.value;
    } else return undefined;
  }
  return undefined;
}

function readVarint(buf: Uint8Array, pos: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 8 && pos + i < buf.length; i++) {
    const b = buf[pos + i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return { value, next: pos + i + 1 };
  }
  return undefined;
}

/**
 * The initializers whose whole field (tag, length, TensorProto) is byte for byte in the input's
 * graph where the weight's FileRange says, in file order and not overlapping.
 */
function keptInitializers(fd: number, source: SourceFile, graph: GraphProto, field: GraphField): Kept[] {
  const tag = messageDesc("onnx.GraphProto").byName.get("initializer")!.tagBytes;
  const graphEnd = field.bodyAt + field.length;
  const found: Kept[] = [];
  const initializers = graph.initializer ?? [];
  for (let index = 0; index < initializers.length; index++) {
    const tensor = initializers[index]!;
    const range = tensor.raw_data;
    if (!(range instanceof FileRange) || range.file !== source) continue;
    const parts = encodeMessageParts("onnx.TensorProto", tensor);
    const i = parts.indexOf(range);
    if (i < 0 || parts.some((p, j) => j !== i && p instanceof FileRange)) continue;
    const body = partsLength(parts);
    const before = concatParts([tag, varintBytes(body), ...parts.slice(0, i)]);
    const after = concatParts(parts.slice(i + 1));
    const start = range.offset - before.length;
    const end = range.offset + range.length + after.length;
    if (start < field.bodyAt || end > graphEnd) continue;
    if (!fileHas(fd, source, start, before) || !fileHas(fd, source, range.offset + range.length, after)) continue;
    found.push({ start, end, index });
  }
  found.sort((a, b) => a.start - b.start);
  const kept: Kept[] = [];
  for (const k of found) if (kept.length === 0 || k.start >= kept[kept.length - 1]!.end) kept.push(k);
  return kept;
}

function fileHas(fd: number, source: SourceFile, offset: number, bytes: Uint8Array): boolean {
  if (bytes.length === 0) return true;
  const got = new Uint8Array(bytes.length);
  readExactlySync(fd, got, offset, source.path);
  return sameBytes([bytes], got);
}

function sameBytes(parts: readonly Part[], bytes: Uint8Array): boolean {
  if (partsLength(parts) !== bytes.length) return false;
  let at = 0;
  for (const p of parts) {
    if (!(p instanceof Uint8Array)) return false;
    for (let i = 0; i < p.length; i++) if (p[i] !== bytes[at + i]) return false;
    at += p.length;
  }
  return true;
}

function partsLength(parts: readonly Part[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}


/**
 * The header of a filler field (`tag`, then a length varint; the payload is zeros) covering
 * exactly `length` bytes, or several when no single one fits: with a 1-byte tag, a field of 130
 * bytes would need a 127-byte payload with a 2-byte length, or 128 with 1. Returns [offset within
 * the range, header] pairs.
 */
export function fillerHeaders(length: number, tag: Uint8Array): [number, Uint8Array][] {
  const out: [number, Uint8Array][] = [];
  let at = 0;
  while (length - at > 0) {
    const left = length - at;
    if (left < tag.length + 1) throw new Error(`internal error: a filler of ${left} bytes`);
    let header: Uint8Array | undefined;
    for (let width = 1; width <= 5 && header === undefined; width++) {
      const payload = left - tag.length - width;
      if (payload >= 0 && varint32Size(payload) === width) header = concatParts([tag, varintBytes(payload)]);
    }
    // No single field fits: an empty one, and the rest.
    if (header === undefined) {
      out.push([at, concatParts([tag, varintBytes(0)])]);
      at += tag.length + 1;
      continue;
    }
    out.push([at, header]);
    at = length;
  }
  return out;
}
