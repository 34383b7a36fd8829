// A dataset run: every line of a dataset through the compiled model, in batches, with the results
// written as they come (streamWriter.ts) and a checkpoint after each batch that lets an
// interrupted run continue where it stopped.
//
// The loop: lines are read (lines.ts) and checked one by one, queued by the shape they can share
// a batch with (batching.ts), and a queue runs as a batch when it holds `batchSize` lines — or
// earlier, when its oldest line is a window of lines behind the newest, so that results can be
// written in line order with a bounded number held. Up to `runner.concurrency` batches run at once
// (worker threads, workers.ts); the results are written in line order while the next batch runs.
// Stopping (the signal: Ctrl-C) lets the running batches finish, writes them, and checkpoints.

import { DatasetError, batchKey, packBatch, planBatches, resultKey, unpackBatch, type BatchPlan, type Feeds, type ResultSpec } from "./batching.js";
import { RuntimeDiagnosticError, RuntimeInputError } from "./errors.js";
import { prepareInputs, type InputSpec, type InputValue } from "./inputs.js";
import { openLines, type Cursor, type Line, type LinesSpec } from "./lines.js";
import type { ValueInfo } from "./model-info.js";
import type { RunResult, Runtime } from "./runtime.js";
import { DatasetWriter, type WrittenResult } from "./streamWriter.js";
import { sameTensor } from "./tensorBox.js";
import type { Manifest, Tensor } from "../common/index.js";

/** Runs one batch (or one line) of inputs; several at once when `concurrency` > 1. */
export interface DatasetRunner {
  run(feeds: ReadonlyMap<string, Tensor>): Promise<RunResult>;
  readonly concurrency: number;
}

export interface DatasetProgress {
  /** Lines written, with those of the run this one resumes. */
  lines: number;
  /** Lines written by this process. */
  linesThisRun: number;
  /** Total lines when known ahead (arrays), else null. */
  total: number | null;
  /** Fraction of the input read (for a JSONL file, by bytes). */
  fraction: number;
  /** Bytes of data written by this process. */
  bytes: number;
  elapsedMs: number;
}

export interface RunDatasetOptions {
  /** What the model takes (`Runtime.inputs`). */
  inputs: readonly InputSpec[];
  /** What to write: saves and outputs, with their declared shapes. */
  results: readonly ResultSpec[];
  runner: DatasetRunner;
  lines: LinesSpec;
  /** Inputs and params given once for every line. */
  shared?: Readonly<Record<string, InputValue>>;
  /** The folder written. */
  out: string;
  /** Lines per `session.run` (default 1). */
  batchSize?: number;
  /** Pad lines of different lengths into one batch (the model needs an `attention_mask` input). */
  pad?: boolean;
  /** Check the first batch (and the first padded one) against per-line runs (default true). */
  check?: boolean;
  /** Continue the interrupted run in `out`. */
  resume?: boolean;
  /** What a resumed run must match (the model, options); the input's identity is added. */
  identity?: Record<string, unknown>;
  /** Stop at the next batch boundary when aborted. */
  signal?: AbortSignal;
  onProgress?: (progress: DatasetProgress) => void;
  /** The least time between two checkpoints (default 1000 ms; 0: after every batch). */
  checkpointMs?: number;
}

export interface DatasetResult {
  /** Lines written in all (with those of a resumed run). */
  lines: number;
  /** Lines the run this one resumed had written. */
  resumedFrom: number;
  /** False when stopped by the signal before the end of the input. */
  complete: boolean;
  results: WrittenResult[];
  /** Seconds this call took (the model's loading is not in it). */
  seconds: number;
}

interface Entry {
  line: Line;
  /** Every input fed, by graph input name (the line's own and the shared ones). */
  feeds: Map<string, Tensor>;
  /** The graph inputs the line itself gives. */
  own: Set<string>;
  key: string;
  result?: RunResult;
}

