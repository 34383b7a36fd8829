// A copy of a file made by the kernel in the background, into a new temporary file next to where
// its result will go: how `intv compile` writes a large model (compiler/onnx/patchCopy.ts patches
// the compile's changes into the copy and renames it into place).
//
// Why a copy made in the background: writing a compiled model is one copy of the weights, and
// nothing copies faster than the kernel's own copy (`copy_file_range`, what `cp` uses; Node's
// `copyFile`). Made after the compile, it adds the time of `cp` to everything else; started before
// the compile, on a thread of libuv's pool, it takes the second core while the compile takes the
// first (BENCHMARKS.md, "I/O at the file-copy limit"). The copy is into a new file
// (COPYFILE_EXCL): without that flag libuv truncates the target first, and on ext4 a file
// truncated to empty is flushed to disk when closed, which took as long again as the copy.
//
// The copy is a temporary file (common/atomicWrite.ts's naming) from its start: the caller either
// makes it its output (`committed`) or removes it (`discard`, which first waits for the copy to
// end, so that nothing writes the file after it is gone; `abandon`, for a process about to exit).
// A process killed meanwhile leaves it; `removeStaleTemporaries` (atomicWrite.ts) removes it later.

import { constants, copyFile, rmSync, statSync } from "node:fs";
import { rm, stat } from "node:fs/promises";
import path from "node:path";
import { temporaryPath } from "./atomicWrite.js";

/** Files smaller than this are not worth a copy in the background (`startBackgroundCopy`). */
export const BACKGROUND_COPY_MIN = 64 * 1024 * 1024;

/** What identifies a file's contents: `stat` with `bigint: true` (Node's BigIntStats has these). */
export interface FileIdentity {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
}

/**
 * A copy just started, as plain data: what the installed `intv` hands to the command it loads
 * after starting the copy (cli/earlyCopy.ts), whose BackgroundCopy class is another module's.
 */
export interface StartedCopy {
  /** Absolute paths of the file copied and of the file the copy is meant to become. */
  readonly input: string;
  readonly output: string;
  /** The temporary file being written. */
  readonly tmp: string;
  /** The input's identity when the copy started. */
  readonly before: FileIdentity;
  /** Settles when the copy has ended: true when it succeeded. */
  readonly copied: Promise<boolean>;
}

/**
 * Starts copying the file at `input` to a new temporary file next to `output`; undefined when it
 * is smaller than `minBytes` or not a file.
 */
export function beginCopy(input: string, output: string, minBytes = BACKGROUND_COPY_MIN): StartedCopy | undefined {
  let before;
  try {
    before = statSync(input, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined; // ENOTDIR, ELOOP, ENAMETOOLONG, EACCES: the compile's read says it in its own words
  }
  if (before === undefined || !before.isFile() || Number(before.size) < minBytes) return undefined;
  const tmp = temporaryPath(output);
  // A failure (a missing folder, a full disk) is not reported here: the caller then writes its
  // output the ordinary way, which reports it in its own words.
  const copied = new Promise<boolean>((resolve) => copyFile(input, tmp, constants.COPYFILE_EXCL, (e) => resolve(e === null)));
  return { input: path.resolve(input), output: path.resolve(output), tmp, before, copied };
}

/** A copy of a file being made in the background (see above). */
export class BackgroundCopy {
  private removed = false;
  readonly input: string;
  readonly output: string;
  readonly tmp: string;
  private readonly before: FileIdentity;
  private readonly copied: Promise<boolean>;

  private constructor(started: StartedCopy) {
    ({ input: this.input, output: this.output, tmp: this.tmp, before: this.before, copied: this.copied } = started);
  }

  /** The copy `started` (beginCopy), to finish, discard or abandon. */
  static adopt(started: StartedCopy): BackgroundCopy {
    return new BackgroundCopy(started);
  }

  /**
   * Waits for the copy to end. Returns the input's identity before the copy started and after it
   * ended (the same when the input did not change meanwhile), or undefined when the copy failed.
   */
  async finished(): Promise<{ before: FileIdentity; after: FileIdentity } | undefined> {
    if (!(await this.copied)) return undefined;
    return { before: this.before, after: await stat(this.input, { bigint: true }) };
  }

  /** Removes the copy once it has ended, unless it was committed; safe to call again. */
  async discard(): Promise<void> {
    await this.copied;
    if (!this.removed) await rm(this.tmp, { force: true }).catch(() => undefined);
    this.removed = true;
  }

  /**
   * Removes the copy now, without waiting for it to end: for a process about to exit (the copy
   * goes on into a file without a name until then). The copy creates its file on a thread of
   * libuv's pool; were it to do so after this, the file is removed when the copy ends, or at exit
   * if that comes first. The process still ends only when the copy does: libuv finishes its
   * pool's work before exiting (a rejected script of a large model takes about a `cp` longer;
   * BENCHMARKS.md).
   */
  abandon(): void {
    if (this.removed) return;
    this.removed = true;
    const remove = (): void => rmSync(this.tmp, { force: true });
    remove();
    void this.copied.then(remove);
    process.once("exit", remove);
  }

  /** The copy has become the output: it is no longer a temporary file to remove. */
  committed(): void {
    this.removed = true;
  }
}

/**
 * Starts copying the file at `input` next to `output` (see above); undefined when it is smaller
 * than `minBytes` or not a file.
 */
export function startBackgroundCopy(input: string, output: string, minBytes = BACKGROUND_COPY_MIN): BackgroundCopy | undefined {
  const started = beginCopy(input, output, minBytes);
  return started === undefined ? undefined : BackgroundCopy.adopt(started);
}
