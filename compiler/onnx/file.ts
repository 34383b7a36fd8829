// Reading and writing model files. Reading checks everything a later stage would trip over (not
// protobuf, not a model, unsafe or missing external data) and reports it as one OnnxFormatError
// whose message starts with the path; it reads the model's structure and leaves its weights in the
// file (decode.ts: each large `raw_data` is a FileRange). Writing streams: unchanged weights are
// copied from the file they were read from (stream.ts), so neither side holds the model in memory;
// and it is atomic (common/atomicWrite.ts): a crash or error never leaves a half-written model
// where a good one was. Flushing to disk before the rename is asked for (`sync`).

import { mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { BackgroundCopy, commitTemporary, nodeCrypto, writeTemporary } from "../../common/index.js";
import { decodeModelFileInfo, type DecodeOptions } from "./decode.js";
import { encodeModelParts } from "./encode.js";
import { OnnxFormatError } from "./errors.js";
import { checkExternalData, externalDataRefs, placeExternalData, removeAll } from "./externalData.js";
import { EXTERNAL_THRESHOLD, moveToExternalData, referenceWeights, relocateExternalData } from "./externalWrite.js";
import { FileRange } from "./fileRange.js";
import { writeOverCopy } from "./patchCopy.js";
import { partsWriter } from "./stream.js";
import type { ModelProto } from "./types.js";
import type { Part } from "./fileRange.js";

/** Protobuf (and so every ONNX runtime) cannot hold a message of 2 GiB or more. */
const MAX_MODEL_FILE = 2 ** 31 - 1;

export interface ReadModelResult {
  /** The model; its large weights are FileRanges of the file, read when needed. */
  model: ModelProto;
  /** Absolute path of the folder the model was read from (external data is relative to it). */
  dir: string;
}

export interface WriteModelOptions {
  /**
   * The folder the model's external data is relative to (where it was read from). When it is not
   * the output folder, each location is rewritten to reach the file from the output's folder, or,
   * where that would need `..`, the file is hard-linked (or copied) next to the output. Defaults to
   * the output folder, which must then already hold the data.
   */
  sourceDir?: string;
  /**
   * Write the weights to this data file instead of into the model: a path relative to the output's
   * folder (and inside it). Every initializer with at least `externalDataThreshold` bytes of
   * `raw_data`, and every tensor that was external already, is stored there.
   */
  externalData?: string;
  /** Smallest `raw_data` moved to `externalData`, in bytes (default 1024, as `onnx.save`). */
  externalDataThreshold?: number;
  /**
   * Flush the written files to disk before they replace their targets, so that they survive a
   * power failure (common/atomicWrite.ts). Default false: left to the page cache, as `cp` and
   * `onnx.save` do; about twice the time of the write for a large model.
   */
  sync?: boolean;
  /**
   * A copy of the input model started by `startBackgroundCopy(input, file)` before the compile
   * (patchCopy.ts): the model is written by patching it, or, when it cannot be, from scratch as
   * without one. Either way the copy is used up or removed.
   */
  copy?: BackgroundCopy;
}

function withPath(file: string, e: unknown): unknown {
  return e instanceof OnnxFormatError ? new OnnxFormatError(`${file}: ${e.message}`, e.offset) : e;
}

/**
 * Reads, decodes and checks a model file, leaving its weights in the file. With
 * `keepNodeEncodings` (decode.ts), nodes keep their bytes for a faster write, and are frozen
 * (unless "unfrozen").
 */
export async function readModelFile(file: string, options: Pick<DecodeOptions, "keepNodeEncodings"> = {}): Promise<ReadModelResult> {
  let st;
  try {
    st = await stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OnnxFormatError(code === "ENOENT" || code === "ENOTDIR" ? `${file}: no such file` : `${file}: cannot read (${code ?? String(e)})`);
  }
  if (!st.isFile()) throw new OnnxFormatError(`${file}: not a file`);
  if (st.size > MAX_MODEL_FILE) throw new OnnxFormatError(`${file}: not an ONNX model (over 2 GiB, which protobuf cannot hold)`);
  let model: ModelProto;
  let external: boolean;
  try {
    ({ model, external } = decodeModelFileInfo(file, options));
  } catch (e) {
    if (e instanceof OnnxFormatError) throw new OnnxFormatError(`${file}: not a valid ONNX model: ${e.message}`, e.offset);
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined) throw new OnnxFormatError(`${file}: cannot read (${code})`);
    throw e;
  }
  if (model.graph === undefined) throw new OnnxFormatError(`${file}: not an ONNX model (no graph)`);
  const dir = path.dirname(path.resolve(file));
  // The decoder saw every tensor: when none has external data there is nothing to check.
  if (external) {
    try {
      await checkExternalData(model, dir);
    } catch (e) {
      throw withPath(file, e);
    }
  }
  return { model, dir };
}

const OPTION_NAMES = new Set(["sourceDir", "externalData", "externalDataThreshold", "sync", "copy"]);

