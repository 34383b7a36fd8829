// `.npy` files too large to hold: written a piece at a time, and read a few rows at a time.
//
// Writing: the header is written first with room reserved for the largest shape the file can
// end with (a first dimension of up to 16 digits), the data is appended after it, and the header
// is rewritten in place with the shape reached so far at every checkpoint. The file is therefore
// a valid `.npy` file of the rows written up to the last checkpoint at all times, and NumPy reads
// it like any other (`np.load(path, mmap_mode="r")`); only the header's padding is longer than
// np.save's. Reading: the header is parsed, and rows along the first axis are read on demand.

import { open, type FileHandle } from "node:fs/promises";
import { NpyError, decodeNpyHeader, encodeNpyHeader, npyDataBytes, type NpyHeader } from "./npy.js";
import { ELEM_SIZE, sizeOf, viewOf, type ElemName, type Tensor, type TypedArray } from "./tensor.js";

/** The first dimension the reserved header has room for. */
const MAX_ROWS = Number.MAX_SAFE_INTEGER;

/** How many header bytes to reserve for files whose shape is `[rows, ...rest]` for any rest in `shapes`. */
export function reservedHeaderBytes(type: ElemName, shapes: readonly (readonly number[])[]): number {
  return Math.max(...shapes.map((rest) => encodeNpyHeader(type, [MAX_ROWS, ...rest]).length));
}

/**
 * A `.npy` file being written: a reserved header, then data appended at the end. `shape` sets the
 * header; `sync` makes what was written durable. Errors are NpyErrors naming the file.
 */
export class NpyAppender {
  private constructor(
    readonly path: string,
    readonly type: ElemName,
    private readonly handle: FileHandle,
    /** Bytes of the header (the data starts here). */
    readonly headerBytes: number,
    /** Bytes of data written after the header. */
    private written: number,
  ) {}

  /** Create (or truncate) `path` with a header of `headerBytes` bytes for `type[dims]`. */
  static async create(path: string, type: ElemName, dims: readonly number[], headerBytes: number): Promise<NpyAppender> {
    const handle = await openFile(path, "w");
    const file = new NpyAppender(path, type, handle, headerBytes, 0);
    await file.setShape(dims);
    return file;
  }

  /**
   * Reopen a file written by `create` to continue it: the data is cut back to `dataBytes` (what
   * the last checkpoint recorded; anything after it was written by an interrupted batch).
   */
  static async reopen(path: string, type: ElemName, headerBytes: number, dataBytes: number): Promise<NpyAppender> {
    const handle = await openFile(path, "r+");
    try {
      const head = new Uint8Array(headerBytes);
      const { bytesRead } = await handle.read(head, 0, headerBytes, 0);
      const header = decodeNpyHeader(head.subarray(0, bytesRead), path);
      if (header.dataStart !== headerBytes || header.type !== type) {
        throw new NpyError(`${path}: not the file this run was writing (its header changed)`);
      }
      const { size } = await handle.stat();
      if (size < headerBytes + dataBytes) {
        throw new NpyError(`${path}: the file is shorter (${size} bytes) than the last checkpoint recorded (${headerBytes + dataBytes})`);
      }
      await handle.truncate(headerBytes + dataBytes);
    } catch (e) {
      await handle.close();
      throw e instanceof NpyError ? e : new NpyError(`${path}: cannot reopen (${(e as Error).message})`);
    }
    return new NpyAppender(path, type, handle, headerBytes, dataBytes);
  }

  /** Bytes of data after the header. */
  get dataBytes(): number {
    return this.written;
  }

  /** Append the elements of `data` (already in row-major order). */
  async append(data: TypedArray): Promise<void> {
    const bytes = npyDataBytes(this.type, data);
    await this.writeAt(bytes, this.headerBytes + this.written);
    this.written += bytes.length;
  }

  /** Rewrite the header with `dims`; the data written must be exactly what `dims` describes. */
  async setShape(dims: readonly number[]): Promise<void> {
    const want = sizeOf(dims) * ELEM_SIZE[this.type];
    if (want !== this.written) {
      throw new Error(`internal error: ${this.path}: shape (${dims.join(", ")}) needs ${want} bytes, ${this.written} were written (this is a bug in intv)`);
    }
    const header = encodeNpyHeader(this.type, dims, this.headerBytes);
    if (header.length !== this.headerBytes) {
      throw new Error(`internal error: ${this.path}: header for (${dims.join(", ")}) does not fit the ${this.headerBytes} bytes reserved (this is a bug in intv)`);
    }
    await this.writeAt(header, 0);
  }

