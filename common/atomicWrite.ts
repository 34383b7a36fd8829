// Writing a file atomically: the data goes to a new temporary file in the same folder (so the
// rename cannot cross file systems), is flushed to disk, and is renamed over the target. A crash
// or an error leaves the old file, if any, as it was, and no temporary file behind.
//
// The two steps are separate so that a caller writing several files (a model and its manifest)
// can write them all before putting any in place. compiler/onnx/file.ts still has its own copy
// for models; it moves here when the ONNX codec is rewritten to stream.

import { randomBytes } from "node:crypto";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import path from "node:path";

/** What can be written: text (UTF-8), bytes, or bytes in several chunks. */
export type FileData = string | Uint8Array | readonly Uint8Array[];

/** Write `data` to a new temporary file next to `file`, flushed to disk; returns its path. */
export async function writeTemporary(file: string, data: FileData): Promise<string> {
  const tmp = path.join(path.dirname(path.resolve(file)), `.intv-tmp-${path.basename(file)}-${process.pid}-${randomBytes(4).toString("hex")}`);
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, "wx");
    if (typeof data === "string" || data instanceof Uint8Array) await fh.writeFile(data);
    else for (const chunk of data) await writeAll(fh, chunk);
    await fh.sync();
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
export async function commitTemporary(tmp: string, file: string): Promise<void> {
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  // Make the rename itself durable; not every platform can fsync a folder, and the file is
  // complete either way.
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
export async function writeAtomically(file: string, data: FileData): Promise<void> {
  await commitTemporary(await writeTemporary(file, data), file);
}
