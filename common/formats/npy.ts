// NumPy `.npy` files: read format versions 1.0, 2.0 and 3.0 (either byte order, C or Fortran
// order), write 1.0 (2.0 when the header needs it), always little-endian C order.
//
// Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//   "\x93NUMPY" major minor, header length (uint16 LE in 1.0, uint32 LE in 2.0/3.0), then a Python
//   dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces and
//   a final newline so the data starts on a 64-byte boundary, then the raw elements.

import { readFile } from "node:fs/promises";
import { writeAtomically } from "../atomicWrite.js";
import { ELEM_SIZE, allocate, sizeOf, viewOf, type ElemName, type Tensor, type TypedArray } from "./tensor.js";

/** A file that is not a readable `.npy` file, or a tensor that cannot be written as one. */
export class NpyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NpyError";
  }
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ALIGN = 64;

/** dtype kind and size (`f4`) → element type. */
const KINDS: Record<string, ElemName> = {
  f2: "float16", f4: "float32", f8: "float64",
  i1: "int8", i2: "int16", i4: "int32", i8: "int64",
  u1: "uint8", u2: "uint16", u4: "uint32", u8: "uint64",
  b1: "bool",
};

const DESCR: Record<ElemName, string> = {
  float16: "<f2", float32: "<f4", float64: "<f8",
  int8: "|i1", int16: "<i2", int32: "<i4", int64: "<i8",
  uint8: "|u1", uint16: "<u2", uint32: "<u4", uint64: "<u8",
  bool: "|b1",
};

const NATIVE_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------
// Reading

/** What a `.npy` header says, and where the data starts. */
export interface NpyHeader {
  type: ElemName;
  dims: number[];
  fortranOrder: boolean;
  littleEndian: boolean;
  /** Byte offset of the first element. */
  dataStart: number;
  /** Bytes of data the shape needs. */
  byteLength: number;
}

/**
 * Decode the header at the start of `bytes` (which need hold no more than the header). Throws
 * NpyError naming `name` when it is not a readable `.npy` header.
 */
