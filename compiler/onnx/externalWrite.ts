// External data on the way out: where a written model's weights go when they are not inside it.
//
// - `moveToExternalData`: the weights go to one data file next to the output (`--external-data`):
//   every initializer whose `raw_data` has at least `threshold` bytes, and every tensor already
//   external in the input, is rewritten to point into that file, and the file's contents are listed
//   as parts (bytes, or ranges of the input files to copy). Each tensor starts at a multiple of
//   ALIGN bytes, so a runtime can map it into memory.
// - `relocateExternalData`: the input's external data stays where it is and the written model
//   refers to it: a location is rewritten relative to the output's folder when the file can be
//   reached from there without `..`; the others are left to `placeExternalData` (a hard link, or a
//   copy, next to the output).
//
// - `referenceWeights`: for a model written next to the file its weights were read from (a model
//   handed to a runtime, `intv run`), each weight still in that file becomes a reference to where
//   it is in it: external data whose location is the model file itself, at the offset of its
//   `raw_data`. The runtime reads the weights from there; nobody copies them.
//
// All rewrite copies of the messages on the way to a changed tensor; the caller's model is not
// changed.

import path from "node:path";
import { realpath } from "node:fs/promises";
import { OnnxFormatError } from "./errors.js";
import { checkExternalData, checkRef, externalDataRef, locationSegments, type FileFacts } from "./externalData.js";
import { FileRange, SourceFile } from "./fileRange.js";
import { MAX_DEPTH } from "./decode.js";
import { fieldsReaching, messageDesc, type MessageDesc } from "./schema.js";
import { DataLocation, elemBits, type ModelProto, type TensorProto } from "./types.js";
import type { Part } from "./fileRange.js";

/** Tensors in a data file start at multiples of this (a page: a runtime can map them). */
export const ALIGN = 4096;

/** The default `threshold`: smaller tensors stay inside the model (as `onnx.save` does). */
export const EXTERNAL_THRESHOLD = 1024;

export interface ExternalDataPlan {
  model: ModelProto;
  /** The data file's contents, in order. */
  data: Part[];
  /** Bytes in the data file. */
  size: number;
}

type Obj = Record<string, unknown>;

/**
 * A copy of `model` in which `map` has replaced tensors (it returns its argument to keep one);
 * only the messages on the way to a replaced tensor are copied. `initializer` says whether the
 * tensor is a graph's initializer (not an attribute's or a sparse tensor's).
 */
export function mapTensors(model: ModelProto, map: (t: TensorProto, initializer: boolean) => TensorProto): ModelProto {
  const tensorDesc = messageDesc("onnx.TensorProto");
  const graphDesc = messageDesc("onnx.GraphProto");
  const walk = (desc: MessageDesc, obj: Obj, depth: number, initializer: boolean): Obj => {
    if (depth > MAX_DEPTH) throw new OnnxFormatError(`messages nested deeper than ${MAX_DEPTH} levels`);
    if (desc === tensorDesc) return map(obj as TensorProto, initializer) as Obj;
    let copy: Obj | undefined;
    for (const f of fieldsReaching(desc, "onnx.TensorProto")) {
      const v = obj[f.name];
      if (v === undefined) continue;
      const init = desc === graphDesc && f.name === "initializer";
      let next: unknown = v;
      if (f.repeated) {
        const arr = v as Obj[];
        let out: Obj[] | undefined;
        for (let i = 0; i < arr.length; i++) {
          const el = walk(f.message!, arr[i]!, depth + 1, init);
          if (el !== arr[i]) (out ??= arr.slice())[i] = el;
        }
        if (out !== undefined) next = out;
      } else {
        next = walk(f.message!, v as Obj, depth + 1, init);
      }
      if (next !== v) (copy ??= { ...obj })[f.name] = next;
    }
    return copy ?? obj;
  };
  return walk(messageDesc("onnx.ModelProto"), model as Obj, 0, false) as ModelProto;
}

/** Checks the location given for a data file; throws a message that names it. */
export function checkDataLocation(location: string): void {
  const segments = locationSegments(location);
  if (!Array.isArray(segments)) throw new OnnxFormatError(`the external data file \`${location}\` ${segments.problem}`);
}

/**
 * The model with its weights moved to the data file `location` (relative to the output's folder).
 * External tensors of the input are found relative to `sourceDir` (checked as when reading).
 */
