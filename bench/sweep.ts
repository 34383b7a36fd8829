// The layer sweep (issue 11): examples/patching_sweep.intv — a clean pass, then one pass per layer
// on a corrupted input with that layer's last-position residual taken from the clean pass, each
// saving its last-position logits — compiled into one model and run once, against PyTorch eager
// doing the same 13 forward passes with hooks (tools/bench/torch_worker.py, scenario `sweep`),
// alternating run by run in one session as in bench/overhead.ts.
//
// Also measured: compiling the script on the 654 MB model (`intv compile` in its own process,
// /usr/bin/time -v), loading the compiled model into onnxruntime, and the work the compiled
// model does, counted in layer evaluations from its matrix products (see `layerEvaluations`).

import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { decodeModel, prepareModel } from "../compiler/index.js";
import { Runtime, readNpy, type Tensor } from "../runtime/index.js";
import { compareWithTorch, type Check } from "./overhead.js";
import { CLI, INPUT_IDS, MODEL, ROOT, WORK, shown } from "./paths.js";
import { measureProcess, type ProcessRun } from "./processes.js";
import { ratios, timeMs } from "./stats.js";
import { TorchWorker } from "./torch.js";

export const SWEEP_SCRIPT = path.join(ROOT, "examples", "patching_sweep.intv");

export interface Work {
  /** Matrix-product work of the compiled model, in evaluations of one block at 1 × 128. */
  intv: number;
  /** The same for PyTorch's 13 forward passes. */
  torch: number;
  /** One `lm_head` at 1 × 128, in block evaluations (by its weight's size). */
  lmHead: number;
  /** How many times the compiled model computes each block (full sequence). */
  blockCopies: number[];
  /** Products of the unembedding on all 128 positions, and on the selected last position only. */
  lmHeadFull: number;
  lmHeadSelected: number;
}

export interface SweepResult {
  compile: ProcessRun[];
  compileCommand: string;
  loadMs: number;
  /** Nodes of the compiled model. */
  nodes: number;
  work: Work;
  intv: number[];
  torch: number[];
  speedup: number[];
  check: Check;
}

const SPIN_OFF = { "session.intra_op.allow_spinning": "0" };

export async function runSweep(opts: { threads: number; pairs: number; compileReps: number; log: (line: string) => void }): Promise<SweepResult> {
  const { log } = opts;
  const out = path.join(WORK, "sweep.onnx");
  const argv = [process.execPath, CLI, "compile", SWEEP_SCRIPT, "--model", MODEL, "-o", out];
  const compileCommand = `node ${shown(CLI)} compile examples/patching_sweep.intv --model MODEL -o OUT`;
  const compile: ProcessRun[] = [];
  for (let i = 0; i < opts.compileReps; i++) {
    const run = await measureProcess(argv);
    compile.push(run);
    log(`  compile ${i + 1}/${opts.compileReps}: ${run.wallMs.toFixed(0)} ms, peak RSS ${(run.peakRssBytes / 1e6).toFixed(0)} MB`);
  }
  const { work, nodes } = layerEvaluations(out);
  log(`  work: ${work.intv.toFixed(1)} block evaluations (PyTorch ${work.torch.toFixed(1)}); ${nodes} nodes`);

  const ids = await readNpy(INPUT_IDS);
  const feeds = { input_ids: ids, corrupt_ids: reversed(ids) };
  let rt: Runtime | null = null;
  const loadMs = await timeMs(async () => {
    rt = await Runtime.load(out, { intraOpNumThreads: opts.threads, interOpNumThreads: 1, extra: SPIN_OFF });
  });
  const session = rt! as Runtime;
  log(`  loaded the compiled model in ${loadMs.toFixed(0)} ms`);
  const { worker: torch } = await TorchWorker.start(opts.threads);
  try {
    const seq = ids.dims[1]!;
    await session.run(feeds);
    await torch.run("sweep", seq);
    const dump = path.join(WORK, "torch-sweep");
    rmSync(dump, { recursive: true, force: true });
    await torch.run("sweep", seq, dump);
    const check = await compareWithTorch(await session.run(feeds), dump);
    rmSync(dump, { recursive: true, force: true });
    log(`  intv vs PyTorch max |diff| ${check.maxAbsDiff.toExponential(2)} over ${check.names.length} tensors`);
    const intv: number[] = [];
    const torchMs: number[] = [];
    for (let p = 0; p < opts.pairs; p++) {
      const steps = [async () => void intv.push(await timeMs(() => session.run(feeds))), async () => void torchMs.push(await torch.run("sweep", seq))];
      // Alternate which side runs first.
      for (let k = 0; k < steps.length; k++) await steps[(k + p) % steps.length]!();
      log(`  pair ${p + 1}/${opts.pairs}: intv ${intv[p]!.toFixed(0)} ms, PyTorch ${torchMs[p]!.toFixed(0)} ms`);
    }
    return { compile, compileCommand, loadMs, nodes, work, intv, torch: torchMs, speedup: ratios(torchMs, intv), check };
  } finally {
    await torch.quit();
    await session.release();
    rmSync(out, { force: true });
  }
}

