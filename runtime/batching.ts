// Batching: several lines of a dataset run as one `session.run`, and each line's results are cut
// back out of the batch's, so that what is written is what per-line runs would have written.
//
// Which axis is the batch axis, of every input and of every result, is read off the symbolic
// shapes: the model's inputs declare `input_ids: int64[batch, seq]`, and the manifest records each
// save's shape in the same symbols (`mlp[3]: float32[batch, seq, 768]`). The batch symbol is the
// first dimension of the inputs given per line. A result without it (a sum over the batch) cannot
// be split into lines, and batching is refused, naming it.
//
// Padding (`pad`): lines of different lengths share a batch, padded with zeros at the end of each
// axis that differs (`seq`), with the model's `attention_mask` input padded with zeros, so the
// model ignores the padding; every result is then cut back to the line's own length along each of
// its axes of that symbol. A result with a dimension that is not known, or without an axis of
// that symbol (a mean over the sequence, the last position), could have been computed from the
// padding, so padding is refused, naming it. The driver also checks the first batch of a run (and
// the first padded one) against per-line runs, byte for byte, which catches what shapes cannot
// show: a script that mixes the examples of a batch, or patches a position counted from the end.

import type { InputSpec } from "./inputs.js";
import type { RunResult } from "./runtime.js";
import { concatPadded, cutBox, sameTensor } from "./tensorBox.js";
import { describeTensor, type Dim, type Tensor } from "../common/index.js";

/** A dataset run cannot go on as asked (the message says why and what to do instead). */
export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatasetError";
  }
}

/** The model's name for the input that marks real tokens (1) and padding (0). */
export const ATTENTION_MASK = "attention_mask";

/** One result of a run: a save or a model output, with the shape the model declares for it. */
export interface ResultSpec {
  kind: "save" | "output";
  /** The save's name in the script, or the output's graph name. */
  name: string;
  elemType: string | null;
  shape: Dim[] | null;
}

/** One line's inputs, converted and checked: graph input name → tensor. */
export type Feeds = ReadonlyMap<string, Tensor>;

export interface BatchPlan {
  /** The symbol of the batch axis (`batch`). */
  batchSymbol: string;
  /** Graph input → its batch axis; -1 when it has none (then it is the same for every line). */
  inputAxes: ReadonlyMap<string, number>;
  /** Result key (`resultKey`) → its batch axis. */
  resultAxes: ReadonlyMap<string, number>;
  /** How lines of different lengths are padded; null when they are grouped by shape instead. */
  pad: PadPlan | null;
}

interface PadPlan {
  /** Graph input → its axes of padded symbols. */
  inputAxes: ReadonlyMap<string, readonly number[]>;
  /** Padded symbol → where a line's own size of it is read (a per-line input and its axis). */
  sizeFrom: ReadonlyMap<string, { input: string; axis: number }>;
  /** Result key → its axes of padded symbols. */
  resultAxes: ReadonlyMap<string, readonly { axis: number; symbol: string }[]>;
}

export const resultKey = (r: { kind: "save" | "output"; name: string }): string => `${r.kind}:${r.name}`;
const label = (r: ResultSpec): string => `${r.kind} \`${r.name}\``;
const describe = (shape: Dim[] | null, elemType: string | null): string =>
  `${elemType ?? "?"}[${shape === null ? "..." : shape.map((d) => (d === null ? "?" : String(d))).join(", ")}]`;

/**
 * The batch axis of every input and result, or a DatasetError saying why these lines cannot be
 * batched. `perLine` are the graph inputs the lines give (the others are the same for every line).
 */
