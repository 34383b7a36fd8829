// Writing a file atomically: the data goes to a new temporary file in the same folder (so the
// rename cannot cross file systems) and is renamed over the target once it is complete. A crash
// of the process or an error leaves the old file, if any, as it was, and no temporary file behind.
//
// Flushing to disk is asked for (`{ sync: true }`, `intv compile --fsync`), not done by default:
// like `cp`, `torch.save` and `onnx.save`, the file is left to the operating system's page cache.
// An fsync makes the write survive a power failure, and costs as much again as the write itself
// (a 650 MB model: 0.35 s to copy, another 0.9 s to flush, BENCHMARKS.md); without it, a power
// failure right after the rename can leave an empty file where the old one was (ext4 flushes a
// file renamed over another first, which narrows this, but not every file system does).
//
// The two steps are separate so that a caller writing several files (a model and its manifest)
// can write them all before putting any in place. A caller that streams what it writes (a model
// whose weights are copied from another file: compiler/onnx/file.ts) passes a function that
// writes to the open file.

import { nodeCrypto } from "./builtins.js";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import path from "node:path";

/** The open file a writer function is given: Node's FileHandle, as far as writing it goes. */
export interface OpenFile {
  /** The file descriptor: writers write with blocking writes, which are faster (compiler/onnx/stream.ts). */
  readonly fd: number;
  datasync(): Promise<void>;
}

export interface WriteOptions {
  /** Flush the file (and then its folder) to disk before it replaces the target. Default false. */
  sync?: boolean;
}

/**
 * What can be written: text (UTF-8), bytes, bytes in several chunks, or a function that writes
 * the file's contents to the file it is given (from its start, in order).
 */
export type FileData = string | Uint8Array | readonly Uint8Array[] | ((file: OpenFile) => Promise<void>);

/** A new name for a temporary file next to `file` (hidden, unique to this process and call). */
export function temporaryPath(file: string): string {
  return path.join(path.dirname(path.resolve(file)), `.intv-tmp-${path.basename(file)}-${process.pid}-${nodeCrypto().randomBytes(4).toString("hex")}`);
}

/** Write `data` to a new temporary file next to `file` (flushed to disk with `sync`); returns its path. */
export async function writeTemporary(file: string, data: FileData, options: WriteOptions = {}): Promise<string> {
  const tmp = temporaryPath(file);
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, "wx");
    if (typeof data === "function") await data(fh);
    else if (typeof data === "string" || data instanceof Uint8Array) await fh.writeFile(data);
    else for (const chunk of data) await writeAll(fh, chunk);
    if (options.sync === true) await fh.sync();
    await fh.close();
    fh = undefined;
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  return tmp;
}

async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let done = 0;
  while (done < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, done, chunk.length - done);
    done += bytesWritten;
  }
}

/** Rename a temporary file from `writeTemporary` over `file` (removing it if that fails). */
export async function commitTemporary(tmp: string, file: string, options: WriteOptions = {}): Promise<void> {
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  // Make the rename itself durable; not every platform can fsync a folder, and the file is
  // complete either way.
  if (options.sync !== true) return;
  try {
    const dir = await open(path.dirname(path.resolve(file)), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // best effort
  }
}

/** Replace `file` with `data`, or leave it as it was. */
export async function writeAtomically(file: string, data: FileData, options: WriteOptions = {}): Promise<void> {
  await commitTemporary(await writeTemporary(file, data, options), file, options);
}
