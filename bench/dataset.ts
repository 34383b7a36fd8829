// Dataset runs at scale: examples of 64 tokens through the GPT-2-small-shaped model with 12 saves
// (`save mlp[l] = transformer.h[l].mlp.output`), every activation written to disk.
//
// - throughput: `intv run --inputs ids.npy --batch-size B --saves-only` for B = 1 (per line), 8,
//   32, 128, each against the PyTorch loop a hook-based tool runs at the same batch size (forward
//   hooks on the 12 MLPs, the activations written to .npy files: tools/bench/torch_dataset.py),
//   over the whole model and stopped after the last save (no lm_head, which intv's --saves-only
//   leaves out of the graph), alternating;
//   and B = 32 over `--workers 2` (one onnxruntime thread each) against one session of 2 threads;
// - memory: peak resident memory of the whole `intv run` process at two numbers of examples.
//
// Every command runs in its own process under /usr/bin/time -v. Examples per second count the
// run itself (intv's `seconds` in its --json summary, the PyTorch script's own timer), not the
// loading of the model, which both do once per job. The first-batch check is off (--no-verify):
// it costs one batch of per-line runs, once per job.

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { writeNpy } from "../runtime/index.js";
import { CLI, MODEL, PYTHON, ROOT, WORK } from "./paths.js";
import { measureProcess } from "./processes.js";
import { SAVES_12 } from "./scripts.js";
import { torchEnv } from "./torch.js";

export const SEQ = 64;

export interface DatasetRow {
  /** torch-head: PyTorch stopped after the last save (model.transformer, no lm_head). */
  engine: "intv" | "torch" | "torch-head";
  batch: number;
  /** onnxruntime sessions (`--workers`); 0 for one session in the main thread. */
  workers: number;
  examples: number;
  /** The run without the model's loading. */
  seconds: number;
  perSecond: number;
  wallMs: number;
  peakRssBytes: number;
  /** intv with `--no-spin`. */
  noSpin?: boolean;
  error?: string;
}

export interface DatasetResult {
  /** When the part ran, and the machine's load average (1, 5, 15 min) before and after. */
  started: string;
  minutes: number;
  loadBefore: number[];
  loadAfter: number[];
  rows: DatasetRow[];
  memory: DatasetRow[];
  threads: number;
  bytesPerExample: number;
  /** Tokens per example and the width of each activation. */
  seq: number;
  width: number;
}

export interface DatasetPlan {
  /** Examples for each batch size (at least a few batches of each). */
  examples: Record<number, number>;
  /** The two (or more) numbers of examples of the memory rows, at batch size `memoryBatch`. */
  memoryCounts: number[];
  memoryBatch: number;
  threads: number;
  /** "small": examples/gpt2.onnx (width 32, 32 positions) instead of the GPT-2-small benchmark model. */
  model?: "small";
  /** `--no-spin`: onnxruntime's threads sleep while they wait, as PyTorch's do here (OMP_WAIT_POLICY=PASSIVE). */
  noSpin?: boolean;
  /**
   * Instead of the rows above: intv at this batch size and number of examples, with onnxruntime's
   * threads spinning (the CLI's default) and with `--no-spin`, alternating, `rounds` times each.
   */
  spinCheck?: { batch: number; examples: number; rounds: number };
  log: (line: string) => void;
}

const TORCH_DATASET = path.join(ROOT, "tools", "bench", "torch_dataset.py");
const SMALL_MODEL = path.join(ROOT, "examples", "gpt2.onnx");

/** int64 [n, seq] token ids, the same first rows whatever n (a fixed generator). */
async function writeIds(file: string, n: number, seq: number, vocab: number): Promise<void> {
  const data = new BigInt64Array(n * seq);
  let x = 12345;
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    data[i] = BigInt(x % vocab);
  }
  await writeNpy(file, { type: "int64", dims: [n, seq], data });
}