function checkOptions(options: object): WriteModelOptions {
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.has(key)) throw new TypeError(`writeModelFile: unknown option \`${key}\``);
  }
  const { sourceDir, externalData, externalDataThreshold, sync, copy } = options as WriteModelOptions;
  if (copy !== undefined && !(copy instanceof BackgroundCopy)) throw new TypeError("writeModelFile: `copy` must be what startBackgroundCopy returned");
  if (sync !== undefined && typeof sync !== "boolean") throw new TypeError("writeModelFile: `sync` must be true or false");
  if (sourceDir !== undefined && typeof sourceDir !== "string") throw new TypeError("writeModelFile: `sourceDir` must be a string");
  if (externalData !== undefined && typeof externalData !== "string") throw new TypeError("writeModelFile: `externalData` must be a string");
  if (externalDataThreshold !== undefined && !(Number.isSafeInteger(externalDataThreshold) && externalDataThreshold >= 0)) {
    throw new TypeError("writeModelFile: `externalDataThreshold` must be a whole number of bytes");
  }
  if (externalDataThreshold !== undefined && externalData === undefined) throw new TypeError("writeModelFile: `externalDataThreshold` needs `externalData`");
  return { sourceDir, externalData, externalDataThreshold, sync, copy };
}

/**
 * Encodes and writes a model atomically (temp file in the same folder, fsync with `sync`, rename), copying
 * weights still in their model file from there. External data referenced by the model is made
 * available to the output, or the weights are written to a data file of their own (see
 * WriteModelOptions).
 */
export async function writeModelFile(file: string, model: ModelProto, options: WriteModelOptions = {}): Promise<void> {
  const { sourceDir, externalData, externalDataThreshold, sync = false, copy } = checkOptions(options);
  // Whether the model refers to external data (it is moved anyway with `externalData`).
  const refersToData = externalData === undefined && externalDataRefs(model).length > 0;
  if (copy !== undefined) {
    // Only a model with its weights inside it, written the same way.
    if (externalData === undefined && !refersToData) {
      try {
        if (await writeOverCopy(copy, file, model, sync)) return;
      } catch (e) {
        throw withPath(file, e);
      }
    } else await copy.discard();
  }
  const flush = { sync };
  const outDir = path.dirname(path.resolve(file));
  let created: string[] = [];
  let data: { file: string; parts: Part[] } | undefined;
  try {
    if (externalData !== undefined) {
      const plan = await moveToExternalData(model, externalData, externalDataThreshold ?? EXTERNAL_THRESHOLD, sourceDir);
      model = plan.model;
      data = { file: path.join(outDir, externalData), parts: plan.data };
      await refuseSources(data.file, [...plan.data, ...encodeModelParts(model)], file);
    } else if (refersToData) {
      if (sourceDir === undefined) await checkExternalData(model, outDir);
      else {
        const relocated = await relocateExternalData(model, sourceDir, outDir);
        if (relocated.kept.size > 0) created = await placeExternalData(model, sourceDir, outDir, relocated.kept);
        model = relocated.model;
      }
    }
  } catch (e) {
    throw withPath(file, e);
  }
  const parts = encodeModelParts(model);
  // Both files are written in full before either is put in place: the data first, so the model
  // never refers to data that is not there yet.
  const temporary: string[] = [];
  try {
    if (data !== undefined) {
      await mkdir(path.dirname(data.file), { recursive: true });
      temporary.push(await writeTemporary(data.file, partsWriter(data.parts, sync), flush));
    }
    temporary.push(await writeTemporary(file, partsWriter(parts, sync), flush));
    if (data !== undefined) await commitTemporary(temporary.shift()!, data.file, flush);
    await commitTemporary(temporary.shift()!, file, flush);
  } catch (e) {
    await removeAll([...temporary, ...created]);
    throw e;
  }
}

/**
 * Writes `model` to a new hidden file in `dir`, the folder its weights were read from, with each
 * weight still in a model file there stored as a reference to it (external data pointing into that
 * file) instead of a copy: a file a runtime loads as it would the whole model, and writing it costs
 * a few megabytes whatever the weights. Returns its path; the caller removes it when done, and
 * must not change the files the weights are in meanwhile.
 */
export async function writeModelReference(model: ModelProto, dir: string): Promise<string> {
  const file = path.join(path.resolve(dir), `.intv-run-${process.pid}-${nodeCrypto().randomBytes(4).toString("hex")}.onnx`);
  await writeModelFile(file, referenceWeights(model, dir), { sourceDir: dir });
  return file;
}

/** Refuses a data file that would replace a file the model (or the data itself) is copied from. */
async function refuseSources(target: string, parts: readonly Part[], modelFile: string): Promise<void> {
  if (path.resolve(target) === path.resolve(modelFile)) throw new OnnxFormatError(`the external data file \`${path.basename(target)}\` is the model file itself`);
  const st = await stat(target, { bigint: true }).catch(() => undefined);
  if (st === undefined) return;
  for (const p of parts) {
    if (p instanceof FileRange && p.file.isFile(st)) {
      throw new OnnxFormatError(`the external data file \`${target}\` is a file the model's weights are read from; write it elsewhere`);
    }
  }
}
