// Reading and writing model files. Reading checks everything a later stage would trip over (not
// protobuf, not a model, unsafe or missing external data) and reports it as one OnnxFormatError
// whose message starts with the path. Writing is atomic: a crash or error never leaves a
// half-written model where a good one was.

import { randomBytes } from "node:crypto";
import { open, readFile, rename, rm, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { decodeModel } from "./decode.js";
import { encodeModelChunks } from "./encode.js";
import { OnnxFormatError } from "./errors.js";
import { checkExternalData, externalDataRefs, placeExternalData, removeAll } from "./externalData.js";
import type { ModelProto } from "./types.js";

export interface ReadModelResult {
  model: ModelProto;
  /** The file's bytes; every `bytes` field of `model` is a view into them. */
  bytes: Uint8Array;
  /** Absolute path of the folder the model was read from (external data is relative to it). */
  dir: string;
}

export interface WriteModelOptions {
  /**
   * The folder the model's external data is relative to (where it was read from). When it is not
   * the output folder, each referenced file is hard-linked (or copied) next to the output.
   * Defaults to the output folder, which must then already hold the data.
   */
  sourceDir?: string;
}

function withPath(file: string, e: unknown): unknown {
  return e instanceof OnnxFormatError ? new OnnxFormatError(`${file}: ${e.message}`, e.offset) : e;
}

/** Reads, decodes and checks a model file. */
export async function readModelFile(file: string): Promise<ReadModelResult> {
  let st;
  try {
    st = await stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OnnxFormatError(code === "ENOENT" || code === "ENOTDIR" ? `${file}: no such file` : `${file}: cannot read (${code ?? String(e)})`);
  }
  if (!st.isFile()) throw new OnnxFormatError(`${file}: not a file`);
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ERR_FS_FILE_TOO_LARGE") throw new OnnxFormatError(`${file}: not an ONNX model (over 2 GiB, which protobuf cannot hold)`);
    throw new OnnxFormatError(`${file}: cannot read (${code ?? String(e)})`);
  }
  // A plain Uint8Array over the same memory, so views handed out are not Buffers.
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    if (e instanceof OnnxFormatError) throw new OnnxFormatError(`${file}: not a valid ONNX model: ${e.message}`, e.offset);
    throw e;
  }
  if (model.graph === undefined) throw new OnnxFormatError(`${file}: not an ONNX model (no graph)`);
  const dir = path.dirname(path.resolve(file));
  try {
    await checkExternalData(model, dir);
  } catch (e) {
    throw withPath(file, e);
  }
  return { model, bytes, dir };
}

function checkOptions(options: object): WriteModelOptions {
  for (const key of Object.keys(options)) {
    if (key !== "sourceDir") throw new TypeError(`writeModelFile: unknown option \`${key}\``);
  }
  const { sourceDir } = options as WriteModelOptions;
  if (sourceDir !== undefined && typeof sourceDir !== "string") throw new TypeError("writeModelFile: `sourceDir` must be a string");
  return { sourceDir };
}

/**
 * Encodes and writes a model atomically (temp file in the same folder, fsync, rename). External
 * data referenced by the model is made available next to the output (see WriteModelOptions).
 */
export async function writeModelFile(file: string, model: ModelProto, options: WriteModelOptions = {}): Promise<void> {
  const { sourceDir } = checkOptions(options);
  const chunks = encodeModelChunks(model);
  const outDir = path.dirname(path.resolve(file));
  let created: string[] = [];
  try {
    if (externalDataRefs(model).length > 0) {
      if (sourceDir === undefined) await checkExternalData(model, outDir);
      else created = await placeExternalData(model, sourceDir, outDir);
    }
  } catch (e) {
    throw withPath(file, e);
  }
  try {
    await writeAtomically(file, chunks);
  } catch (e) {
    await removeAll(created);
    throw e;
  }
}

async function writeAtomically(file: string, chunks: readonly Uint8Array[]): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.intv-tmp-${path.basename(file)}-${process.pid}-${randomBytes(4).toString("hex")}`);
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, "wx");
    for (const chunk of chunks) {
      let done = 0;
      while (done < chunk.length) {
        const { bytesWritten } = await fh.write(chunk, done, chunk.length - done);
        done += bytesWritten;
      }
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, file);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  // Make the rename itself durable; not every platform can fsync a directory, and the file is
  // complete either way.
  try {
    const d = await open(dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // best effort
  }
}