export function planBatches(
  inputs: readonly InputSpec[], results: readonly ResultSpec[], perLine: ReadonlySet<string>, options: { pad: boolean },
): BatchPlan {
  const fed = inputs.filter((s) => perLine.has(s.input));
  const symbols = new Set(fed.map((s) => s.shape?.[0]));
  const batchSymbol = fed[0]?.shape?.[0];
  if (fed.length === 0) throw new DatasetError("batching needs inputs given per line; every input is given on the command line");
  if (symbols.size !== 1 || typeof batchSymbol !== "string") {
    const shown = fed.map((s) => `${s.kind} \`${s.name}\` is ${describe(s.shape, s.elemType)}`).join(", ");
    throw new DatasetError(`lines can be batched only when every input given per line has the same named first (batch) dimension; ${shown}`);
  }
  const axisOf = (shape: Dim[] | null): number => {
    const axes = (shape ?? []).flatMap((d, j) => (d === batchSymbol ? [j] : []));
    return axes.length === 1 ? axes[0]! : axes.length === 0 ? -1 : -2;
  };
  const inputAxes = new Map<string, number>();
  for (const s of inputs) {
    const axis = axisOf(s.shape);
    if (axis === -2) throw new DatasetError(`${s.kind} \`${s.name}\` (${describe(s.shape, s.elemType)}) has more than one \`${batchSymbol}\` axis; its lines cannot be batched`);
    inputAxes.set(s.input, axis);
  }
  const resultAxes = new Map<string, number>();
  const problems: string[] = [];
  for (const r of results) {
    const axis = r.shape === null ? -1 : axisOf(r.shape);
    if (axis < 0) {
      const why = r.shape === null ? "its shape is not known" : axis === -1 ? `it has no \`${batchSymbol}\` axis` : `it has more than one \`${batchSymbol}\` axis`;
      problems.push(`${label(r)} (${describe(r.shape, r.elemType)}): ${why}, so a batch's value cannot be split into its lines`);
    }
    resultAxes.set(resultKey(r), axis);
  }
  if (problems.length > 0) {
    throw new DatasetError(`lines cannot be batched:\n  ${problems.join("\n  ")}\nrun without --batch-size${results.some((r) => r.kind === "output") ? " (or with --saves-only, when the problem is a model output)" : ""}`);
  }
  return { batchSymbol, inputAxes, resultAxes, pad: options.pad ? planPadding(inputs, results, perLine, batchSymbol) : null };
}

function planPadding(inputs: readonly InputSpec[], results: readonly ResultSpec[], perLine: ReadonlySet<string>, batchSymbol: string): PadPlan {
  const mask = inputs.find((s) => s.input === ATTENTION_MASK || s.name === ATTENTION_MASK);
  if (!mask) {
    throw new DatasetError(`padding needs a model input \`${ATTENTION_MASK}\` (so that the model ignores the padding), and this model has none; without --pad, lines are grouped by shape instead`);
  }
  if (!perLine.has(mask.input)) {
    throw new DatasetError(`padding needs \`${ATTENTION_MASK}\` given per line (it is padded with zeros with the other inputs)`);
  }
  // The symbols to pad: every named dimension of the per-line inputs but the batch.
  const sizeFrom = new Map<string, { input: string; axis: number }>();
  const inputAxes = new Map<string, number[]>();
  for (const s of inputs) {
    if (!perLine.has(s.input)) continue;
    (s.shape ?? []).forEach((d, axis) => {
      if (typeof d !== "string" || d === batchSymbol) return;
      if (!sizeFrom.has(d)) sizeFrom.set(d, { input: s.input, axis });
      inputAxes.set(s.input, [...(inputAxes.get(s.input) ?? []), axis]);
    });
  }
  if (!mask.shape?.some((d) => typeof d === "string" && sizeFrom.has(d))) {
    throw new DatasetError(`padding needs \`${ATTENTION_MASK}\` to have the padded axis, but it is ${describe(mask.shape, mask.elemType)}`);
  }
  const problems: string[] = [];
  const resultAxes = new Map<string, { axis: number; symbol: string }[]>();
  for (const r of results) {
    if (r.shape === null || r.shape.some((d) => d === null)) {
      problems.push(`${label(r)} (${describe(r.shape, r.elemType)}): a dimension is not known, so intv cannot tell where padding would be`);
      continue;
    }
    const axes = r.shape.flatMap((d, axis) => (typeof d === "string" && sizeFrom.has(d) ? [{ axis, symbol: d }] : []));
    for (const symbol of sizeFrom.keys()) {
      if (!axes.some((a) => a.symbol === symbol)) {
        problems.push(`${label(r)} (${describe(r.shape, r.elemType)}) has no \`${symbol}\` axis, so it may have been computed from the padding (a mean over \`${symbol}\`, the last position)`);
      }
    }
    resultAxes.set(resultKey(r), axes);
  }
  if (problems.length > 0) {
    const outputs = results.some((r) => r.kind === "output") ? "; --saves-only leaves the model's outputs out" : "";
    throw new DatasetError(`lines cannot be padded:\n  ${problems.join("\n  ")}\nwithout --pad, lines of different lengths are grouped by shape instead${outputs}`);
  }
  return { inputAxes, sizeFrom, resultAxes };
}