export function decodeNpyHeader(bytes: Uint8Array, name = "<npy>"): NpyHeader {
  const fail = (message: string): never => {
    throw new NpyError(`${name}: ${message}`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail("not a NumPy .npy file (bad magic string)");
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (major < 1 || major > 3 || minor !== 0) fail(`unsupported .npy format version ${major}.${minor}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail("truncated header");
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthBytes;
  const dataStart = headerStart + headerLength;
  if (bytes.length < dataStart) fail("truncated header");
  const headerBytes = bytes.subarray(headerStart, dataStart);
  const headerText = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(headerBytes);

  let header: PyValue;
  try {
    header = parsePyLiteral(headerText);
  } catch (e) {
    return fail(`malformed header: ${(e as Error).message}`);
  }
  if (!isDict(header)) return fail("malformed header: not a dict");
  const descr = header.get("descr");
  const fortran = header.get("fortran_order");
  const shape = header.get("shape");
  if (descr === undefined || fortran === undefined || shape === undefined) {
    return fail("malformed header: it needs 'descr', 'fortran_order' and 'shape'");
  }
  if (typeof descr !== "string") return fail(`unsupported dtype ${pyRepr(descr)} (structured arrays are not supported)`);
  if (typeof fortran !== "boolean") return fail("malformed header: 'fortran_order' is not True or False");
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 0)) {
    return fail("malformed header: 'shape' is not a tuple of non-negative integers");
  }
  const dims = shape as number[];
  const { type, littleEndian } = parseDescr(descr) ?? fail(`unsupported dtype '${descr}'`);
  const byteLength = sizeOf(dims) * ELEM_SIZE[type];
  if (!Number.isSafeInteger(byteLength)) fail(`shape (${dims.join(", ")}) is too large`);
  return { type, dims, fortranOrder: fortran, littleEndian, dataStart, byteLength };
}

/** Decode the bytes of a `.npy` file. `name` prefixes error messages (usually the file's path). */
export function decodeNpy(bytes: Uint8Array, name = "<npy>"): Tensor {
  const { type, dims, fortranOrder: fortran, littleEndian, dataStart, byteLength } = decodeNpyHeader(bytes, name);
  const count = sizeOf(dims);
  const available = bytes.length - dataStart;
  if (available < byteLength) {
    throw new NpyError(`${name}: truncated data: shape (${dims.join(", ")}) of ${type} needs ${byteLength} bytes, the file has ${available}`);
  }

  // Copy into a fresh, aligned buffer, then fix the byte order and the memory order.
  const raw = new Uint8Array(byteLength);
  raw.set(bytes.subarray(dataStart, dataStart + byteLength));
  if (littleEndian !== NATIVE_LITTLE) swapBytes(raw, ELEM_SIZE[type]);
  let data: TypedArray = viewOf(type, raw.buffer, 0, count);
  if (type === "bool") {
    const b = data as Uint8Array;
    for (let i = 0; i < b.length; i++) if (b[i]! > 1) b[i] = 1;
  }
  if (fortran && dims.length > 1 && count > 0) data = fortranToC(type, data, dims);
  return { type, dims, data } as Tensor;
}

/** Read a `.npy` file. */
export async function readNpy(path: string): Promise<Tensor> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new NpyError(`${path}: cannot read file (${describeFsError(e)})`);
  }
  return decodeNpy(bytes, path);
}

function parseDescr(descr: string): { type: ElemName; littleEndian: boolean } | null {
  if (descr === "?" || descr === "bool") return { type: "bool", littleEndian: true };
  const m = /^([<>|=]?)([a-z]\d+)$/.exec(descr);
  if (!m) return null;
  const type = KINDS[m[2]!];
  if (type === undefined) return null;
  const order = m[1]!;
  if (order === "|" && ELEM_SIZE[type] > 1) return null; // "not applicable" only makes sense for one byte
  return { type, littleEndian: order === "<" || order === "|" || (order !== ">" && NATIVE_LITTLE) };
}

function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

/** Reorder column-major (first index fastest) data to row-major. */
function fortranToC(type: ElemName, src: TypedArray, dims: number[]): TypedArray {
  const rank = dims.length;
  const fStride: number[] = [];
  let s = 1;
  for (let k = 0; k < rank; k++) {
    fStride.push(s);
    s *= dims[k]!;
  }
  const out = allocate(type, src.length) as unknown as { [i: number]: number | bigint };
  const from = src as unknown as { [i: number]: number | bigint };
  const index = new Array<number>(rank).fill(0);
  let f = 0;
  for (let c = 0; c < src.length; c++) {
    out[c] = from[f]!;
    // Advance the C-order multi-index (last axis fastest), keeping the Fortran offset in step.
    for (let k = rank - 1; k >= 0; k--) {
      index[k]!++;
      f += fStride[k]!;
      if (index[k]! < dims[k]!) break;
      f -= fStride[k]! * dims[k]!;
      index[k] = 0;
    }
  }
  return out as unknown as TypedArray;
}

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * The header of a `.npy` file holding `type[dims]` (format 1.0, or 2.0 for a very long header):
 * magic, version, length and the padded dict, `reserve` bytes long at least (a multiple of 64 in
 * all cases, so that the data that follows is aligned).
 */
export function encodeNpyHeader(type: ElemName, dims: readonly number[], reserve = 0): Uint8Array {
  const descr = DESCR[type];
  if (descr === undefined) throw new NpyError(`cannot write element type \`${String(type)}\` as .npy`);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(", ")})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const major = Math.max(dict.length + 1 + 10, reserve) > 0xffff ? 2 : 1;
  const prefix = major === 1 ? 10 : 12;
  const padded = Math.max(Math.ceil((prefix + dict.length + 1) / ALIGN) * ALIGN, Math.ceil(reserve / ALIGN) * ALIGN);
  const header = dict + " ".repeat(padded - prefix - dict.length - 1) + "\n";
  const out = new Uint8Array(padded);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  return out;
}

/**
 * The elements of `data` as a `.npy` file stores them (little-endian, bool as 0/1): a view of the
 * same memory where that is already so, a copy otherwise.
 */
