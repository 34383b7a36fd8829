// Writing an encoding (encode.ts's parts) to a file: bytes in memory are written as they are, and a
// weight still in its model file (a FileRange) is copied from that file through one buffer of
// COPY_BLOCK bytes. Whatever the model's size, the memory this takes is the buffer: the weights
// pass through and are never held.
//
// The copy is synchronous reads and writes of 1 MiB blocks, about as fast as `cp` (which has the
// kernel copy: Node offers no copy_file_range for part of a file); the promise-based reads and
// writes used before cost more in handing each block to a thread. The event loop is given a turn
// every YIELD_EVERY bytes, so a library caller's other work is not held up for the whole copy.
//
// Where in the buffer a block goes matters: the kernel copies between the page cache and the
// buffer, and when the two addresses agree in their low 12 bits (a page-aligned block of the file
// in a page-aligned buffer) the CPU can take the copy's loads for reloads of its own stores
// ("4K aliasing"). With the 4 MiB buffer used before, a copy of 650 MB took 0.75 s that way and
// 0.36 s with the blocks half a page off (`node dist/bench/copy.js`, BENCHMARKS.md, "I/O at the
// file-copy limit"). Each range is read into the buffer at half a page from its file offset.

// When the file is to be flushed to disk (`sync`, `intv compile --fsync`), it is flushed as it is
// written (OutputFile): every FLUSH_EVERY bytes a `datasync` starts in the background, so the disk
// writes while the copy goes on, and the final fsync finds little left to do. Without it, a fresh
// 650 MB file sits in the page cache until the fsync at the end, which then takes about as long as
// the copy itself. Without `sync`, the page cache is left to write it, as `cp` does.

import { readSync, writeSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import type { OpenFile } from "../../common/index.js";
import { OnnxFormatError } from "./errors.js";
import { FileRange, type SourceFile } from "./fileRange.js";
import type { Part } from "./fileRange.js";

/** Size of the copy's blocks. */
export const COPY_BLOCK = 1024 * 1024;

/** Bytes copied between two turns of the event loop. */
export const YIELD_EVERY = 64 * 1024 * 1024;

/** Bytes written between two background flushes. */
export const FLUSH_EVERY = 32 * 1024 * 1024;

/** A file being written from start to end, flushed to disk on the way when `sync` (see above). */
export class OutputFile {
  private unflushed = 0;
  private flushing: Promise<void> | null = null;
  private failed: unknown = undefined;

  /**
   * Writes go to the file's own position, or, given `position`, from there on (a file opened to
   * be patched, whose position is its start: patchCopy.ts).
   */
  constructor(
    readonly fh: OpenFile,
    readonly sync = false,
    private position: number | null = null,
  ) {}

  /** Writes `chunk` at the file's position, blocking (see above). */
  write(chunk: Uint8Array): void {
    if (this.failed !== undefined) throw this.failed;
    writeFullySync(this.fh.fd, chunk, this.position);
    if (this.position !== null) this.position += chunk.length;
    this.unflushed += chunk.length;
    if (this.sync && this.unflushed >= FLUSH_EVERY && this.flushing === null) {
      this.unflushed = 0;
      this.flushing = this.fh.datasync().then(
        () => void (this.flushing = null),
        (e: unknown) => void ((this.failed = e), (this.flushing = null)),
      );
    }
  }

  /** Waits for a background flush in flight, and throws if one failed (before the final fsync). */
  async settle(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
    if (this.failed !== undefined) throw this.failed;
  }
}

/** Writes all of `bytes` to `fd`, at `position` or (null) at the file's own position, blocking. */
export function writeFullySync(fd: number, bytes: Uint8Array, position: number | null): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position === null ? null : position + done);
}

/**
 * `writeParts` as the contents of a file written by common/atomicWrite.ts (which fsyncs it when
 * `sync`), flushing on the way when `sync`.
 */
export function partsWriter(parts: readonly Part[], sync = false): (fh: OpenFile) => Promise<void> {
  return async (fh) => {
    const out = new OutputFile(fh, sync);
    try {
      await writeParts(out, parts);
    } finally {
      // A flush in flight must end before the file is closed; its failure is the write's.
      await out.settle();
    }
  };
}

/** Writes `parts` in order at `out`'s current position; returns the number of bytes written. */
export async function writeParts(out: OutputFile, parts: readonly Part[]): Promise<number> {
  const sources = new Map<SourceFile, FileHandle>();
  let buffer: Uint8Array | undefined;
  let total = 0;
  try {
    for (const part of parts) {
      if (part instanceof FileRange) {
        let from = sources.get(part.file);
        if (from === undefined) {
          from = await openSource(part.file);
          sources.set(part.file, from);
        }
        buffer ??= new Uint8Array(COPY_BLOCK + PAGE);
        await copyRange(from, part, out, buffer);
      } else {
        // Bytes in memory (a model decoded from bytes holds its weights): in slices, with a
        // turn of the event loop between them, as the copies above.
        for (let at = 0; at < part.length; at += YIELD_EVERY) {
          if (at > 0) await turn();
          out.write(part.subarray(at, Math.min(part.length, at + YIELD_EVERY)));
        }
      }
      total += part.length;
    }
  } finally {
    for (const fh of sources.values()) await fh.close().catch(() => undefined);
  }
  return total;
}

/** Opens a model file that ranges point into, checking it is still the file they were decoded from. */
async function openSource(file: SourceFile): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(file.path, "r");
  } catch (e) {
    throw new OnnxFormatError(`${file.path}: the model file changed after it was read (it cannot be opened any more: ${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    file.check(await fh.stat({ bigint: true }));
  } catch (e) {
    await fh.close();
    throw e;
  }
  return fh;
}

/** A turn of the event loop for other work (see above). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Page size the copy's buffer placement assumes (see above). */
const PAGE = 4096;

/** Copies one range in blocks (see above), giving the event loop a turn every YIELD_EVERY bytes. */
async function copyRange(from: FileHandle, range: FileRange, out: OutputFile, buffer: Uint8Array): Promise<void> {
  const end = range.offset + range.length;
  // Every block starts at the same offset within a page (blocks are whole pages long), so one
  // placement, half a page from the file's, serves the whole range.
  const at = (range.offset + PAGE / 2) % PAGE;
  let sinceYield = 0;
  for (let pos = range.offset; pos < end; ) {
    const n = Math.min(COPY_BLOCK, end - pos);
    const block = buffer.subarray(at, at + n);
    readBlock(from.fd, block, pos, range);
    out.write(block);
    pos += n;
    sinceYield += n;
    if (sinceYield >= YIELD_EVERY && pos < end) {
      sinceYield = 0;
      await turn();
    }
  }
}

function readBlock(fd: number, block: Uint8Array, pos: number, range: FileRange): void {
  let done = 0;
  while (done < block.length) {
    const bytesRead = readSync(fd, block, done, block.length - done, pos + done);
    if (bytesRead === 0) throw new OnnxFormatError(`${range.file.path}: the file ended early at byte ${pos + done} (did it change while being read?)`, pos + done);
    done += bytesRead;
  }
}
