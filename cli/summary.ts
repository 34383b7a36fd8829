// The summary of a run: one row per save and output with shape, type and mean/std/min/max, as an
// aligned table for people or as data for `--json`.

import { toNumbers, type Tensor } from "../runtime/index.js";
import { formatTable } from "./output.js";

export interface TensorSummary {
  kind: "save" | "output";
  /** The save's name in the script, or the graph output's name. */
  name: string;
  /** The file it was written to, or null when nothing was written. */
  file: string | null;
  shape: number[];
  type: string;
  /** Statistics over all elements; null for an empty tensor (NaN when an element is NaN). */
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  /** A dataset run's layout (README.md, "Dataset runs"); absent for a single run. */
  layout?: "stacked" | "ragged";
  /** The ragged layout's offsets file. */
  offsets?: string | null;
}

export function summarize(kind: TensorSummary["kind"], name: string, file: string | null, tensor: Tensor): TensorSummary {
  const values = toNumbers(tensor);
  const base = { kind, name, file, shape: [...tensor.dims], type: tensor.type };
  if (values.length === 0) return { ...base, mean: null, std: null, min: null, max: null };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let nan = false;
  for (const v of values) {
    if (Number.isNaN(v)) nan = true;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  const std = Math.sqrt(squares / values.length);
  return nan ? { ...base, mean: NaN, std: NaN, min: NaN, max: NaN } : { ...base, mean, std, min, max };
}

export function formatSummary(rows: readonly TensorSummary[]): string {
  const header = ["name", "shape", "type", "mean", "std", "min", "max"];
  const body = rows.map((r) => [
    r.kind === "output" ? `output.${r.name}` : r.name,
    `[${r.shape.join(", ")}]${r.layout === "ragged" ? " ragged" : ""}`,
    r.type,
    formatNumber(r.mean),
    formatNumber(r.std),
    formatNumber(r.min),
    formatNumber(r.max),
  ]);
  return formatTable(header, body, [false, false, false, true, true, true, true]);
}

/** Five significant digits, no trailing zeros; `nan`, `inf` and `-inf` as NumPy prints them. */
export function formatNumber(x: number | null): string {
  if (x === null) return "-";
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (Number.isInteger(x) && Math.abs(x) < 1e6) return String(x);
  const s = x.toPrecision(5);
  const [mantissa, exponent] = s.split("e") as [string, string | undefined];
  const trimmed = mantissa.includes(".") ? mantissa.replace(/0+$/, "").replace(/\.$/, "") : mantissa;
  return exponent === undefined ? trimmed : `${trimmed}e${exponent}`;
}