  async sync(): Promise<void> {
    try {
      await this.handle.datasync();
    } catch (e) {
      throw fsError(this.path, "write", e);
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private async writeAt(bytes: Uint8Array, position: number): Promise<void> {
    try {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done, position + done);
        done += bytesWritten;
      }
    } catch (e) {
      throw fsError(this.path, "write", e);
    }
  }
}

/**
 * A `.npy` file read a few rows (entries of its first axis) at a time: only the header is read
 * when it is opened. C order only (a Fortran-order array's rows are not contiguous).
 */
export class NpyRows {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly header: NpyHeader,
  ) {}

  static async open(path: string): Promise<NpyRows> {
    const handle = await openFile(path, "r");
    try {
      let head = new Uint8Array(4096);
      let { bytesRead } = await handle.read(head, 0, head.length, 0);
      // Format 2.0 headers may be longer than the first read.
      const view = new DataView(head.buffer);
      const declared = bytesRead >= 12 && head[6] !== 1 ? 12 + view.getUint32(8, true) : 0;
      if (declared > head.length && declared < 2 ** 26) {
        head = new Uint8Array(declared);
        ({ bytesRead } = await handle.read(head, 0, head.length, 0));
      }
      const header = decodeNpyHeader(head.subarray(0, bytesRead), path);
      if (header.dims.length === 0) throw new NpyError(`${path}: a scalar has no rows (its shape is ())`);
      if (header.fortranOrder && header.dims.length > 1 && sizeOf(header.dims) > 0) {
        throw new NpyError(`${path}: the array is in Fortran order, so its rows are not contiguous; save it in C order (np.ascontiguousarray) to read it as a stream`);
      }
      const { size } = await handle.stat();
      if (size < header.dataStart + header.byteLength) {
        throw new NpyError(`${path}: truncated data: shape (${header.dims.join(", ")}) of ${header.type} needs ${header.byteLength} bytes, the file has ${size - header.dataStart}`);
      }
      return new NpyRows(path, handle, header);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  /** Number of rows (the first dimension). */
  get rows(): number {
    return this.header.dims[0]!;
  }

  /** The shape of one row. */
  get rowDims(): number[] {
    return this.header.dims.slice(1);
  }

  /** Rows `start` to `start + count` as a tensor `[count, ...rowDims]`. */
  async read(start: number, count: number): Promise<Tensor> {
    const { type, littleEndian, dataStart } = this.header;
    const rowDims = this.rowDims;
    const rowBytes = sizeOf(rowDims) * ELEM_SIZE[type];
    const bytes = new Uint8Array(rowBytes * count);
    try {
      let done = 0;
      while (done < bytes.length) {
        const { bytesRead } = await this.handle.read(bytes, done, bytes.length - done, dataStart + start * rowBytes + done);
        if (bytesRead === 0) throw new NpyError(`${this.path}: the file ended before row ${start + count}`);
        done += bytesRead;
      }
    } catch (e) {
      throw e instanceof NpyError ? e : fsError(this.path, "read", e);
    }
    const size = ELEM_SIZE[type];
    if (littleEndian !== NATIVE_LITTLE && size > 1) {
      for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
    }
    if (type === "bool") for (let i = 0; i < bytes.length; i++) if (bytes[i]! > 1) bytes[i] = 1;
    return { type, dims: [count, ...rowDims], data: viewOf(type, bytes.buffer, 0, bytes.length / size) } as Tensor;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

const NATIVE_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

async function openFile(path: string, flags: "r" | "r+" | "w"): Promise<FileHandle> {
  try {
    return await open(path, flags);
  } catch (e) {
    throw fsError(path, flags === "r" ? "read" : "write", e);
  }
}

function fsError(path: string, verb: "read" | "write", e: unknown): NpyError {
  const err = e as NodeJS.ErrnoException;
  const why = {
    ENOENT: "no such file or directory",
    EACCES: "permission denied",
    EISDIR: "it is a directory",
    ENOTDIR: "a parent is not a directory",
    ENOSPC: "no space left on the device",
    EROFS: "the file system is read-only",
    EDQUOT: "the disk quota is exceeded",
  }[err.code ?? ""] ?? err.message ?? String(e);
  return new NpyError(`${path}: cannot ${verb} file (${why})`);
}
