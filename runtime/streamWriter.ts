// The results of a dataset run, written as they are produced: one `.npy` file per save and model
// output, appended to line by line, with a checkpoint file that makes the run resumable.
//
// Layouts (README.md, "Dataset runs"):
// - stacked: while every line's result has the same shape `s`, `DIR/NAME.npy` is `[lines, *s]`,
//   line i being entry i (the results of a per-line run stacked along a new first axis);
// - ragged: when lines' results differ in the first axis after their batch axis (activations
//   `[1, seq_i, d]` of prompts of different lengths), `DIR/NAME.npy` is each line's result
//   without its batch axis (of size 1) concatenated along that axis, `[Σ seq_i, d]`, and
//   `DIR/NAME.offsets.npy` (int64 `[lines + 1]`) says where each line's rows start: line i is
//   `data[offsets[i]:offsets[i + 1]]`.
// The two layouts hold the same bytes: a save switches from stacked to ragged when its first line
// of a different length arrives, by rewriting its header and writing the offsets so far.
//
// Consistency: data is appended after each file's committed end; a checkpoint rewrites every
// header with the shape reached, flushes the files, and then replaces `DIR/.intv-run.json`
// (atomically) with the lengths written, the statistics and where the input continues. An
// interrupted run (Ctrl-C, a crash, a full disk) leaves files that hold at least the checkpoint's
// lines; a resumed run cuts them back to the checkpoint and continues from there.

import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { DatasetError, resultKey, type ResultSpec } from "./batching.js";
import type { Cursor } from "./lines.js";
import type { RunResult } from "./runtime.js";
import { NpyAppender, NpyError, describeTensor, writeAtomically, halfToNumber, isElemName, reservedHeaderBytes, type ElemName, type Tensor } from "../common/index.js";

export const STATE_FILE = ".intv-run.json";
const STATE_FORMAT = "intv-run/1";

/** `attn[3]` → `attn.3`, `first.mlp8` → `first.mlp8`; characters unsafe in file names become `_`. */
export function saveFileStem(name: string): string {
  return name.replace(/\[(-?\d+)\]/g, ".$1").replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_");
}

/** Each result's file stem (`mlp.3`, `output.logits`), made unique with `_2`, `_3`, … */
export function resultStems(results: readonly ResultSpec[]): string[] {
  const used = new Set<string>();
  return results.map((r) => {
    const stem = r.kind === "save" ? saveFileStem(r.name) : `output.${saveFileStem(r.name)}`;
    let name = stem;
    for (let k = 2; used.has(name); k++) name = `${stem}_${k}`;
    used.add(name);
    return name;
  });
}

export type Layout = "stacked" | "ragged";

/** Statistics over every element written (NaN when an element is NaN). */
export interface Stats {
  count: number;
  mean: number;
  /** Sum of squared differences from the mean. */
  m2: number;
  min: number;
  max: number;
  nan: boolean;
}

/** What a dataset run wrote for one save or output. */
export interface WrittenResult {
  kind: "save" | "output";
  name: string;
  /** The `.npy` file. */
  file: string;
  layout: Layout;
  /** The file's shape. */
  dims: number[];
  type: ElemName;
  /** The ragged layout's offsets file, or null. */
  offsets: string | null;
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
}

interface FileState {
  kind: "save" | "output";
  name: string;
  stem: string;
  type: ElemName;
  layout: Layout;
  /** The first line's shape. */
  lineDims: number[];
  /** Ragged: the shape of a line's rows after the first axis. */
  restDims: number[];
  headerBytes: number;
  dataBytes: number;
  /** Lines written. */
  lines: number;
  /** Ragged: rows written along the first axis. */
  rows: number;
  offsets: { headerBytes: number; dataBytes: number } | null;
  stats: Stats;
}

interface RunState {
  format: typeof STATE_FORMAT;
  identity: Record<string, unknown>;
  /** Lines written and checkpointed. */
  lines: number;
  cursor: Cursor;
  complete: boolean;
  files: FileState[];
}

/** One result's files being written. */
class ResultFile {
  data: NpyAppender | null = null;
  offsets: NpyAppender | null = null;

  constructor(readonly spec: ResultSpec, readonly state: FileState | null, readonly stem: string, readonly batchAxis: number) {}
}

export class DatasetWriter {
  private written = 0;

  private constructor(
    readonly dir: string,
    private readonly identity: Record<string, unknown>,
    private readonly files: ResultFile[],
    private lineCount: number,
  ) {}