/**
 * The key of lines that can share a batch: which inputs they give and their shapes, except the
 * batch axis (and the padded axes, when padding).
 */
export function batchKey(plan: BatchPlan, feeds: Feeds): string {
  const parts: string[] = [];
  for (const [name, t] of feeds) {
    const batch = plan.inputAxes.get(name) ?? -1;
    const padded = plan.pad?.inputAxes.get(name) ?? [];
    parts.push(`${name}:${t.type}[${t.dims.map((d, j) => (j === batch || padded.includes(j) ? "*" : String(d))).join(",")}]`);
  }
  return parts.join(" ");
}

/** The batch's inputs: each line's tensors concatenated along their batch axis (padded first). */
export function packBatch(plan: BatchPlan, lines: readonly Feeds[]): { feeds: Map<string, Tensor>; padded: boolean } {
  const feeds = new Map<string, Tensor>();
  let padded = false;
  for (const name of lines[0]!.keys()) {
    const parts = lines.map((l) => l.get(name)!);
    const axis = plan.inputAxes.get(name) ?? -1;
    if (axis < 0) {
      // Not batched: one value for every line (checked equal, or the batch would change its meaning).
      if (!parts.every((t) => sameTensor(t, parts[0]!))) {
        throw new DatasetError(`input \`${name}\` has no batch axis and differs between lines, so they cannot share a batch`);
      }
      feeds.set(name, parts[0]!);
      continue;
    }
    const dims = parts[0]!.dims.map((_, j) => Math.max(...parts.map((t) => t.dims[j]!)));
    if (parts.some((t) => t.dims.some((d, j) => j !== axis && d !== dims[j]))) padded = true;
    feeds.set(name, concatPadded(parts, axis, dims));
  }
  return { feeds, padded };
}

/** Each line's share of a batch's results, in line order, cut out of the batch's tensors. */
export function unpackBatch(plan: BatchPlan, results: readonly ResultSpec[], lines: readonly Feeds[], batch: RunResult): RunResult[] {
  const rows = lines.map((l) => batchRows(plan, l));
  const total = rows.reduce((a, b) => a + b, 0);
  const out: RunResult[] = lines.map(() => ({ saves: new Map(), outputs: new Map() }));
  for (const r of results) {
    const key = resultKey(r);
    const tensor = (r.kind === "save" ? batch.saves : batch.outputs).get(r.name);
    if (!tensor) continue;
    const axis = plan.resultAxes.get(key)!;
    if (tensor.dims[axis] !== total) {
      throw new DatasetError(`${label(r)} is ${describeTensor(tensor)} for a batch of ${total} rows, but its declared shape ${describe(r.shape, r.elemType)} has the batch at axis ${axis}; its lines cannot be batched (run without --batch-size)`);
    }
    let at = 0;
    lines.forEach((line, i) => {
      const start = tensor.dims.map(() => 0);
      const size = [...tensor.dims];
      start[axis] = at;
      size[axis] = rows[i]!;
      for (const { axis: j, symbol } of plan.pad?.resultAxes.get(key) ?? []) {
        const from = plan.pad!.sizeFrom.get(symbol)!;
        size[j] = line.get(from.input)!.dims[from.axis]!;
      }
      at += rows[i]!;
      (r.kind === "save" ? out[i]!.saves : out[i]!.outputs).set(r.name, cutBox(tensor, start, size));
    });
  }
  return out;
}

/** How many rows a line puts on the batch axis. */
function batchRows(plan: BatchPlan, line: Feeds): number {
  for (const [name, t] of line) {
    const axis = plan.inputAxes.get(name) ?? -1;
    if (axis >= 0) return t.dims[axis]!;
  }
  return 1;
}
