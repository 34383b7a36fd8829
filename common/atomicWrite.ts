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
import { lstatSync, readdirSync, rmSync } from "node:fs";
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

/** A temporary file this old whose process has ended is removed by `removeStaleTemporaries`. */
export const STALE_TEMPORARY_MS = 60_000;

/**
 * Removes the temporary files (`temporaryPath`'s names) in `dir` left by a process that was killed
 * while writing: the process named in the file's name has ended, and the file has not been
 * written for STALE_TEMPORARY_MS (another container's process, whose number is not this
 * machine's, is not mistaken for an ended one while it writes). `intv compile` calls it for its
 * output's folder: a compile of a large model holds a copy of it there from its start
 * (common/backgroundCopy.ts), and Ctrl-C ends it at once, as it should, without removing it.
 * Failing to list or remove is not an error.
 */
export function removeStaleTemporaries(dir: string, now = Date.now()): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^\.intv-tmp-.+-(\d+)-[0-9a-f]{8}$/.exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || running(pid)) continue;
    const file = path.join(dir, name);
    try {
      const st = lstatSync(file);
      if (st.isFile() && now - st.mtimeMs >= STALE_TEMPORARY_MS) rmSync(file, { force: true });
    } catch {
      // gone already, or not ours to remove
    }
  }
}

/** Whether a process `pid` exists (one we may not signal exists too). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
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
