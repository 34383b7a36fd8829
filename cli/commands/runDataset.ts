// `intv run ... --inputs DATA`: a dataset run. The lines are run in batches (--batch-size, --pad,
// --workers), every save and output is streamed to DIR as it is produced, and the run can be
// stopped (Ctrl-C, at a batch boundary) and continued (--resume). The work is runtime/dataset.ts;
// this file turns options into its arguments and prints progress and the summary.

import { statSync } from "node:fs";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { nodeCrypto, type Manifest } from "../../common/index.js";
import {
  DatasetError, Runtime, WorkerPool, datasetResults, isTensor, runDataset, runtimeRunner,
  type DatasetProgress, type DatasetRunner, type InputSpec, type InputValue, type LinesSpec,
  type RuntimeOptions, type ValueInfo, type WrittenResult,
} from "../../runtime/index.js";
import { UsageError, type ParsedArgs } from "../args.js";
import { DATASET_OPTIONS } from "./datasetOptions.js";
import { EXIT, Progress, type Io } from "../output.js";
import { formatSummary, type TensorSummary } from "../summary.js";

/** Where the compiled model comes from: a file, or the bytes just compiled. */
export type ModelSource =
  | { kind: "file"; path: string }
  | { kind: "bytes"; bytes: Uint8Array; script: string; externalDataDir: string; model: string };

interface Loaded {
  inputs: readonly InputSpec[];
  outputs: readonly ValueInfo[];
  manifest: Manifest | null;
  runner: DatasetRunner;
  release(): Promise<void>;
}

/** Whether any option given is one only a dataset run takes. */
export function datasetOptionGiven(args: ParsedArgs): string | undefined {
  return DATASET_OPTIONS.find((o) => ("value" in o ? args.string(o.name) !== undefined : args.flag(o.name)))?.name;
}

/** `--inputs` values: one FILE.jsonl, or NAME=FILE.npy / NAME=DIR (NAME may be left out for a one-input model). */
export function linesSpec(values: readonly string[], inputs: readonly InputSpec[], shared: ReadonlySet<string>): LinesSpec {
  const jsonl = values.filter((v) => !v.includes("=") && !/\.npy$/i.test(v) && !isDirSync(v));
  if (jsonl.length > 0) {
    if (values.length > 1) throw new UsageError("--inputs takes one FILE.jsonl, or one or more NAME=FILE.npy / NAME=DIR, not both");
    return { kind: "jsonl", path: jsonl[0]! };
  }
  const sources = values.map((v) => {
    const eq = v.indexOf("=");
    if (eq > 0) return { input: v.slice(0, eq), path: v.slice(eq + 1) };
    const open = inputs.filter((s) => s.kind === "input" && !s.optional && !shared.has(s.name));
    if (open.length !== 1) {
      throw new UsageError(`--inputs ${v}: say which input it is (NAME=${v}); the model takes ${inputs.filter((s) => s.kind === "input").map((s) => `\`${s.name}\``).join(", ")}`);
    }
    return { input: open[0]!.name, path: v };
  });
  const seen = new Set<string>();
  for (const s of sources) {
    if (seen.has(s.input)) throw new UsageError(`--inputs gives \`${s.input}\` twice`);
    seen.add(s.input);
  }
  return { kind: "arrays", sources };
}