export async function moveToExternalData(model: ModelProto, location: string, threshold: number, sourceDir: string | undefined): Promise<ExternalDataPlan> {
  checkDataLocation(location);
  // The input's external files by location, checked and identified once each.
  const sources = new Map<string, { size: number; file: SourceFile }>();
  const inputRefs = sourceDir === undefined ? [] : await checkExternalData(model, sourceDir);
  const cache = new Map<string, FileFacts>();
  const files = new Map<string, SourceFile>();
  for (const ref of inputRefs) {
    if (sources.has(ref.location)) continue;
    const facts = await checkRef(ref, sourceDir!, cache);
    let file = files.get(facts.real);
    if (file === undefined) files.set(facts.real, (file = SourceFile.ofPath(facts.real)));
    sources.set(ref.location, { size: facts.size, file });
  }
  const data: Part[] = [];
  let size = 0;
  const place = (t: TensorProto, bytes: Part): TensorProto => {
    const pad = (ALIGN - (size % ALIGN)) % ALIGN;
    if (pad > 0) {
      data.push(new Uint8Array(pad));
      size += pad;
    }
    const offset = size;
    data.push(bytes);
    size += bytes.length;
    const { raw_data: _raw, external_data: old, data_location: _where, ...rest } = t;
    const checksum = old?.find((e) => e.key === "checksum");
    const entries = [
      { key: "location", value: location },
      { key: "offset", value: String(offset) },
      { key: "length", value: String(bytes.length) },
      ...(checksum ? [checksum] : []),
    ];
    return { ...rest, external_data: entries, data_location: DataLocation.EXTERNAL };
  };
  let pending: Error | undefined;
  const out = mapTensors(model, (t, initializer) => {
    if (pending) return t;
    const ref = externalDataRef(t);
    if (ref !== undefined) {
      if (sourceDir === undefined) {
        pending = new OnnxFormatError(`tensor \`${t.name ?? ""}\` has external data \`${ref.location}\`, but the folder the model was read from is not known (give \`sourceDir\`)`);
        return t;
      }
      const source = sources.get(ref.location)!;
      return place(t, new FileRange(source.file, ref.offset, ref.length ?? source.size - ref.offset));
    }
    if (initializer && t.raw_data !== undefined && t.raw_data.length >= threshold) return place(t, t.raw_data);
    return t;
  });
  if (pending) throw pending;
  return { model: out, data, size };
}

/**
 * The model with each external location rewritten to be relative to `toDir`, where the file it
 * names (relative to `fromDir`) can be reached from there without `..` and symlinks; and the
 * locations that cannot, kept as they were (placeExternalData links or copies those files next to
 * the output).
 */
export async function relocateExternalData(model: ModelProto, fromDir: string, toDir: string): Promise<{ model: ModelProto; kept: Set<string> }> {
  const [from, to] = [await realpath(fromDir), await realpath(toDir)];
  if (from === to) return { model, kept: new Set() };
  const rewritten = new Map<string, string>();
  for (const ref of await checkExternalData(model, fromDir)) {
    if (rewritten.has(ref.location)) continue;
    // No symlinks below `fromDir` (checked), so the file is the real folder plus the segments.
    const rel = path.relative(to, path.join(from, ...(locationSegments(ref.location) as string[])));
    const location = rel.split(path.sep).join("/");
    let usable = Array.isArray(locationSegments(location));
    if (usable) {
      try {
        await checkRef({ ...ref, location }, toDir, new Map());
      } catch {
        usable = false;
      }
    }
    rewritten.set(ref.location, usable ? location : ref.location);
  }
  const kept = new Set([...rewritten].filter(([was, now]) => was === now).map(([was]) => was));
  const out = mapTensors(model, (t) => {
    const ref = externalDataRef(t);
    const location = ref && rewritten.get(ref.location);
    if (!ref || location === undefined || location === ref.location) return t;
    return { ...t, external_data: (t.external_data ?? []).map((e) => (e.key === "location" ? { key: "location", value: location } : e)) };
  });
  return { model: out, kept };
}

/**
 * The model with every weight that is still in a file of folder `dir` (a FileRange) turned into an
 * external-data reference to that file and range, for a model written into `dir`. A tensor whose
 * bytes do not match its declared type and shape stays as it is (inline), so that a runtime
 * refuses it as it would the original model.
 */
export function referenceWeights(model: ModelProto, dir: string): ModelProto {
  const folder = path.resolve(dir);
  return mapTensors(model, (t) => {
    const range = t.raw_data;
    if (!(range instanceof FileRange) || path.dirname(range.file.path) !== folder) return t;
    if (declaredBytes(t) !== range.length) return t;
    const { raw_data: _raw, ...rest } = t;
    return {
      ...rest,
      external_data: [
        { key: "location", value: path.basename(range.file.path) },
        { key: "offset", value: String(range.offset) },
        { key: "length", value: String(range.length) },
      ],
      data_location: DataLocation.EXTERNAL,
    };
  });
}

/** The bytes a tensor's type and dims call for; undefined for types without a fixed width. */
function declaredBytes(t: TensorProto): number | undefined {
  const bits = elemBits(t.data_type ?? 0);
  if (bits === undefined) return undefined;
  let count = 1;
  for (const d of t.dims ?? []) count *= Number(d);
  return Math.ceil((count * bits) / 8);
}
