// Writing a compiled model over a copy of its input made in the background while it was compiled
// (common/backgroundCopy.ts: `intv compile` starts one once its arguments are checked, before it
// reads the model): the compile's changes are patched into the copy (patchPlan.ts says why that
// gives the same model) and the copy is renamed into place. When the plan does not fit, or the
// copy failed or cannot be opened, the copy is removed and the caller writes the model from
// scratch.
//
// The copy must be of the file the model was decoded from (SourceFile), as it was then: a copy
// of a file replaced before the model was read is of no use (written from scratch); a file
// changed after it was read is the error that reading a changed model's weights always is.

import { fstatSync, ftruncateSync } from "node:fs";
import { chmod, open, rm, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { commitTemporary, temporaryPath, type BackgroundCopy } from "../../common/index.js";
import { FileRange, type SourceFile } from "./fileRange.js";
import { fillerHeaders, planPatch, type PatchPlan } from "./patchPlan.js";
import { OutputFile, writeFullySync, writeParts } from "./stream.js";
import type { ModelProto } from "./types.js";

/**
 * Writes `model` to `file` by patching `copy` and renaming it into place. Returns false, having
 * removed the copy, when the model is not one the copy can become (the caller then writes it from
 * scratch). The copy is removed on every failure.
 */
export async function writeOverCopy(copy: BackgroundCopy, file: string, model: ModelProto, sync: boolean): Promise<boolean> {
  try {
    const source = weightSource(model);
    const plan = source !== undefined && path.resolve(file) === copy.output && source.path === copy.input ? planPatch(model, source) : undefined;
    const copied = plan === undefined ? undefined : await copy.finished();
    // A copy of another file than the one the model was read from (it was replaced after the copy
    // started and before it was read) is no use, but no error either.
    if (plan === undefined || copied === undefined || !source!.is(copied.before)) {
      await copy.discard();
      return false;
    }
    // Changed after it was read: the error any read of its weights gives.
    source!.check(copied.after);
    const fh = await openForPatching(copy.tmp);
    if (fh === undefined) {
      await copy.discard();
      return false;
    }
    await applyPatch(fh, plan, source!, sync);
    await commitTemporary(copy.tmp, file, { sync });
    copy.committed();
    return true;
  } catch (e) {
    await copy.discard();
    throw e;
  }
}

/** The file the model's weights are read from (that of its first initializer left in a file). */
function weightSource(model: ModelProto): SourceFile | undefined {
  for (const t of model.graph?.initializer ?? []) if (t.raw_data instanceof FileRange) return t.raw_data.file;
  return undefined;
}

/** Zeros written over filler ranges, a block at a time. */
const ZEROS = new Uint8Array(1024 * 1024);

/**
 * The copy, open for writing; undefined when it cannot be (the model is then written from
 * scratch, which reports any problem in its own words). The copy has the input's mode (copyFile
 * keeps it): a read-only model's copy could not be opened for writing, so it first gets the mode
 * of a new file, which a model written from scratch has (on a share where modes cannot be set,
 * the chmod fails: written from scratch).
 */
async function openForPatching(tmp: string): Promise<FileHandle | undefined> {
  try {
    await chmod(tmp, await newFileMode(tmp));
    return await open(tmp, "r+");
  } catch {
    return undefined;
  }
}

/** Turns the copy open as `fh` into the output (patchPlan.ts), flushing it to disk with `sync`; closes it. */
async function applyPatch(fh: FileHandle, plan: PatchPlan, source: SourceFile, sync: boolean): Promise<void> {
  try {
    // The copy reported no error, so it is the whole input; a check that costs nothing.
    const size = fstatSync(fh.fd).size;
    if (size !== source.size) throw new Error(`internal error: the copy of ${source.path} has ${size} bytes, not ${source.size}`);
    writeFullySync(fh.fd, plan.graphLength, plan.graphLengthAt);
    for (const filler of plan.fillers) {
      for (let at = 0; at < filler.length; at += ZEROS.length) {
        writeFullySync(fh.fd, ZEROS.subarray(0, Math.min(ZEROS.length, filler.length - at)), filler.offset + at);
      }
      for (const [at, header] of fillerHeaders(filler.length, plan.fillerTag)) writeFullySync(fh.fd, header, filler.offset + at);
    }
    await writeParts(new OutputFile(fh, false, plan.cutAt), plan.tail);
    ftruncateSync(fh.fd, plan.size);
    if (sync) await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The mode a new file next to `file` gets (0666 less the umask, or what the folder's ACL says). */
async function newFileMode(file: string): Promise<number> {
  const probe = temporaryPath(file);
  const fh = await open(probe, "wx");
  try {
    return (await fh.stat()).mode & 0o7777;
  } finally {
    await fh.close();
    await rm(probe, { force: true });
  }
}