  /**
   * Start writing into `dir`, or continue the interrupted run there (`resume`). `batchAxes`
   * gives each result's batch axis (`resultKey` → axis, -1 when unknown), which the ragged
   * layout drops. Returns the writer and where the input continues.
   */
  static async open(
    dir: string, results: readonly ResultSpec[], batchAxes: ReadonlyMap<string, number>, identity: Record<string, unknown>, resume: boolean,
  ): Promise<{ writer: DatasetWriter; cursor: Cursor; complete: boolean }> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw new DatasetError(`cannot create the output folder \`${dir}\`: ${(e as Error).message}`);
    }
    const previous = await readState(dir);
    const stems = resultStems(results);
    if (previous && resume) {
      const diff = identityDifference(previous.identity, identity);
      if (diff) {
        throw new DatasetError(`the run in \`${dir}\` was made with ${diff}; it cannot be resumed with these (choose another --out to start a new run)`);
      }
      const files: ResultFile[] = [];
      for (const [i, r] of results.entries()) {
        const saved = previous.files.find((f) => f.kind === r.kind && f.name === r.name) ?? null;
        const file = new ResultFile(r, saved, stems[i]!, batchAxes.get(resultKey(r)) ?? -1);
        if (saved) {
          file.data = await reopen(join(dir, `${saved.stem}.npy`), saved.type, saved.headerBytes, saved.dataBytes);
          if (saved.offsets) file.offsets = await reopen(join(dir, `${saved.stem}.offsets.npy`), "int64", saved.offsets.headerBytes, saved.offsets.dataBytes);
        }
        files.push(file);
      }
      const writer = new DatasetWriter(dir, identity, files, previous.lines);
      await writer.writeHeaders();
      return { writer, cursor: previous.cursor, complete: previous.complete };
    }
    if (previous && !previous.complete) {
      throw new DatasetError(
        `\`${dir}\` holds an interrupted run (${previous.lines} lines written); add --resume to continue it, ` +
        `or delete \`${join(dir, STATE_FILE)}\` (or choose another --out) to start over`,
      );
    }
    // A finished run's files are replaced; remove those this run will not write.
    for (const f of previous?.files ?? []) {
      await rm(join(dir, `${f.stem}.npy`), { force: true });
      await rm(join(dir, `${f.stem}.offsets.npy`), { force: true });
    }
    const files = results.map((r, i) => new ResultFile(r, null, stems[i]!, batchAxes.get(resultKey(r)) ?? -1));
    const writer = new DatasetWriter(dir, identity, files, 0);
    return { writer, cursor: { line: 0 }, complete: false };
  }

  /** Lines written so far (checkpointed or not). */
  get lines(): number {
    return this.lineCount;
  }

  /** Bytes of data written by this process. */
  get bytesWritten(): number {
    return this.written;
  }

  /** Append the results of the next lines, in order. */
  async write(lines: readonly { where: string; result: RunResult }[]): Promise<void> {
    for (const file of this.files) {
      const map = file.spec.kind === "save" ? "saves" : "outputs";
      const tensors = lines.map((l) => {
        const t = l.result[map].get(file.spec.name);
        if (!t) throw new Error(`internal error: no ${file.spec.kind} \`${file.spec.name}\` in a line's results (this is a bug in intv)`);
        return t;
      });
      await this.append(file, tensors, lines.map((l) => l.where));
    }
    this.lineCount += lines.length;
  }

  private async append(file: ResultFile, tensors: readonly Tensor[], where: readonly string[]): Promise<void> {
    const path = join(this.dir, `${file.stem}.npy`);
    if (!file.state) {
      const first = tensors[0]!;
      if (!isElemName(first.type)) throw new DatasetError(`${file.spec.kind} \`${file.spec.name}\` has element type ${String(first.type)}, which cannot be written as .npy`);
      const rest = raggedRest(first.dims, file.batchAxis);
      const headerBytes = reservedHeaderBytes(first.type, rest ? [first.dims, rest.slice(1)] : [first.dims]);
      file.data = await guard(() => NpyAppender.create(path, first.type, [0, ...first.dims], headerBytes));
      (file as { state: FileState }).state = {
        kind: file.spec.kind, name: file.spec.name, stem: file.stem, type: first.type, layout: "stacked",
        lineDims: [...first.dims], restDims: rest ? rest.slice(1) : [], headerBytes, dataBytes: 0, lines: 0, rows: 0, offsets: null,
        stats: { count: 0, mean: 0, m2: 0, min: Infinity, max: -Infinity, nan: false },
      };
    }
    const state = file.state!;
    const offsets: bigint[] = [];
    for (const [i, t] of tensors.entries()) {
      const lineNumber = this.lineCount + i + 1;
      const line = `line ${lineNumber} (${where[i]})`;
      if (t.type !== state.type) throw new DatasetError(`${line}: ${file.spec.kind} \`${file.spec.name}\` is ${describeTensor(t)}, but ${state.type} on line 1`);
      if (state.layout === "stacked" && !sameDims(t.dims, state.lineDims)) await this.becomeRagged(file, t, line);
      if (state.layout === "ragged") {
        const rest = raggedRest(t.dims, file.batchAxis);
        if (!rest || !sameDims(rest.slice(1), state.restDims)) throw new DatasetError(mismatch(file, t, line));
        state.rows += rest[0]!;
        offsets.push(BigInt(state.rows));
      }
      addStats(state.stats, t);
      state.lines++;
    }
    // Consecutive lines of one batch are adjacent in memory: one write each run of them.
    for (const run of contiguousRuns(tensors)) {
      await guard(() => file.data!.append(run));
      this.written += run.byteLength;
    }
    state.dataBytes = file.data!.dataBytes;
    if (offsets.length > 0) {
      await guard(() => file.offsets!.append(BigInt64Array.from(offsets)));
      state.offsets!.dataBytes = file.offsets!.dataBytes;
    }
  }

  /** Switch a result from the stacked to the ragged layout, when the line allows it. */
  private async becomeRagged(file: ResultFile, t: Tensor, line: string): Promise<void> {
    const state = file.state!;
    const before = raggedRest(state.lineDims, file.batchAxis);
    const now = raggedRest(t.dims, file.batchAxis);
    if (!before || !now || !sameDims(before.slice(1), now.slice(1))) throw new DatasetError(mismatch(file, t, line));
    const path = join(this.dir, `${file.stem}.offsets.npy`);
    const linesBefore = state.lines;
    const headerBytes = reservedHeaderBytes("int64", [[]]);
    file.offsets = await guard(() => NpyAppender.create(path, "int64", [0], headerBytes));
    // Offsets of the lines written so far: every one of them had `before[0]` rows.
    const CHUNK = 1 << 16;
    for (let k = 0; k <= linesBefore; k += CHUNK) {
      const n = Math.min(CHUNK, linesBefore + 1 - k);
      const chunk = new BigInt64Array(n);
      for (let j = 0; j < n; j++) chunk[j] = BigInt((k + j) * before[0]!);
      await guard(() => file.offsets!.append(chunk));
    }
    state.offsets = { headerBytes, dataBytes: file.offsets.dataBytes };
    state.layout = "ragged";
    state.restDims = before.slice(1);
    state.rows = linesBefore * before[0]!;
  }

  /** Rewrite every header with the shape written so far, flush, and record the state. */
  async checkpoint(cursor: Cursor, complete = false): Promise<void> {
    await this.writeHeaders();
    for (const f of this.files) {
      await guard(() => f.data?.sync() ?? Promise.resolve());
      await guard(() => f.offsets?.sync() ?? Promise.resolve());
    }
    const state: RunState = {
      format: STATE_FORMAT, identity: this.identity, lines: this.lineCount, cursor, complete,
      files: this.files.flatMap((f) => (f.state ? [f.state] : [])),
    };
    await guard(() => writeState(this.dir, state));
  }

  private async writeHeaders(): Promise<void> {
    for (const f of this.files) {
      const s = f.state;
      if (!s || !f.data) continue;
      await guard(() => f.data!.setShape(fileDims(s)));
      if (f.offsets) await guard(() => f.offsets!.setShape([f.offsets!.dataBytes / 8]));
    }
  }

  /** What was written, for the summary; after the last checkpoint. */
  results(): WrittenResult[] {
    return this.files.flatMap((f): WrittenResult[] => {
      const s = f.state;
      if (!s) return [];
      const empty = s.stats.count === 0;
      const nan = s.stats.nan;
      return [{
        kind: s.kind, name: s.name, file: join(this.dir, `${s.stem}.npy`), layout: s.layout,
        dims: fileDims(s), type: s.type,
        offsets: s.layout === "ragged" ? join(this.dir, `${s.stem}.offsets.npy`) : null,
        mean: empty ? null : nan ? NaN : s.stats.mean,
        std: empty ? null : nan ? NaN : Math.sqrt(s.stats.m2 / s.stats.count),
        min: empty ? null : nan ? NaN : s.stats.min,
        max: empty ? null : nan ? NaN : s.stats.max,
      }];
    });
  }

  async close(): Promise<void> {
    for (const f of this.files) {
      await f.data?.close();
      await f.offsets?.close();
    }
  }
}

