// Run-time overhead: the plain model, the compiled (instrumented) model and PyTorch eager with
// hooks, alternating run by run in one benchmark session.
//
// Every scenario's compiled model and the plain model are loaded the same way (Runtime.load from
// a file, same options: 2 intra-op threads, spinning off). Rounds go over every scenario in turn,
// so a noisy minute on this shared machine spreads over all of them instead of spoiling one; in
// each pair the order of plain / intv / PyTorch rotates. Ratios are taken per pair (runs seconds
// apart), then their median is reported.

import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { compile, writeModelFile } from "../compiler/index.js";
import { Runtime, readNpy, type Tensor } from "../runtime/index.js";
import { INPUT_IDS, MODEL, WORK } from "./paths.js";
import { scenarios, type Scenario } from "./scripts.js";
import { ratios, timeMs } from "./stats.js";
import { TorchWorker } from "./torch.js";

export interface Phase {
  /** Tokens of the 1 × 128 input used (its first `seq`). */
  seq: number;
  rounds: number;
  pairsPerRound: number;
}

export interface OverheadOptions {
  threads: number;
  warmup: number;
  /** The main measurement (the 1 × 128), then any further input lengths. */
  phases: Phase[];
  log: (line: string) => void;
}

export interface Check {
  /** What was compared: `logits`, `mlp[3]`, ... */
  names: string[];
  /** Largest |intv − PyTorch| over all compared tensors. */
  maxAbsDiff: number;
}

export interface OverheadRow {
  scenario: Scenario;
  compileMs: number;
  /** Per pair, in ms: plain (sum of plainRuns runs), intv, PyTorch. */
  plain: number[];
  intv: number[];
  torch: number[];
  /** Round of each pair (0-based). */
  round: number[];
  /** intv / plain per pair. */
  overhead: number[];
  /** PyTorch / intv per pair. */
  speedup: number[];
  check: Check | null;
}

export interface PhaseResult {
  seq: number;
  rows: OverheadRow[];
}

export interface OverheadResult {
  phases: PhaseResult[];
  torchInfo: Record<string, unknown>;
  sessionOptions: string;
}

const SPIN_OFF = { "session.intra_op.allow_spinning": "0" };

export async function runOverhead(opts: OverheadOptions): Promise<OverheadResult> {
  const log = opts.log;
  mkdirSync(WORK, { recursive: true });
  const ids = await readNpy(INPUT_IDS);
  const load = (file: string) => Runtime.load(file, { intraOpNumThreads: opts.threads, interOpNumThreads: 1, extra: SPIN_OFF });

  // Compile each script (the A/A control loads the plain model a second time instead).
  const list = scenarios();
  const compiled = new Map<string, { file: string; ms: number }>();
  for (const s of list) {
    if (s.source === null) continue;
    const done = await compileScenario(s);
    compiled.set(s.id, done);
    log(`  compiled ${s.id} in ${done.ms.toFixed(0)} ms`);
  }

  const plain = await load(MODEL);
  const sessions = new Map<string, Runtime>();
  for (const s of list) sessions.set(s.id, await load(s.source === null ? MODEL : compiled.get(s.id)!.file));
  log(`  loaded ${sessions.size + 1} onnxruntime sessions`);
  const { worker: torch, info: torchInfo } = await TorchWorker.start(opts.threads);
  log(`  PyTorch worker loaded (torch ${String(torchInfo.torch)}, ${String(torchInfo.threads)} threads)`);

  try {
    const phases: PhaseResult[] = [];
    for (const phase of opts.phases) {
      const seq = phase.seq;
      const feeds = { input_ids: firstTokens(ids, seq) };
      // Warm-up at this input length, then the equality check on the warmed-up sessions.
      const rows: OverheadRow[] = [];
      for (const s of list) {
        const rt = sessions.get(s.id)!;
        for (let i = 0; i < opts.warmup; i++) {
          await plain.run(feeds);
          await rt.run(feeds);
          await torch.run(s.torch, seq);
        }
        const dump = path.join(WORK, `torch-${s.id}-${seq}`);
        rmSync(dump, { recursive: true, force: true });
        await torch.run(s.torch, seq, dump);
        const check = await compareWithTorch(await rt.run(feeds), dump);
        rmSync(dump, { recursive: true, force: true });
        log(`  1×${seq} ${s.id}: intv vs PyTorch max |diff| ${check.maxAbsDiff.toExponential(2)} over ${check.names.length} tensors`);
        rows.push({ scenario: s, compileMs: compiled.get(s.id)?.ms ?? 0, plain: [], intv: [], torch: [], round: [], overhead: [], speedup: [], check });
      }

      let pair = 0;
      for (let round = 0; round < phase.rounds; round++) {
        for (const row of rows) {
          const s = row.scenario;
          const rt = sessions.get(s.id)!;
          for (let p = 0; p < phase.pairsPerRound; p++, pair++) {
            const steps: Array<() => Promise<void>> = [
              async () => {
                let ms = 0;
                for (let k = 0; k < s.plainRuns; k++) ms += await timeMs(() => plain.run(feeds));
                row.plain.push(ms);
              },
              async () => {
                row.intv.push(await timeMs(() => rt.run(feeds)));
              },
              async () => {
                row.torch.push(await torch.run(s.torch, seq));
              },
            ];
            // Rotate the order so no side always runs first (or right after PyTorch).
            for (let k = 0; k < steps.length; k++) await steps[(k + pair) % steps.length]!();
            row.round.push(round);
          }
          const last = row.intv.length - 1;
          log(`  1×${seq} round ${round + 1}/${phase.rounds} ${s.id}: plain ${row.plain[last]!.toFixed(0)} ms, intv ${row.intv[last]!.toFixed(0)} ms, PyTorch ${row.torch[last]!.toFixed(0)} ms`);
        }
      }
      for (const row of rows) {
        row.overhead = ratios(row.intv, row.plain);
        row.speedup = ratios(row.torch, row.intv);
      }
      phases.push({ seq, rows });
    }
    return { phases, torchInfo, sessionOptions: `intraOpNumThreads ${opts.threads}, interOpNumThreads 1, extra ${JSON.stringify(SPIN_OFF)}` };
  } finally {
    await torch.quit();
    await plain.release();
    for (const rt of sessions.values()) await rt.release();
  }
}