export async function runDatasetBench(plan: DatasetPlan): Promise<DatasetResult> {
  const started = new Date();
  const loadBefore = loadavg();
  mkdirSync(WORK, { recursive: true });
  const small = plan.model === "small";
  const [seq, width, vocab] = small ? [32, 32, 96] : [SEQ, 768, 50257];
  const prefix = small ? "dataset-small" : "dataset";
  const script = path.join(WORK, `${prefix}-saves12.intv`);
  writeFileSync(script, SAVES_12);
  const model = path.join(WORK, `${prefix}-saves12.onnx`);
  await measureProcess([process.execPath, CLI, "compile", script, "--model", small ? SMALL_MODEL : MODEL, "-o", model]);
  const out = path.join(WORK, `${prefix}-out`);
  const idsFor = new Map<number, string>();
  const ids = async (n: number): Promise<string> => {
    if (!idsFor.has(n)) {
      const file = path.join(WORK, `${prefix}-ids-${n}.npy`);
      await writeIds(file, n, seq, vocab);
      idsFor.set(n, file);
    }
    return idsFor.get(n)!;
  };

  const intv = async (batch: number, n: number, workers = 0, noSpin = plan.noSpin ?? false): Promise<DatasetRow> => {
    rmSync(out, { recursive: true, force: true });
    const argv = [process.execPath, CLI, "run", model, "--inputs", await ids(n), "--out", out, "--batch-size", String(batch),
      "--saves-only", "--no-verify", "--json", ...(noSpin ? ["--no-spin"] : []), ...(workers > 0 ? ["--workers", String(workers)] : ["--threads", String(plan.threads)])];
    const row: DatasetRow = { engine: "intv", batch, workers, examples: n, seconds: NaN, perSecond: NaN, wallMs: NaN, peakRssBytes: NaN, noSpin };
    try {
      const run = await measureProcess(argv);
      const summary = JSON.parse(run.stdout) as { lines: number; seconds: number };
      Object.assign(row, { seconds: summary.seconds, perSecond: summary.lines / summary.seconds, wallMs: run.wallMs, peakRssBytes: run.peakRssBytes });
    } catch (e) {
      row.error = (e as Error).message.split("\n")[0];
    }
    rmSync(out, { recursive: true, force: true });
    plan.log(`  intv B=${batch}${workers ? ` workers=${workers}` : ""}${noSpin ? " --no-spin" : ""} ×${n}: ${row.error ?? `${row.perSecond.toFixed(2)} examples/s, peak RSS ${(row.peakRssBytes / 1e6).toFixed(0)} MB`}`);
    return row;
  };

  const torch = async (batch: number, n: number, head = true): Promise<DatasetRow> => {
    rmSync(out, { recursive: true, force: true });
    const row: DatasetRow = { engine: head ? "torch" : "torch-head", batch, workers: 0, examples: n, seconds: NaN, perSecond: NaN, wallMs: NaN, peakRssBytes: NaN };
    try {
      const argv = [PYTHON, TORCH_DATASET, "--ids", await ids(n), "--batch-size", String(batch), "--out", out, "--threads", String(plan.threads), ...(head ? [] : ["--no-head"]), ...(small ? ["--small"] : [])];
      const run = await measureProcess(argv, torchEnv(plan.threads));
      const r = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { examples: number; seconds: number };
      Object.assign(row, { seconds: r.seconds, perSecond: r.examples / r.seconds, wallMs: run.wallMs, peakRssBytes: run.peakRssBytes });
    } catch (e) {
      row.error = (e as Error).message.split("\n")[0];
    }
    rmSync(out, { recursive: true, force: true });
    plan.log(`  torch${head ? "" : " (no lm_head)"} B=${batch} ×${n}: ${row.error ?? `${row.perSecond.toFixed(2)} examples/s, peak RSS ${(row.peakRssBytes / 1e6).toFixed(0)} MB`}`);
    return row;
  };

  const rows: DatasetRow[] = [];
  if (plan.spinCheck) {
    const { batch, examples, rounds } = plan.spinCheck;
    for (let r = 0; r < rounds; r++) {
      rows.push(await intv(batch, examples, 0, false));
      rows.push(await intv(batch, examples, 0, true));
    }
    for (const file of idsFor.values()) rmSync(file, { force: true });
    return {
      started: started.toISOString().replace(/\.\d+Z$/, "Z"), minutes: (Date.now() - started.getTime()) / 60000, loadBefore, loadAfter: loadavg(),
      rows, memory: [], threads: plan.threads, bytesPerExample: 12 * seq * width * 4, seq, width,
    };
  }
  for (const [b, n] of Object.entries(plan.examples).map(([b, n]) => [Number(b), n] as const)) {
    rows.push(await intv(b, n));
    rows.push(await torch(b, n));
    rows.push(await torch(b, n, false));
  }
  const wb = plan.memoryBatch;
  rows.push(await intv(wb, plan.examples[wb] ?? plan.memoryCounts[0]!, 2));
  const memory: DatasetRow[] = [];
  // A throughput row of the same size is a memory row already (the same command).
  for (const n of plan.memoryCounts) memory.push(rows.find((r) => r.engine === "intv" && r.batch === wb && r.workers === 0 && r.examples === n) ?? await intv(wb, n));
  for (const file of idsFor.values()) rmSync(file, { force: true });
  return {
    started: started.toISOString().replace(/\.\d+Z$/, "Z"), minutes: (Date.now() - started.getTime()) / 60000, loadBefore, loadAfter: loadavg(),
    rows, memory, threads: plan.threads, bytesPerExample: 12 * seq * width * 4, seq, width,
  };
}