export async function runDataset(options: RunDatasetOptions): Promise<DatasetResult> {
  const { inputs, results, runner, out } = options;
  const batchSize = options.batchSize ?? 1;
  const shared = options.shared ?? {};
  const started = Date.now();
  const rank = (input: string): number | null => inputs.find((s) => s.input === input || s.name === input)?.shape?.length ?? null;

  // The input's identity is needed before the writer (a resumed run must read the same data), but
  // where to start reading is known only from the writer's checkpoint: open the input twice.
  const probe = await openLines(options.lines, null, rank);
  const identity = { ...options.identity, inputs: probe.identity };
  await probe.close();

  const { writer, cursor, complete } = await DatasetWriter.open(out, results, resultBatchAxes(inputs, results), identity, options.resume ?? false);
  const resumedFrom = writer.lines;
  if (complete) {
    await writer.close();
    return { lines: writer.lines, resumedFrom, complete: true, results: writer.results(), seconds: (Date.now() - started) / 1000 };
  }
  const source = await openLines(options.lines, cursor, rank);
  let plan: BatchPlan | null = null;
  let checked = { first: !(options.check ?? true), padded: !(options.check ?? true) };

  const queues = new Map<string, Entry[]>();
  const unwritten: Entry[] = []; // read, not yet written, in line order
  const running = new Set<Promise<void>>();
  let failure: unknown = null;
  /** A write failed: the files may hold part of a line, so no checkpoint may follow. */
  let writeFailed = false;
  let lastCheckpoint = Date.now();
  let lastCursor: Cursor = cursor;
  let writing: Promise<void> = Promise.resolve();
  let pendingWrites = 0;
  const window = Math.max(4 * batchSize, 2 * batchSize * runner.concurrency);
  let exhausted = false;

  const report = (): void => options.onProgress?.({
    lines: writer.lines, linesThisRun: writer.lines - resumedFrom, total: source.total, fraction: source.fraction(),
    bytes: writer.bytesWritten, elapsedMs: Date.now() - started,
  });

  /** Write the lines that are done, in order, after those being written. */
  const flush = (): void => {
    let n = 0;
    while (n < unwritten.length && unwritten[n]!.result) n++;
    if (n === 0) return;
    const ready = unwritten.splice(0, n);
    pendingWrites++;
    writing = writing.then(async () => {
      if (failure) return;
      await writer.write(ready.map((e) => ({ where: e.line.where, result: e.result! })));
      lastCursor = ready.at(-1)!.line.next;
      if (Date.now() - lastCheckpoint >= (options.checkpointMs ?? 1000)) {
        await writer.checkpoint(lastCursor);
        lastCheckpoint = Date.now();
      }
      report();
    }).catch((e: unknown) => {
      writeFailed = true;
      failure ??= e;
    }).finally(() => {
      pendingWrites--;
    });
  };

  const launch = (batch: Entry[]): void => {
    const task = runBatch(batch).then(flush, (e: unknown) => {
      failure ??= e;
    });
    running.add(task);
    void task.finally(() => running.delete(task));
  };

  const runBatch = async (batch: Entry[]): Promise<void> => {
    if (batch.length === 1 && !plan) {
      batch[0]!.result = await runLine(batch[0]!);
      return;
    }
    const { feeds, padded } = packBatch(plan!, batch.map((e) => e.feeds));
    let result: RunResult;
    try {
      result = await runner.run(feeds);
    } catch (e) {
      throw inBatch(e, batch);
    }
    const lines = unpackBatch(plan!, results, batch.map((e) => e.feeds), result);
    const check = batch.length > 1 && (!checked.first || (padded && !checked.padded));
    if (check) {
      checked = { first: true, padded: checked.padded || padded };
      await checkAgainstLines(batch, lines, padded);
    }
    batch.forEach((e, i) => (e.result = lines[i]!));
  };

  const runLine = async (e: Entry): Promise<RunResult> => {
    try {
      return await runner.run(e.feeds);
    } catch (err) {
      throw inBatch(err, [e]);
    }
  };

  /** Run each line of the batch alone and compare, byte for byte. */
  const checkAgainstLines = async (batch: Entry[], lines: RunResult[], padded: boolean): Promise<void> => {
    for (const [i, e] of batch.entries()) {
      const alone = await runLine(e);
      for (const r of results) {
        const a = (r.kind === "save" ? alone.saves : alone.outputs).get(r.name)!;
        const b = (r.kind === "save" ? lines[i]!.saves : lines[i]!.outputs).get(r.name)!;
        if (!sameTensor(a, b)) {
          throw new DatasetError(
            `${e.line.where}: ${r.kind} \`${r.name}\` differs between the batched run${padded ? " (padded)" : ""} and a run of the line alone` +
            ` (${firstDifference(a, b)}): the model or the script does not treat the lines of a batch independently` +
            `${padded ? " of their padding (a position counted from the end, a mean over the sequence)" : " (it mixes the examples of a batch)"}; ` +
            `run ${padded ? "without --pad" : "without --batch-size"}`,
          );
        }
      }
    }
  };

  /** A full queue's first batch; or, at the end of the input or when a window of lines is waiting, the oldest queue's. */
  const takeBatch = (): Entry[] | null => {
    let key: string | undefined;
    for (const [k, queue] of queues) if (queue.length >= batchSize) key ??= k;
    if (key === undefined && (exhausted || unwritten.length >= window)) {
      let oldest = Infinity;
      for (const [k, queue] of queues) {
        if (queue[0]!.line.index < oldest) {
          oldest = queue[0]!.line.index;
          key = k;
        }
      }
    }
    if (key === undefined) return null;
    const queue = queues.get(key)!;
    const batch = queue.splice(0, batchSize);
    if (queue.length === 0) queues.delete(key);
    return batch;
  };

  try {
    for (;;) {
      if (failure) break;
      const stopping = options.signal?.aborted ?? false;
      // Start what can start.
      while (!stopping && running.size < runner.concurrency) {
        const batch = takeBatch();
        if (!batch) break;
        launch(batch);
      }
      if (stopping || (exhausted && queues.size === 0)) break;
      if (running.size >= runner.concurrency || pendingWrites > 2 || exhausted || unwritten.length >= window) {
        if (running.size > 0) {
          await Promise.race(running);
          continue;
        }
        if (pendingWrites > 0) {
          await writing;
          continue;
        }
        if (exhausted) break;
      }
      // Read the next line.
      const line = await source.next();
      if (!line) {
        exhausted = true;
        continue;
      }
      const entry = prepare(line);
      if (!plan && batchSize > 1) plan = planBatches(inputs, results, entry.own, { pad: options.pad ?? false });
      entry.key = plan ? batchKey(plan, entry.feeds) : "";
      unwritten.push(entry);
      const queue = queues.get(entry.key) ?? [];
      queue.push(entry);
      queues.set(entry.key, queue);
    }
    await Promise.all(running);
    flush();
    await writing;
    if (failure) throw failure;
    const done = exhausted && queues.size === 0 && unwritten.length === 0;
    if (done && writer.lines === 0) throw new DatasetError("the input has no lines");
    await writer.checkpoint(lastCursor, done);
    report();
    return { lines: writer.lines, resumedFrom, complete: done, results: writer.results(), seconds: (Date.now() - started) / 1000 };
  } catch (e) {
    // Whatever was written in order before the failure stays, with a checkpoint saying so.
    await Promise.allSettled(running);
    await writing;
    if (!writeFailed) await writer.checkpoint(lastCursor).catch(() => undefined);
    throw e;
  } finally {
    await source.close();
    await writer.close();
  }

  function prepare(line: Line): Entry {
    const given: Record<string, InputValue> = { ...shared };
    for (const [name, value] of Object.entries(line.values)) {
      if (Object.prototype.hasOwnProperty.call(shared, name)) throw new DatasetError(`${line.where}: \`${name}\` is also given on the command line`);
      given[name] = value;
    }
    const { feeds, problems } = prepareInputs(inputs, given);
    if (problems.length > 0) throw new RuntimeInputError(problems.map((p) => `${line.where}: ${p}`));
    const own = new Set(Object.keys(line.values).map((n) => inputs.find((s) => s.name === n || s.input === n)?.input ?? n));
    return { line, feeds, own, key: "" };
  }
}