/** A line's result without its batch axis (which must have size 1), or null when it has none. */
function raggedRest(dims: readonly number[], batchAxis: number): number[] | null {
  if (batchAxis < 0 || batchAxis >= dims.length || dims[batchAxis] !== 1 || dims.length < 2) return null;
  return dims.filter((_, j) => j !== batchAxis);
}

function mismatch(file: ResultFile, t: Tensor, line: string): string {
  const s = file.state!;
  const first = `${s.type}[${s.lineDims.join(", ")}]`;
  const why = file.batchAxis < 0
    ? "and intv cannot tell which of its axes is the batch axis, so they cannot be written in the ragged layout"
    : "; lines may differ only in the first axis after the batch axis (of size 1), where they are written in the ragged layout";
  return `${line}: ${file.spec.kind} \`${file.spec.name}\` is ${describeTensor(t)}, but ${first} on line 1${why.startsWith(";") ? why : ` ${why}`}`;
}

function fileDims(s: FileState): number[] {
  return s.layout === "stacked" ? [s.lines, ...s.lineDims] : [s.rows, ...s.restDims];
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, j) => d === b[j]);
}

/** The tensors' data as few arrays as possible: adjacent views of one buffer joined. */
function contiguousRuns(tensors: readonly Tensor[]): Tensor["data"][] {
  const runs: Tensor["data"][] = [];
  let start: Tensor["data"] | null = null;
  let length = 0;
  for (const t of tensors) {
    const d = t.data;
    if (start && d.buffer === start.buffer && d.byteOffset === start.byteOffset + length * start.BYTES_PER_ELEMENT) {
      length += d.length;
      continue;
    }
    if (start) runs.push(view(start, length));
    start = d;
    length = d.length;
  }
  if (start) runs.push(view(start, length));
  return runs;
}