export function npyDataBytes(type: ElemName, data: TypedArray): Uint8Array {
  let bytes = new Uint8Array(data.buffer, data.byteOffset, data.length * ELEM_SIZE[type]);
  const size = ELEM_SIZE[type];
  if (!NATIVE_LITTLE && size > 1) {
    bytes = bytes.slice();
    swapBytes(bytes, size);
  }
  if (type === "bool" && bytes.some((b) => b > 1)) bytes = bytes.map((b) => (b > 1 ? 1 : b));
  return bytes;
}

/** Encode a tensor as the bytes of a `.npy` file (format 1.0, or 2.0 for a very long header). */
export function encodeNpy(tensor: Tensor): Uint8Array {
  const { type, dims, data } = tensor;
  if (DESCR[type] === undefined) throw new NpyError(`cannot write element type \`${String(type)}\` as .npy`);
  if (data.length !== sizeOf(dims)) {
    throw new NpyError(`cannot write ${type}[${dims.join(", ")}]: it needs ${sizeOf(dims)} elements, the data has ${data.length}`);
  }
  const header = encodeNpyHeader(type, dims);
  const body = npyDataBytes(type, data);
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

/** Write a tensor to a `.npy` file atomically (common/atomicWrite.ts). */
export async function writeNpy(path: string, tensor: Tensor): Promise<void> {
  const bytes = encodeNpy(tensor);
  try {
    await writeAtomically(path, bytes);
  } catch (e) {
    throw new NpyError(`${path}: cannot write file (${describeFsError(e)})`);
  }
}

function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case "ENOENT": return "no such file or directory";
    case "EACCES": return "permission denied";
    case "EISDIR": return "it is a directory";
    case "ENOTDIR": return "a parent is not a directory";
    default: return err.message ?? String(e);
  }
}

// ---------------------------------------------------------------------------------------------
// The header: a small Python literal parser (dicts, tuples, lists, strings, ints, booleans, None).

type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue>;

function isDict(v: PyValue): v is Map<string, PyValue> {
  return v instanceof Map;
}

function pyRepr(v: PyValue): string {
  if (typeof v === "string") return `'${v}'`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `'${k}': ${pyRepr(x)}`).join(", ")}}`;
  return String(v);
}

function parsePyLiteral(text: string): PyValue {
  let pos = 0;
  const skip = (): void => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const error = (what: string): never => {
    throw new Error(`${what} at offset ${pos}`);
  };
  const sequence = (close: string): PyValue[] => {
    const items: PyValue[] = [];
    for (;;) {
      skip();
      if (text[pos] === close) {
        pos++;
        return items;
      }
      items.push(value());
      skip();
      if (text[pos] === ",") pos++;
      else if (text[pos] !== close) error(`expected ',' or '${close}'`);
    }
  };
  const value = (): PyValue => {
    skip();
    const c = text[pos];
    if (c === "{") {
      pos++;
      const map = new Map<string, PyValue>();
      for (;;) {
        skip();
        if (text[pos] === "}") {
          pos++;
          return map;
        }
        const key = value();
        if (typeof key !== "string") error("expected a string key");
        skip();
        if (text[pos] !== ":") error("expected ':'");
        pos++;
        map.set(key as string, value());
        skip();
        if (text[pos] === ",") pos++;
        else if (text[pos] !== "}") error("expected ',' or '}'");
      }
    }
    if (c === "(") {
      pos++;
      return sequence(")");
    }
    if (c === "[") {
      pos++;
      return sequence("]");
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, pos + 1);
      if (end < 0) error("unterminated string");
      const s = text.slice(pos + 1, end);
      pos = end + 1;
      return s;
    }
    const word = /^[-+]?\w+/.exec(text.slice(pos));
    if (!word) return error("unexpected character");
    pos += word[0].length;
    const w = word[0];
    if (w === "True") return true;
    if (w === "False") return false;
    if (w === "None") return null;
    if (/^[-+]?\d+L?$/.test(w)) return Number.parseInt(w, 10);
    return error(`unexpected \`${w}\``);
  };
  const result = value();
  skip();
  if (pos !== text.length) error("unexpected text after the dict");
  return result;
}
