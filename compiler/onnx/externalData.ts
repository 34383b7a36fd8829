// External data: tensors whose bytes live in a file next to the model (models over 2 GiB, where
// protobuf cannot hold the weights). The model keeps only the reference (`external_data` entries
// `location`, `offset`, `length`, `checksum`); we check that each reference is safe and resolvable,
// and never load the data unless asked to.
//
// Safe means: a relative path, no `..` segment, inside the model's folder, no symlink anywhere on
// the way (a symlink could point anywhere, and a compiled model is often shipped elsewhere), a
// regular file long enough for offset + length. The SHA-1 `checksum` is kept but not verified
// (that would read every weight byte).

import { constants } from "node:fs";
import { copyFile, link, lstat, mkdir, open, realpath, rm, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { OnnxFormatError } from "./errors.js";
import { MAX_DEPTH } from "./decode.js";
import { keptEncoding } from "./keptEncoding.js";
import { fieldsReaching, messageDesc, type MessageDesc } from "./schema.js";
import { DataLocation, type ModelProto, type TensorProto } from "./types.js";

/** One tensor's parsed external-data reference. */
export interface ExternalDataRef {
  readonly tensor: TensorProto;
  readonly location: string;
  readonly offset: number;
  /** `undefined` when the data runs to the end of the file. */
  readonly length: number | undefined;
}

function tensorLabel(t: TensorProto): string {
  return t.name ? `tensor \`${t.name}\`` : "an unnamed tensor";
}

function refError(t: TensorProto, location: string, problem: string): OnnxFormatError {
  return new OnnxFormatError(`${tensorLabel(t)}: external data \`${location}\` ${problem}`);
}

/**
 * Every TensorProto in the model (graph, subgraphs, functions, training info, attributes), but
 * those inside a message for which `skip` says true.
 */
export function forEachTensor(model: ModelProto, visit: (t: TensorProto) => void, skip?: (desc: MessageDesc, obj: object) => boolean): void {
  const tensorDesc = messageDesc("onnx.TensorProto");
  const walk = (desc: MessageDesc, obj: Record<string, unknown>, depth: number): void => {
    if (depth > MAX_DEPTH) throw new OnnxFormatError(`messages nested deeper than ${MAX_DEPTH} levels`);
    if (skip?.(desc, obj) === true) return;
    if (desc === tensorDesc) visit(obj as TensorProto);
    for (const f of fieldsReaching(desc, "onnx.TensorProto")) {
      const v = obj[f.name];
      if (v === undefined) continue;
      if (f.repeated) for (const el of v as Record<string, unknown>[]) walk(f.message!, el, depth + 1);
      else walk(f.message!, v as Record<string, unknown>, depth + 1);
    }
  };
  walk(messageDesc("onnx.ModelProto"), model as Record<string, unknown>, 0);
}

function parseCount(t: TensorProto, location: string, key: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw refError(t, location, `has ${key} \`${value}\`, not a non-negative integer`);
  return n;
}

/** Parses a tensor's `external_data` entries; `undefined` when its data is not external. */
export function externalDataRef(t: TensorProto): ExternalDataRef | undefined {
  if (t.data_location !== DataLocation.EXTERNAL) return undefined;
  const entries = new Map<string, string>();
  for (const e of t.external_data ?? []) entries.set(e.key ?? "", e.value ?? "");
  const location = entries.get("location");
  if (location === undefined) throw new OnnxFormatError(`${tensorLabel(t)}: data_location is EXTERNAL but external_data has no \`location\``);
  const offset = parseCount(t, location, "offset", entries.get("offset")) ?? 0;
  const length = parseCount(t, location, "length", entries.get("length"));
  return { tensor: t, location, offset, length };
}

/**
 * All external references of the model, in tensor order. Nodes that keep the bytes they were read
 * from are stepped over (a compiled model's nodes, nearly all of them: walking their attributes
 * was 9 ms of every compile): the decoder keeps none that has an external tensor
 * (decode.ts readKeptNode), and a kept node is frozen.
 */
export function externalDataRefs(model: ModelProto): ExternalDataRef[] {
  const refs: ExternalDataRef[] = [];
  const nodeDesc = messageDesc("onnx.NodeProto");
  forEachTensor(
    model,
    (t) => {
      const ref = externalDataRef(t);
      if (ref !== undefined) refs.push(ref);
    },
    (desc, obj) => desc === nodeDesc && keptEncoding(obj) !== undefined,
  );
  return refs;
}

/**
 * The path segments of a location relative to the model folder, or what is wrong with it (the
 * string-level checks: relative, no `..`, names a file).
 */
export function locationSegments(location: string): string[] | { problem: string } {
  if (location === "") return { problem: "is empty" };
  if (location.includes("\0")) return { problem: "contains a NUL character" };
  if (path.posix.isAbsolute(location) || path.win32.isAbsolute(location)) return { problem: "is an absolute path; it must be relative to the model's folder" };
  const segments = location.split(/[\\/]/);
  if (segments.includes("..")) return { problem: "has a `..` segment; it must stay inside the model's folder" };
  const kept = segments.filter((s) => s !== "" && s !== ".");
  if (kept.length === 0) return { problem: "does not name a file" };
  return kept;
}

function refSegments(ref: ExternalDataRef): string[] {
  const segments = locationSegments(ref.location);
  if (!Array.isArray(segments)) throw refError(ref.tensor, ref.location, segments.problem);
  return segments;
}

export interface FileFacts {
  size: number;
  real: string;
}

/** lstat every component from `dir` down: each must exist and none may be a symlink. */
async function checkFile(ref: ExternalDataRef, dir: string, cache: Map<string, FileFacts>): Promise<FileFacts> {
  const segments = refSegments(ref);
  const key = segments.join("/");
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const { tensor: t, location } = ref;
  let cur = dir;
  for (let i = 0; i < segments.length; i++) {
    cur = path.join(cur, segments[i]!);
    let st;
    try {
      st = await lstat(cur);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw refError(t, location, code === "ENOENT" || code === "ENOTDIR" ? `does not exist (looked for ${cur})` : `cannot be read (${code ?? String(e)})`);
    }
    if (st.isSymbolicLink()) throw refError(t, location, `goes through a symlink (${cur}); symlinks are not followed`);
    if (i === segments.length - 1 && !st.isFile()) throw refError(t, location, `is not a regular file (${cur})`);
    if (i === segments.length - 1) {
      const facts = { size: st.size, real: cur };
      cache.set(key, facts);
      return facts;
    }
  }
  throw refError(t, location, "does not name a file");
}

export async function checkRef(ref: ExternalDataRef, dir: string, cache: Map<string, FileFacts>): Promise<FileFacts> {
  const facts = await checkFile(ref, dir, cache);
  const end = ref.offset + (ref.length ?? 0);
  if (end > facts.size) {
    const want = ref.length === undefined ? `offset ${ref.offset}` : `offset ${ref.offset} + length ${ref.length} = ${end}`;
    throw refError(ref.tensor, ref.location, `is too short: ${want} but the file has ${facts.size} bytes`);
  }
  return facts;
}

/**
 * Checks every external-data reference of `model` against the folder `dir` it was read from (or
 * will be written to). Throws an OnnxFormatError naming the tensor and the location.
 */
export async function checkExternalData(model: ModelProto, dir: string): Promise<ExternalDataRef[]> {
  const refs = externalDataRefs(model);
  const cache = new Map<string, FileFacts>();
  for (const ref of refs) await checkRef(ref, dir, cache);
  return refs;
}

/** Reads the bytes of an external tensor (for callers that need the data itself). */
export async function loadExternalTensorData(tensor: TensorProto, dir: string): Promise<Uint8Array> {
  const ref = externalDataRef(tensor);
  if (ref === undefined) throw new OnnxFormatError(`${tensorLabel(tensor)}: its data is not external (data_location is not EXTERNAL)`);
  const facts = await checkRef(ref, dir, new Map());
  const length = ref.length ?? facts.size - ref.offset;
  const out = new Uint8Array(length);
  const fh = await open(facts.real, "r");
  try {
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(out, done, length - done, ref.offset + done);
      if (bytesRead === 0) throw refError(tensor, ref.location, `ended early (file changed while reading?)`);
      done += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return out;
}

async function sameContent(a: string, b: string): Promise<boolean> {
  const [fa, fb] = [await open(a, "r"), await open(b, "r")];
  try {
    const [sa, sb] = [await fa.stat(), await fb.stat()];
    if (sa.dev === sb.dev && sa.ino === sb.ino) return true;
    if (sa.size !== sb.size) return false;
    const size = 1 << 20;
    const [ba, bb] = [new Uint8Array(size), new Uint8Array(size)];
    for (let pos = 0; pos < sa.size; pos += size) {
      const n = Math.min(size, sa.size - pos);
      await readExactly(fa, ba, n, pos);
      await readExactly(fb, bb, n, pos);
      if (Buffer.compare(ba.subarray(0, n), bb.subarray(0, n)) !== 0) return false;
    }
    return true;
  } finally {
    await fa.close();
    await fb.close();
  }
}

async function readExactly(fh: FileHandle, buf: Uint8Array, n: number, pos: number): Promise<void> {
  let done = 0;
  while (done < n) {
    const { bytesRead } = await fh.read(buf, done, n - done, pos + done);
    if (bytesRead === 0) throw new Error(`file shrank while being compared`);
    done += bytesRead;
  }
}

/**
 * Makes the external data of `model`, read from `fromDir`, available next to a model written to
 * `toDir`: each referenced file is hard-linked there (copied when linking fails, e.g. across file
 * systems). An existing file with the same content is kept; a different one is never overwritten.
 * Returns the files it created, so a failed write can remove them. `only`, when given, picks the
 * locations to place (the others are reachable already).
 */
export async function placeExternalData(model: ModelProto, fromDir: string, toDir: string, only?: ReadonlySet<string>): Promise<string[]> {
  const refs = (await checkExternalData(model, fromDir)).filter((r) => only === undefined || only.has(r.location));
  if (refs.length === 0) return [];
  const [from, to] = [await realpath(fromDir), await realpath(toDir)];
  if (from === to) return [];
  const created: string[] = [];
  const done = new Set<string>();
  try {
    for (const ref of refs) {
      const rel = refSegments(ref).join(path.sep);
      if (done.has(rel)) continue;
      done.add(rel);
      const src = path.join(from, rel);
      const dst = path.join(to, rel);
      if (await placeOne(ref, src, dst)) created.push(dst);
    }
  } catch (e) {
    await removeAll(created);
    throw e;
  }
  return created;
}

/** Links or copies `src` to `dst`; false when an identical file was already there. */
async function placeOne(ref: ExternalDataRef, src: string, dst: string): Promise<boolean> {
  await mkdir(path.dirname(dst), { recursive: true });
  const existing = await lstat(dst).catch(() => undefined);
  if (existing !== undefined) {
    if (!existing.isSymbolicLink() && existing.isFile() && (await sameContent(src, dst))) return false;
    throw refError(ref.tensor, ref.location, `cannot be placed next to the written model: ${dst} already exists with different content`);
  }
  try {
    await link(src, dst);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return placeOne(ref, src, dst);
    // Hard links fail across file systems (EXDEV) and on some (EPERM, ENOTSUP): copy instead.
    await copyFile(src, dst, constants.COPYFILE_EXCL);
  }
  return true;
}

export async function removeAll(files: readonly string[]): Promise<void> {
  for (const f of files) await rm(f, { force: true }).catch(() => undefined);
}