function view(first: Tensor["data"], length: number): Tensor["data"] {
  const Ctor = first.constructor as new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Tensor["data"];
  return new Ctor(first.buffer, first.byteOffset, length);
}

/** Merge a line's elements into the running statistics (Chan et al.'s pairwise update). */
function addStats(s: Stats, t: Tensor): void {
  const n = t.data.length;
  if (n === 0) return;
  const at = elementReader(t);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = at(i);
    if (Number.isNaN(v)) s.nan = true;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const d = at(i) - mean;
    m2 += d * d;
  }
  const total = s.count + n;
  const delta = mean - s.mean;
  s.mean = s.count === 0 ? mean : s.mean + (delta * n) / total;
  s.m2 = s.count === 0 ? m2 : s.m2 + m2 + (delta * delta * s.count * n) / total;
  s.count = total;
  if (min < s.min) s.min = min;
  if (max > s.max) s.max = max;
}

function elementReader(t: Tensor): (i: number) => number {
  const d = t.data;
  if (t.type === "float16") return (i) => halfToNumber((d as Uint16Array)[i]!);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return (i) => Number(d[i]!);
  const a = d as Float64Array;
  return (i) => a[i]!;
}

// ---------------------------------------------------------------------------------------------
// The checkpoint file

async function readState(dir: string): Promise<RunState | null> {
  let text: string;
  try {
    text = await readFile(join(dir, STATE_FILE), "utf8");
  } catch {
    return null;
  }
  let state: RunState;
  try {
    state = JSON.parse(text, (_, v: unknown) => (typeof v === "string" && NON_FINITE.has(v) ? NON_FINITE.get(v) : v)) as RunState;
  } catch (e) {
    throw new DatasetError(`\`${join(dir, STATE_FILE)}\` is not readable (${(e as Error).message}); delete it to start over`);
  }
  if (state.format !== STATE_FORMAT) throw new DatasetError(`\`${join(dir, STATE_FILE)}\` is not an intv run state (format \`${String(state.format)}\`)`);
  return state;
}

const NON_FINITE = new Map<string, number>([["@inf", Infinity], ["@-inf", -Infinity], ["@nan", NaN]]);

async function writeState(dir: string, state: RunState): Promise<void> {
  const text = JSON.stringify(state, (_, v: unknown) => {
    if (typeof v !== "number" || Number.isFinite(v)) return v;
    return Number.isNaN(v) ? "@nan" : v > 0 ? "@inf" : "@-inf";
  }, 1);
  const path = join(dir, STATE_FILE);
  try {
    // Flushed, as the data files were before it: the checkpoint a resume trusts must survive a power failure.
    await writeAtomically(path, text, { sync: true });
  } catch (e) {
    throw new NpyError(`${path}: cannot write file (${(e as NodeJS.ErrnoException).code === "ENOSPC" ? "no space left on the device" : (e as Error).message})`);
  }
}

/** What differs between a recorded run and this one (a phrase), or null. */
function identityDifference(before: Record<string, unknown>, now: Record<string, unknown>): string | null {
  const keys = new Set([...Object.keys(before), ...Object.keys(now)]);
  const differ = [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(now[k]));
  if (differ.length === 0) return null;
  const words: Record<string, string> = { model: "another model", inputs: "other inputs", shared: "other --input/--param values", outputs: "another choice of outputs" };
  return differ.map((k) => words[k] ?? `another ${k}`).join(", ");
}

async function reopen(path: string, type: ElemName, headerBytes: number, dataBytes: number): Promise<NpyAppender> {
  return guard(() => NpyAppender.reopen(path, type, headerBytes, dataBytes));
}

/** File errors as DatasetErrors, so the command line prints them as messages. */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof NpyError) throw new DatasetError(e.message);
    throw e;
  }
}
