// What the runtime needs to know about a model before running it, read straight from the ONNX
// protobuf: the metadata entries (where the manifest lives) and the graph's inputs, outputs and
// initializer names. onnxruntime-node exposes neither custom metadata nor inputs backed by an
// initializer, so this walks the wire format itself — top-level fields only, skipping node and
// tensor payloads by their length, so a multi-gigabyte model costs a few small reads.
//
// Field numbers (onnx.proto): ModelProto graph=7 metadata_props=14; GraphProto initializer=5
// input=11 output=12; StringStringEntryProto key=1 value=2; ValueInfoProto name=1 type=2;
// TypeProto tensor_type=1; TypeProto.Tensor elem_type=1 shape=2; TensorShapeProto dim=1;
// Dimension dim_value=1 dim_param=2; TensorProto name=8.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { elemTypeLabel, type Dim } from "../common/index.js";

export interface ValueInfo {
  name: string;
  /** Lowercase ONNX element type name; null when the value is not a tensor or has no type. */
  elemType: string | null;
  /** null when the rank is unknown. */
  shape: Dim[] | null;
}

export interface ModelInfo {
  metadata: Map<string, string>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Names of the graph's initializers (an input that has one is optional). */
  initializers: Set<string>;
}

/** Thrown when the bytes are not a well-formed ONNX model. */
export class ModelFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelFormatError";
  }
}

/** Read the model info from a model's bytes. */
export function readModelInfo(bytes: Uint8Array): ModelInfo {
  return walkModel(new MemorySource(bytes));
}

/** Read the model info from a model file without loading all of it. */
export function readModelInfoFromFile(path: string): ModelInfo {
  const source = new FileSource(path);
  try {
    return walkModel(source);
  } finally {
    source.close();
  }
}

// ---------------------------------------------------------------------------------------------

export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes at `pos` (fewer at the end). */
  read(pos: number, length: number): Uint8Array;
}

export class MemorySource implements ByteSource {
  constructor(private readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  read(pos: number, length: number): Uint8Array {
    return this.bytes.subarray(pos, Math.min(pos + length, this.bytes.length));
  }
}

/** Positional reads through a 64 KiB window, so walking many small fields costs few syscalls. */
class FileSource implements ByteSource {
  private readonly fd: number;
  readonly size: number;
  private windowPos = 0;
  private window = new Uint8Array(0);