/** What a dataset run of a model writes: its saves (manifest order), then its outputs unless `outputs` is false. */
export function datasetResults(model: { manifest: Manifest | null; outputs: readonly ValueInfo[] }, options: { outputs?: boolean } = {}): ResultSpec[] {
  const saves = (model.manifest?.saves ?? []).map((s): ResultSpec => ({ kind: "save", name: s.name, elemType: s.elemType, shape: s.shape }));
  if (options.outputs === false) return saves;
  return [...saves, ...model.outputs.map((o): ResultSpec => ({ kind: "output", name: o.name, elemType: o.elemType, shape: o.shape }))];
}

/** A runtime as a dataset runner: one batch at a time in this thread. */
export function runtimeRunner(runtime: Runtime, options: { outputs?: boolean } = {}): DatasetRunner {
  return { concurrency: 1, run: (feeds) => runtime.run(Object.fromEntries(feeds), { outputs: options.outputs ?? true }) };
}

/** Each result's batch axis: where the model inputs' first (batch) symbol is in its shape, or -1. */
export function resultBatchAxes(inputs: readonly InputSpec[], results: readonly ResultSpec[]): Map<string, number> {
  const symbols = new Set(inputs.filter((s) => s.kind === "input").map((s) => s.shape?.[0]).filter((d) => typeof d === "string"));
  const symbol = symbols.size === 1 ? [...symbols][0] : undefined;
  const axes = new Map<string, number>();
  for (const r of results) {
    const at = (r.shape ?? []).flatMap((d, j) => (d === symbol ? [j] : []));
    axes.set(resultKey(r), symbol !== undefined && at.length === 1 ? at[0]! : -1);
  }
  return axes;
}

/** A failure of a batch, with the lines it held. */
function inBatch(e: unknown, batch: readonly Entry[]): unknown {
  const lines = batch.length === 1 ? batch[0]!.line.where : `${batch[0]!.line.where} … ${batch.at(-1)!.line.where} (a batch of ${batch.length} lines)`;
  if (e instanceof RuntimeInputError) return new RuntimeInputError(e.problems.map((p) => `${lines}: ${p}`));
  if (e instanceof RuntimeDiagnosticError) {
    return new RuntimeDiagnosticError(e.diagnostics.map((d) => ({ ...d, notes: [...(d.notes ?? []), `while running ${lines}`] })));
  }
  return e;
}

function firstDifference(a: Tensor, b: Tensor): string {
  if (a.dims.join() !== b.dims.join()) return `${a.type}[${a.dims.join(", ")}] alone, ${b.type}[${b.dims.join(", ")}] batched`;
  for (let i = 0; i < a.data.length; i++) {
    if (a.data[i] !== b.data[i] && !(Number.isNaN(a.data[i]) && Number.isNaN(b.data[i]))) {
      return `element ${i}: ${String(a.data[i])} alone, ${String(b.data[i])} batched`;
    }
  }
  return "NaN payloads differ";
}

export type { Feeds };