/** A folder of .npy files, given without NAME=. */
function isDirSync(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export async function runDatasetCommand(
  io: Io, args: ParsedArgs, model: ModelSource, options: RuntimeOptions, shared: Record<string, InputValue>, progress: Progress,
  checkInputs: (inputs: readonly InputSpec[]) => void,
): Promise<number> {
  const batchSize = args.positiveInt("batch-size") ?? 1;
  const workers = args.positiveInt("workers");
  const outputs = !args.flag("saves-only");
  if (args.flag("pad") && batchSize === 1) throw new UsageError("--pad pads the lines of a batch: give --batch-size N too");

  progress.update("loading the model");
  const loaded = await load(model, options, workers, outputs);
  try {
    checkInputs(loaded.inputs);
    const spec = linesSpec(args.strings("inputs"), loaded.inputs, new Set(Object.keys(shared)));
    const results = datasetResults(loaded, { outputs });
    if (results.length === 0) throw new DatasetError("nothing to write: the script saves nothing and --saves-only leaves the model's outputs out");
    const identity = { model: await modelIdentity(model, loaded.manifest), shared: sharedIdentity(shared), outputs };

    // The first Ctrl-C stops after the running batch. The handler then goes, so that a second one
    // ends the process at once, even inside onnxruntime (the last checkpoint stays).
    const controller = new AbortController();
    const onSigint = (): void => {
      process.off("SIGINT", onSigint);
      controller.abort();
      progress.done();
      io.stderr.write("stopping after the running batch (Ctrl-C again to stop at once; the last checkpoint stays)\n");
    };
    process.on("SIGINT", onSigint);
    const line = progressLine();
    let result;
    try {
      result = await runDataset({
        inputs: loaded.inputs, results, runner: loaded.runner, lines: spec, shared, out: args.string("out")!,
        batchSize, pad: args.flag("pad"), check: !args.flag("no-verify"), resume: args.flag("resume"), identity,
        signal: controller.signal,
        onProgress: (p) => progress.update(line(p)),
      });
    } finally {
      process.off("SIGINT", onSigint);
    }
    progress.done();
    const summary = result.results.map(toSummary);
    if (args.flag("json")) {
      io.stdout.write(`${JSON.stringify({ out: args.string("out"), lines: result.lines, resumedFrom: result.resumedFrom, complete: result.complete, seconds: result.seconds, tensors: summary }, null, 2)}\n`);
    } else {
      io.stdout.write(formatSummary(summary));
    }
    if (!result.complete) {
      io.stderr.write(`interrupted after ${result.lines} lines, all written and checkpointed; continue with the same command and --resume\n`);
      return EXIT.interrupted;
    }
    return EXIT.ok;
  } finally {
    await loaded.release();
  }
}

async function load(model: ModelSource, options: RuntimeOptions, workers: number | undefined, outputs: boolean): Promise<Loaded> {
  const source = model.kind === "file" ? model.path : model.bytes;
  // --saves-only: onnxruntime loads the model without its outputs and skips what only they need.
  const runtimeOptions: RuntimeOptions = { ...options, ...(model.kind === "bytes" ? { externalDataDir: model.externalDataDir } : {}), ...(outputs ? {} : { savesOnly: true }) };
  if (workers !== undefined) {
    const pool = await WorkerPool.start(source, workers, { ...runtimeOptions, outputs });
    return { inputs: pool.inputs, outputs: pool.outputs, manifest: pool.manifest, runner: pool, release: () => pool.release() };
  }
  const runtime = await Runtime.load(source, runtimeOptions);
  return { inputs: runtime.inputs, outputs: runtime.outputs, manifest: runtime.manifest, runner: runtimeRunner(runtime, { outputs }), release: () => runtime.release() };
}

async function modelIdentity(model: ModelSource, manifest: Manifest | null): Promise<Record<string, unknown>> {
  if (model.kind === "file") {
    const info = await stat(model.path);
    return { path: resolve(model.path), size: info.size, mtimeMs: info.mtimeMs, sourceHash: manifest?.sourceHash ?? null };
  }
  const info = await stat(model.model);
  return { script: resolve(model.script), sourceHash: manifest?.sourceHash ?? null, model: resolve(model.model), size: info.size, mtimeMs: info.mtimeMs };
}

/** A hash of the values given once for every line. */
function sharedIdentity(shared: Record<string, InputValue>): string {
  const hash = nodeCrypto().createHash("sha256");
  for (const name of Object.keys(shared).sort()) {
    const v = shared[name]!;
    hash.update(`${name}\0`);
    if (isTensor(v)) hash.update(`${v.type}[${v.dims.join(",")}]`).update(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength));
    else hash.update(JSON.stringify(v, (_, x: unknown) => (typeof x === "bigint" ? x.toString() : x)));
  }
  return hash.digest("hex");
}

function toSummary(r: WrittenResult): TensorSummary {
  return { kind: r.kind, name: r.name, file: r.file, shape: r.dims, type: r.type, mean: r.mean, std: r.std, min: r.min, max: r.max, layout: r.layout, offsets: r.offsets };
}

/** Lines per second over the last half minute; the input's fraction read when the run started. */
class Rate {
  private readonly samples: { t: number; lines: number }[] = [];
  startFraction: number | null = null;

  add(t: number, lines: number): number {
    this.samples.push({ t, lines });
    while (this.samples.length > 2 && t - this.samples[0]!.t > 30_000) this.samples.shift();
    const first = this.samples[0]!;
    return t > first.t ? ((lines - first.lines) * 1000) / (t - first.t) : 0;
  }
}

/** The progress line's text for each report: `1,234/20,000 lines · 12.3 lines/s · ETA 24m10s · 2.9 GiB written`. */
export function progressLine(): (p: DatasetProgress) => string {
  const rate = new Rate();
  return (p) => describeProgress(p, rate);
}

function describeProgress(p: DatasetProgress, rate: Rate): string {
  const perSecond = rate.add(p.elapsedMs, p.linesThisRun);
  const lines = p.total === null ? `${p.lines.toLocaleString("en-US")} lines` : `${p.lines.toLocaleString("en-US")}/${p.total.toLocaleString("en-US")} lines`;
  let eta = "";
  if (perSecond > 0 && p.total !== null) eta = ` · ETA ${duration(((p.total - p.lines) / perSecond) * 1000)}`;
  else {
    rate.startFraction ??= p.fraction;
    const done = p.fraction - rate.startFraction;
    if (done > 0 && p.fraction < 1) eta = ` · ETA ${duration((p.elapsedMs * (1 - p.fraction)) / done)}`;
  }
  return `${lines} · ${perSecond.toFixed(perSecond < 10 ? 2 : 1)} lines/s${eta} · ${bytes(p.bytes)} written`;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

