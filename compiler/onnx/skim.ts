// Reading a model's interface without its weights, for a runtime about to load it: the metadata
// entries, the graph's inputs and outputs, and its initializers' names. Those messages are
// decoded by the decoder (decode.ts, strictly); every other field, weights included, is stepped
// over by its length, so a multi-gigabyte model file costs a few small reads. Field numbers come
// from the schema (schema.ts), by name.
//
// Also: removing some initializers from a model's bytes (the runtime feeds params' defaults
// itself), every other byte kept as it was, the removed tensors decoded.
//
// (When the codec learns to decode lazily, this becomes a use of it.)

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { decodeMessage } from "./decode.js";
import { OnnxFormatError } from "./errors.js";
import { messageDesc, WireType } from "./schema.js";
import type { StringStringEntryProto, TensorProto, ValueInfoProto } from "./types.js";

export interface ModelSkim {
  /** `metadata_props`, in file order. */
  metadata: StringStringEntryProto[];
  /** The main graph's `input` and `output`. */
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  /** Names of the main graph's initializers. */
  initializerNames: string[];
}

/** The interface of the model held in `bytes`. */
export function skimModel(bytes: Uint8Array): ModelSkim {
  return skim(new MemorySource(bytes));
}

/** The interface of the model in the file at `path`, reading only the parts it needs. */
export function skimModelFile(path: string): ModelSkim {
  const source = new FileSource(path);
  try {
    return skim(source);
  } finally {
    source.close();
  }
}

/**
 * The model in `bytes` without the main graph's initializers named in `names`; the removed
 * initializers, decoded, by name. Everything else is copied as it was.
 */
