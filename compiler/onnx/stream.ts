// Writing an encoding (encode.ts's parts) to a file: bytes in memory are written as they are, and a
// weight still in its model file (a FileRange) is copied from that file through a fixed pair of
// buffers, one being filled while the other is written. Whatever the model's size, the memory this
// takes is the two buffers: the weights pass through and are never held.
//
// The output is flushed to disk as it is written (OutputFile): every FLUSH_EVERY bytes a
// `datasync` starts in the background, so the disk writes while the copy goes on, and the final
// fsync finds little left to do. Without it, a fresh 650 MB file sits in the page cache until the
// fsync at the end, which then takes about as long as the copy itself.

import { open, type FileHandle } from "node:fs/promises";
import type { OpenFile } from "../../common/index.js";
import { OnnxFormatError } from "./errors.js";
import { FileRange, type SourceFile } from "./fileRange.js";
import type { Part } from "./fileRange.js";

/** Size of each of the two copy buffers. */
export const COPY_BLOCK = 4 * 1024 * 1024;

/** Bytes written between two background flushes. */
export const FLUSH_EVERY = 32 * 1024 * 1024;

/** A file being written from start to end, flushed to disk on the way (see above). */
export class OutputFile {
  private unflushed = 0;
  private flushing: Promise<void> | null = null;
  private failed: unknown = undefined;

  constructor(readonly fh: OpenFile) {}

  async write(chunk: Uint8Array): Promise<void> {
    if (this.failed !== undefined) throw this.failed;
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await this.fh.write(chunk, done, chunk.length - done);
      done += bytesWritten;
    }
    this.unflushed += chunk.length;
    if (this.unflushed >= FLUSH_EVERY && this.flushing === null) {
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

/**
 * `writeParts` as the contents of a file written by common/atomicWrite.ts (which fsyncs it),
 * flushing on the way.
 */
export function partsWriter(parts: readonly Part[]): (fh: OpenFile) => Promise<void> {
  return async (fh) => {
    const out = new OutputFile(fh);
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
  let buffers: [Uint8Array, Uint8Array] | undefined;
  let total = 0;
  try {
    for (const part of parts) {
      if (part instanceof FileRange) {
        let from = sources.get(part.file);
        if (from === undefined) {
          from = await openSource(part.file);
          sources.set(part.file, from);
        }
        buffers ??= [new Uint8Array(COPY_BLOCK), new Uint8Array(COPY_BLOCK)];
        await copyRange(from, part, out, buffers);
      } else {
        await out.write(part);
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

/** Copies one range: the next block is read while the last one is written. */
async function copyRange(from: FileHandle, range: FileRange, out: OutputFile, buffers: [Uint8Array, Uint8Array]): Promise<void> {
  const end = range.offset + range.length;
  let pos = range.offset;
  let which = 0;
  let reading: Promise<Uint8Array> | null = readBlock(from, buffers[which]!, pos, Math.min(COPY_BLOCK, end - pos), range);
  while (reading !== null) {
    const block = await reading;
    pos += block.length;
    which = 1 - which;
    reading = pos < end ? readBlock(from, buffers[which]!, pos, Math.min(COPY_BLOCK, end - pos), range) : null;
    try {
      await out.write(block);
    } catch (e) {
      // Let the read in flight finish before the buffers and the handle go away.
      await reading?.catch(() => undefined);
      throw e;
    }
  }
}

async function readBlock(from: FileHandle, buf: Uint8Array, pos: number, n: number, range: FileRange): Promise<Uint8Array> {
  let done = 0;
  while (done < n) {
    const { bytesRead } = await from.read(buf, done, n - done, pos + done);
    if (bytesRead === 0) throw new OnnxFormatError(`${range.file.path}: the file ended early at byte ${pos + done} (did it change while being read?)`, pos + done);
    done += bytesRead;
  }
  return buf.subarray(0, n);
}