  constructor(path: string) {
    this.fd = openSync(path, "r");
    this.size = fstatSync(this.fd).size;
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

/** One field of a message; `fieldStart`..`fieldEnd` spans its key and payload. */
export interface Field {
  field: number;
  wire: number;
  /** The value of a varint field. */
  value: bigint;
  /** Where a length-delimited payload starts, and its length. */
  start: number;
  length: number;
  fieldStart: number;
  fieldEnd: number;
}

/** Iterates the fields of one message between `start` and `end` (within runtime/ only). */
export class Fields {
  pos: number;
  constructor(private readonly src: ByteSource, start: number, private readonly end: number) {
    this.pos = start;
  }

  /** The next field, or null at the end. Length-delimited payloads are not read, only located. */
  next(): Field | null {
    if (this.pos >= this.end) return null;
    const fieldStart = this.pos;
    const key = this.varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    const done = (value: bigint, start: number, length: number): Field =>
      ({ field, wire, value, start, length, fieldStart, fieldEnd: this.pos });
    switch (wire) {
      case 0: {
        const value = this.varint();
        return done(value, 0, 0);
      }
      case 1:
      case 5: {
        const start = this.pos;
        const length = wire === 1 ? 8 : 4;
        this.skip(length);
        return done(0n, start, length);
      }
      case 2: {
        const length = Number(this.varint());
        const start = this.pos;
        this.skip(length);
        return done(0n, start, length);
      }
      default:
        throw new ModelFormatError(`not an ONNX model (unexpected wire type ${wire} at byte ${this.pos})`);
    }
  }

  varint(): bigint {
    const bytes = this.src.read(this.pos, 10);
    let result = 0n;
    for (let i = 0; i < bytes.length; i++) {
      result |= BigInt(bytes[i]! & 0x7f) << BigInt(7 * i);
      if ((bytes[i]! & 0x80) === 0) {
        this.pos += i + 1;
        return result;
      }
    }
    throw new ModelFormatError(`not an ONNX model (bad varint at byte ${this.pos})`);
  }

  private skip(n: number): void {
    this.pos += n;
    if (this.pos > this.end) throw new ModelFormatError("not an ONNX model (truncated message)");
  }
}

const utf8 = new TextDecoder("utf-8");

function walkModel(src: ByteSource): ModelInfo {
  const info: ModelInfo = { metadata: new Map(), inputs: [], outputs: [], initializers: new Set() };
  const text = (start: number, length: number): string => utf8.decode(src.read(start, length));
  const fields = (start: number, length: number): Fields => new Fields(src, start, start + length);
  let sawGraph = false;

  const model = new Fields(src, 0, src.size);
  for (let f = model.next(); f; f = model.next()) {
    if (f.field === 14 && f.wire === 2) {
      let key = "";
      let value = "";
      const entry = fields(f.start, f.length);
      for (let e = entry.next(); e; e = entry.next()) {
        if (e.field === 1 && e.wire === 2) key = text(e.start, e.length);
        if (e.field === 2 && e.wire === 2) value = text(e.start, e.length);
      }
      info.metadata.set(key, value);
    } else if (f.field === 7 && f.wire === 2) {
      sawGraph = true;
      const graph = fields(f.start, f.length);
      for (let g = graph.next(); g; g = graph.next()) {
        if (g.wire !== 2) continue;
        if (g.field === 11) info.inputs.push(valueInfo(g.start, g.length));
        else if (g.field === 12) info.outputs.push(valueInfo(g.start, g.length));
        else if (g.field === 5) {
          const tensor = fields(g.start, g.length);
          for (let t = tensor.next(); t; t = tensor.next()) {
            if (t.field === 8 && t.wire === 2) info.initializers.add(text(t.start, t.length));
          }
        }
      }
    }
  }
  if (!sawGraph) throw new ModelFormatError("not an ONNX model (no graph)");
  return info;

  function valueInfo(start: number, length: number): ValueInfo {
    const result: ValueInfo = { name: "", elemType: null, shape: null };
    const vi = fields(start, length);
    for (let v = vi.next(); v; v = vi.next()) {
      if (v.field === 1 && v.wire === 2) result.name = text(v.start, v.length);
      if (v.field !== 2 || v.wire !== 2) continue;
      const type = fields(v.start, v.length);
      for (let t = type.next(); t; t = type.next()) {
        if (t.field !== 1 || t.wire !== 2) continue; // only tensor_type
        const tensor = fields(t.start, t.length);
        for (let x = tensor.next(); x; x = tensor.next()) {
          if (x.field === 1 && x.wire === 0) result.elemType = elemTypeLabel(Number(x.value));
          if (x.field === 2 && x.wire === 2) result.shape = shape(x.start, x.length);
        }
      }
    }
    return result;
  }

  function shape(start: number, length: number): Dim[] {
    const dims: Dim[] = [];
    const s = fields(start, length);
    for (let d = s.next(); d; d = s.next()) {
      if (d.field !== 1 || d.wire !== 2) continue;
      let dim: Dim = null;
      const dimension = fields(d.start, d.length);
      for (let x = dimension.next(); x; x = dimension.next()) {
        if (x.field === 1 && x.wire === 0) dim = Math.max(Number(BigInt.asIntN(64, x.value)), -1);
        if (x.field === 2 && x.wire === 2) dim = text(x.start, x.length) || null;
      }
      dims.push(dim);
    }
    return dims;
  }
}