/** Compile a scenario's script against the benchmark model into WORK/<id>.onnx. */
export async function compileScenario(s: Scenario): Promise<{ file: string; ms: number }> {
  const start = performance.now();
  const result = await compile({ source: s.source ?? "", filename: path.join(WORK, `${s.id}.intv`), model: MODEL });
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (!result.model || errors.length > 0) throw new Error(`${s.id}: compile failed: ${JSON.stringify(errors)}`);
  const file = path.join(WORK, `${s.id}.onnx`);
  await writeModelFile(file, result.model);
  return { file, ms: performance.now() - start };
}

/** The first `seq` tokens of a [1, n] int64 input. */
function firstTokens(ids: Tensor, seq: number): Tensor {
  if (seq === ids.dims[1]) return ids;
  return { type: "int64", dims: [1, seq], data: (ids.data as BigInt64Array).slice(0, seq) };
}

/** Compare intv's logits and saves with what the PyTorch worker dumped (logits.npy, <save>.npy). */
export async function compareWithTorch(result: { outputs: Map<string, Tensor>; saves: Map<string, Tensor> }, dump: string): Promise<Check> {
  const pairs: Array<[string, Tensor, string]> = [["logits", result.outputs.get("logits")!, "logits.npy"]];
  for (const [name, t] of result.saves) pairs.push([name, t, `${name.replace(/\[(\d+)\]/g, ".$1")}.npy`]);
  let worst = 0;
  for (const [name, t, file] of pairs) {
    const expected = await readNpy(path.join(dump, file));
    if (expected.dims.join("x") !== t.dims.join("x")) throw new Error(`${name}: intv gives shape [${t.dims}], PyTorch [${expected.dims}]`);
    const a = t.data as Float32Array;
    const e = expected.data as Float32Array;
    for (let i = 0; i < e.length; i++) {
      const d = Math.abs(a[i]! - e[i]!);
      if (!(d <= worst)) worst = d; // NaN propagates as a failure below
    }
  }
  if (!(worst <= 1e-3)) throw new Error(`intv and PyTorch differ by ${worst} (> 1e-3): the comparison would not be of equal work`);
  return { names: pairs.map((p) => p[0]), maxAbsDiff: worst };
}