export function withoutInitializers(bytes: Uint8Array, names: ReadonlySet<string>): { model: Uint8Array; removed: Map<string, TensorProto> } {
  const src = new MemorySource(bytes);
  const removed = new Map<string, TensorProto>();
  const parts: Uint8Array[] = [];
  const top = new Fields(src, 0, bytes.length, "onnx.ModelProto");
  for (let f = top.next(); f; f = top.next()) {
    if (f.id !== MODEL.graph || f.wire !== WireType.LEN) {
      parts.push(bytes.subarray(f.fieldStart, f.fieldEnd));
      continue;
    }
    const kept: Uint8Array[] = [];
    const graph = new Fields(src, f.start, f.start + f.length, "onnx.GraphProto");
    for (let g = graph.next(); g; g = graph.next()) {
      if (g.id === GRAPH.initializer && g.wire === WireType.LEN) {
        const name = tensorName(src, g);
        if (name !== null && names.has(name)) {
          removed.set(name, decodeMessage("onnx.TensorProto", bytes.subarray(g.start, g.start + g.length)));
          continue;
        }
      }
      kept.push(bytes.subarray(g.fieldStart, g.fieldEnd));
    }
    const length = kept.reduce((n, k) => n + k.length, 0);
    parts.push(Uint8Array.from([(MODEL.graph << 3) | WireType.LEN, ...varint(length)]), ...kept);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return { model: out, removed };
}

// ---------------------------------------------------------------------------------------------

function ids<const K extends string>(message: string, names: readonly K[]): Record<K, number> {
  const desc = messageDesc(message);
  return Object.fromEntries(names.map((n) => [n, desc.byName.get(n)!.id])) as Record<K, number>;
}

const MODEL = ids("onnx.ModelProto", ["graph", "metadata_props"]);
const GRAPH = ids("onnx.GraphProto", ["input", "output", "initializer"]);
const TENSOR = ids("onnx.TensorProto", ["name"]);

function skim(src: ByteSource): ModelSkim {
  const out: ModelSkim = { metadata: [], inputs: [], outputs: [], initializerNames: [] };
  let sawGraph = false;
  const model = new Fields(src, 0, src.size, "onnx.ModelProto");
  for (let f = model.next(); f; f = model.next()) {
    if (f.wire !== WireType.LEN) continue;
    if (f.id === MODEL.metadata_props) out.metadata.push(decodeMessage("onnx.StringStringEntryProto", src.read(f.start, f.length)));
    else if (f.id === MODEL.graph) {
      sawGraph = true;
      const graph = new Fields(src, f.start, f.start + f.length, "onnx.GraphProto");
      for (let g = graph.next(); g; g = graph.next()) {
        if (g.wire !== WireType.LEN) continue;
        if (g.id === GRAPH.input) out.inputs.push(decodeMessage("onnx.ValueInfoProto", src.read(g.start, g.length)));
        else if (g.id === GRAPH.output) out.outputs.push(decodeMessage("onnx.ValueInfoProto", src.read(g.start, g.length)));
        else if (g.id === GRAPH.initializer) {
          const name = tensorName(src, g);
          if (name !== null) out.initializerNames.push(name);
        }
      }
    }
  }
  if (!sawGraph) throw new OnnxFormatError("not an ONNX model (no graph)");
  return out;
}

/** The `name` of a TensorProto field, read without its data. */
function tensorName(src: ByteSource, f: Field): string | null {
  const fields = new Fields(src, f.start, f.start + f.length, "onnx.TensorProto");
  for (let t = fields.next(); t; t = fields.next()) {
    if (t.id === TENSOR.name && t.wire === WireType.LEN) return decodeMessage("onnx.TensorProto", src.read(t.fieldStart, t.fieldEnd - t.fieldStart)).name ?? "";
  }
  return null;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes at `pos` (fewer at the end). */
  read(pos: number, length: number): Uint8Array;
}

class MemorySource implements ByteSource {
  constructor(private readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  read(pos: number, length: number): Uint8Array {
    return this.bytes.subarray(pos, Math.min(pos + length, this.bytes.length));
  }
}

/** Positional reads through a 64 KiB window, so stepping over many small fields costs few system calls. */
class FileSource implements ByteSource {
  private readonly fd: number;
  readonly size: number;
  private windowPos = 0;
  private window = new Uint8Array(0);

  constructor(path: string) {
    this.fd = openSync(path, "r");
    try {
      this.size = fstatSync(this.fd).size;
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }
  read(pos: number, length: number): Uint8Array {
    const end = Math.min(pos + length, this.size);
    if (pos >= this.windowPos && end <= this.windowPos + this.window.length) {
      return this.window.subarray(pos - this.windowPos, end - this.windowPos);
    }
    const buffer = new Uint8Array(Math.max(end - pos, 1 << 16));
    const got = readSync(this.fd, buffer, 0, buffer.length, pos);
    this.windowPos = pos;
    this.window = buffer.subarray(0, got);
    return this.window.subarray(0, end - pos);
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** One field of a message: its number, wire type, payload (`start`, `length`) and whole extent. */
interface Field {
  id: number;
  wire: number;
  start: number;
  length: number;
  fieldStart: number;
  fieldEnd: number;
}

/** The fields of one message between `start` and `end`; payloads are located, not read. */
class Fields {
  private pos: number;
  constructor(
    private readonly src: ByteSource,
    start: number,
    private readonly end: number,
    private readonly message: string,
  ) {
    this.pos = start;
  }

  next(): Field | null {
    if (this.pos >= this.end) return null;
    const fieldStart = this.pos;
    const tag = this.varint();
    const id = Math.floor(tag / 8);
    const wire = tag % 8;
    let start = this.pos;
    let length: number;
    switch (wire) {
      case WireType.VARINT:
        this.varint();
        length = this.pos - start;
        break;
      case WireType.I64:
        length = 8;
        break;
      case WireType.I32:
        length = 4;
        break;
      case WireType.LEN:
        length = this.varint();
        start = this.pos;
        break;
      default:
        throw new OnnxFormatError(`not a valid ONNX model: wire type ${wire} (field ${id} of ${this.message}) at byte ${fieldStart}`, fieldStart);
    }
    if (start + length > this.end) {
      throw new OnnxFormatError(`not a valid ONNX model: truncated or corrupt data: field ${id} of ${this.message} claims ${length} bytes but only ${this.end - start} remain at byte ${fieldStart}`, fieldStart);
    }
    this.pos = start + length;
    return { id, wire, start, length, fieldStart, fieldEnd: this.pos };
  }

  /** A varint of at most 10 bytes, as a number (exact up to 2^53: lengths and tags). */
  private varint(): number {
    const at = this.pos;
    const bytes = this.src.read(at, 10);
    let result = 0;
    for (let i = 0; i < bytes.length; i++) {
      result += (bytes[i]! & 0x7f) * 2 ** (7 * i);
      if ((bytes[i]! & 0x80) === 0) {
        this.pos = at + i + 1;
        return result;
      }
    }
    throw new OnnxFormatError(`not a valid ONNX model: truncated varint at byte ${at}`, at);
  }
}
