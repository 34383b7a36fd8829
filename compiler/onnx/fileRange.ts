// Bytes of a model file that have not been read: a weight's `raw_data` decoded from a file is a
// FileRange (the file, an offset, a length) instead of a copy of its bytes. The weights are 99.9%
// of a model file and nothing in `inspect`, `check` or the graph part of `compile` needs them; a
// compile-time constant read asks for the few bytes it needs (`tensorRawData`), and writing copies
// unchanged weights from file to file (file.ts) without holding them.
//
// A range is only as good as its file: each read checks that the file is still the one decoded
// (same device, inode, size and modification time), so a model replaced or edited after it was read
// is an error that says so, never other bytes passed off as the weights.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import path from "node:path";
import type { FileIdentity } from "../../common/index.js";
import { OnnxFormatError } from "./errors.js";

/** A file as it was when a model was decoded from it. */
export class SourceFile {
  private constructor(
    /** Absolute path. */
    readonly path: string,
    readonly size: number,
    private readonly dev: bigint,
    private readonly ino: bigint,
    private readonly mtimeNs: bigint,
  ) {}

  /** The identity of the file open as `fd` (read from the descriptor, so it is the file being read). */
  static fromDescriptor(file: string, fd: number): SourceFile {
    const st = fstatSync(fd, { bigint: true });
    return new SourceFile(path.resolve(file), Number(st.size), st.dev, st.ino, st.mtimeNs);
  }

  /** The file at `file` as it is now. */
  static ofPath(file: string): SourceFile {
    const fd = openSync(file, "r");
    try {
      return SourceFile.fromDescriptor(file, fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Whether `st` is this file (as a name: the same device and inode). */
  isFile(st: { dev: bigint; ino: bigint }): boolean {
    return st.dev === this.dev && st.ino === this.ino;
  }

  /** Opens the file for reading, checking it is still the file decoded; the caller closes `fd`. */
  openSync(): number {
    let fd: number;
    try {
      fd = openSync(this.path, "r");
    } catch (e) {
      throw this.changed(`it cannot be opened any more: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    try {
      this.check(fstatSync(fd, { bigint: true }));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return fd;
  }

  /** Whether `st` (a `stat` with `bigint: true`) is this file as it was decoded. */
  is(st: FileIdentity): boolean {
    return st.dev === this.dev && st.ino === this.ino && Number(st.size) === this.size && st.mtimeNs === this.mtimeNs;
  }

  /** Throws when `st` (a `stat` with `bigint: true`) is not this file as it was decoded. */
  check(st: FileIdentity): void {
    if (st.dev !== this.dev || st.ino !== this.ino) throw this.changed("it was replaced by another file");
    if (Number(st.size) !== this.size || st.mtimeNs !== this.mtimeNs) throw this.changed("it was modified");
  }

  private changed(how: string): OnnxFormatError {
    return new OnnxFormatError(`${this.path}: the model file changed after it was read (${how}); its weights are read from it when needed, so read the model again`);
  }
}

/** `length` bytes at `offset` of `file`, not read yet. */
export class FileRange {
  constructor(
    readonly file: SourceFile,
    readonly offset: number,
    readonly length: number,
  ) {}

  /** The bytes, read now (a fresh buffer each call). */
  read(): Uint8Array {
    const out = new Uint8Array(this.length);
    const fd = this.file.openSync();
    try {
      readExactlySync(fd, out, this.offset, this.file.path);
    } finally {
      closeSync(fd);
    }
    return out;
  }
}

/** Fills `into` from `fd` at `position`; a short read means the file shrank under us. */
export function readExactlySync(fd: number, into: Uint8Array, position: number, file: string): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new OnnxFormatError(`${file}: the file ended early at byte ${position + done} (did it change while being read?)`, position + done);
    done += n;
  }
}

/** A `bytes` value as decoded: in memory, or a range of the file it was decoded from. */
export type Bytes = Uint8Array | FileRange;

/** A piece of an encoding (encode.ts): bytes, or bytes still in a file. */
export type Part = Bytes;

/** The number of bytes, without reading them. */
export function bytesLength(b: Bytes): number {
  return b.length;
}

/** The bytes themselves: a view for bytes in memory, a read of the file for a range. */
export function readBytes(b: Bytes): Uint8Array {
  return b instanceof FileRange ? b.read() : b;
}

/**
 * A tensor's `raw_data`, read from its file if it has not been (`undefined` when it has none).
 * The one way the compiler reads a weight's bytes.
 */
export function tensorRawData(t: { readonly raw_data?: Bytes }): Uint8Array | undefined {
  return t.raw_data === undefined ? undefined : readBytes(t.raw_data);
}