/** The corrupted input: the clean tokens in reverse order (the PyTorch worker makes the same). */
function reversed(ids: Tensor): Tensor {
  const data = ids.data as BigInt64Array;
  return { type: "int64", dims: [...ids.dims], data: data.slice().reverse() };
}

/**
 * Matrix-product work of the compiled model, in block evaluations: every MatMul or Gemm that reads
 * a weight (an initializer), as rows × weight size, with the rows from the types the compiler
 * infers (batch = 1, seq = 128; a row count it cannot tell, such as the blocks' `[?, 768]`
 * reshapes, counts as the whole sequence — what the blocks always compute). The unit is one
 * block's four weight products at 1 × 128; PyTorch's 13 passes are 13 × (12 blocks + the
 * unembedding) in the same unit. Attention's own products (scores, weighted values)
 * read no weight and are left out on both sides.
 */
function layerEvaluations(file: string): { work: Work; nodes: number } {
  const graph = prepareModel(decodeModel(readFileSync(file))).ir.graph;
  const SEQ = 128;
  const rows = (dims: readonly (number | string | null)[] | null | undefined): number => {
    if (!dims || dims.length < 2 || dims.slice(0, -1).some((d) => d === null)) return SEQ;
    return dims.slice(0, -1).reduce<number>((a, d) => a * (typeof d === "number" ? d : d === "batch" ? 1 : SEQ), 1);
  };
  const products: { weight: string; size: number; rows: number }[] = [];
  for (const n of graph.nodes) {
    if (n.opType !== "MatMul" && n.opType !== "Gemm") continue;
    const w = n.inputs[1];
    if (!w || !w.initializer) continue;
    const size = (w.type?.shape ?? []).reduce<number>((a, d) => a * (typeof d === "number" ? d : 1), 1);
    products.push({ weight: w.name, size, rows: rows(n.inputs[0]?.resolve().type?.shape) });
  }
  const inBlock = (p: { weight: string }) => /^transformer\.h\.\d+\./.test(p.weight);
  // Each weight once: the model's own parameters (a block's four, the unembedding's one).
  const sizes = new Map(products.map((p) => [p.weight, p.size]));
  const block = [...sizes].filter(([w]) => w.startsWith("transformer.h.0.")).reduce((a, [, s]) => a + s, 0) * SEQ;
  const head = [...sizes].filter(([w]) => !inBlock({ weight: w })).reduce((a, [, s]) => a + s, 0) * SEQ;
  const layers = new Set([...sizes.keys()].map((w) => /^transformer\.h\.(\d+)\./.exec(w)?.[1]).filter((x) => x !== undefined)).size;
  const headProducts = products.filter((p) => !inBlock(p));
  return {
    work: {
      intv: products.reduce((a, p) => a + p.rows * p.size, 0) / block,
      torch: (13 * (layers * block + head)) / block,
      lmHead: head / block,
      blockCopies: Array.from({ length: layers }, (_, l) => products.filter((p) => p.weight === `transformer.h.${l}.mlp.c_fc.weight`).length),
      lmHeadFull: headProducts.filter((p) => p.rows === SEQ).length,
      lmHeadSelected: headProducts.filter((p) => p.rows < SEQ).length,
    },
    nodes: graph.nodes.size,
  };
}
