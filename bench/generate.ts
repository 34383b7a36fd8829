// Generation (issue 12): tokens per second of `Runtime.generate` (what `intv generate` runs) on the
// GPT-2-small benchmark model, with a steering patch at every step, with the KV cache
// (gpt2-small-kv.onnx), without it (gpt2-small.onnx: every step recomputes the sequence), and with
// the cache but no script (the intervention's overhead); against PyTorch eager generating with its
// own cache (`use_cache`) and a forward hook doing the same steering. Runs alternate in rotating
// order in one session; each side is timed by itself (intv: the wall time of the whole
// `for await` loop, JavaScript included; PyTorch: the worker's own clock around its loop).

import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { compile, encodeModel } from "../compiler/index.js";
import { Runtime, encodeNpy, readNpy, type Tensor } from "../runtime/index.js";
import { INPUT_IDS, MODEL, MODEL_KV, WORK } from "./paths.js";
import { median } from "./stats.js";
import { TorchWorker } from "./torch.js";

export const STEER_LAYER = 6;
export const STEER_ALPHA = 4.0;
export const STEER_SCRIPT = `# steering at every step: the last position of each forward pass
param steer: float32[768]
transformer.h[${STEER_LAYER}].output[:, -1, :] += ${STEER_ALPHA.toFixed(1)} * steer
`;

export interface GenerateBenchOptions {
  threads: number;
  /** Timed runs of each mode with the cache (and of PyTorch). */
  runs: number;
  /** Timed runs without the cache (each recomputes the whole sequence at every step: slow). */
  runsNoCache: number;
  prompt: number;
  newTokens: number;
  log: (line: string) => void;
}

export interface GenerateMode {
  id: "cache" | "cache_plain" | "no_cache" | "torch";
  label: string;
  /** Wall time of each timed run, ms. */
  ms: number[];
  /** The new tokens of the last run. */
  tokens: number[];
}

export interface GenerateBenchResult {
  prompt: number;
  newTokens: number;
  threads: number;
  modes: GenerateMode[];
  /** steered / plain with the cache, per pair of runs in the same round. */
  overhead: number[];
  /** PyTorch / intv with the cache, per pair. */
  speedup: number[];
  /** When it ran, and the load average (1, 5, 15 min) before and after. */
  started: string;
  load: [number[], number[]];
}

const SPIN_OFF = { "session.intra_op.allow_spinning": "0" };

export async function runGenerate(opts: GenerateBenchOptions): Promise<GenerateBenchResult> {
  const { log } = opts;
  const started = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const loadBefore = os.loadavg();
  const ids = await readNpy(INPUT_IDS);
  const prompt: Tensor = { type: "int64", dims: [1, opts.prompt], data: (ids.data as BigInt64Array).slice(0, opts.prompt) };
  const steer: Tensor = { type: "float32", dims: [768], data: Float32Array.from({ length: 768 }, (_, i) => Math.sin(0.37 * i + 1)) };
  const steerFile = path.join(WORK, "generate-steer.npy");
  writeFileSync(steerFile, encodeNpy(steer));

  const load = async (model: string, script: boolean): Promise<Runtime> => {
    const options = { intraOpNumThreads: opts.threads, interOpNumThreads: 1, extra: SPIN_OFF };
    if (!script) return Runtime.load(model, options);
    const result = await compile({ source: STEER_SCRIPT, filename: path.join(WORK, "generate-steer.intv"), model });
    if (!result.model) throw new Error(`the steering script does not compile against ${model}: ${JSON.stringify(result.diagnostics)}`);
    return Runtime.load(encodeModel(result.model), { ...options, externalDataDir: path.dirname(model) });
  };
  const cache = await load(MODEL_KV, true);
  const cachePlain = await load(MODEL_KV, false);
  const noCache = await load(MODEL, true);
  log("  loaded 3 onnxruntime sessions (cache + script, cache, no cache + script)");
  const { worker: torch } = await TorchWorker.start(opts.threads);

  const modes: Record<GenerateMode["id"], GenerateMode> = {
    cache: { id: "cache", label: "intv generate, KV cache, steering script", ms: [], tokens: [] },
    cache_plain: { id: "cache_plain", label: "intv generate, KV cache, no script", ms: [], tokens: [] },
    no_cache: { id: "no_cache", label: "intv generate, no cache (every step recomputes the sequence), steering script", ms: [], tokens: [] },
    torch: { id: "torch", label: "PyTorch eager, own KV cache (use_cache), forward hook", ms: [], tokens: [] },
  };
  const intv = async (rt: Runtime, withSteer: boolean, n: number): Promise<{ ms: number; tokens: number[] }> => {
    const start = performance.now();
    let last: Tensor | undefined;
    for await (const step of rt.generate(withSteer ? { input_ids: prompt, steer } : { input_ids: prompt }, { maxNewTokens: n })) last = step.sequence;
    const ms = performance.now() - start;
    return { ms, tokens: Array.from((last!.data as BigInt64Array).slice(opts.prompt), Number) };
  };
  const runners: Record<GenerateMode["id"], (n: number) => Promise<{ ms: number; tokens: number[] }>> = {
    cache: (n) => intv(cache, true, n),
    cache_plain: (n) => intv(cachePlain, false, n),
    no_cache: (n) => intv(noCache, true, n),
    torch: async (n) => {
      const r = await torch.generate(opts.prompt, n, steerFile, STEER_LAYER, STEER_ALPHA);
      return { ms: r.ms, tokens: r.tokens.slice(opts.prompt) };
    },
  };

  try {
    for (const id of Object.keys(runners) as GenerateMode["id"][]) await runners[id](4); // warm-up
    const overhead: number[] = [];
    const speedup: number[] = [];
    for (let round = 0; round < opts.runs; round++) {
      const order: GenerateMode["id"][] = ["cache", "cache_plain", "torch", ...(round < opts.runsNoCache ? ["no_cache" as const] : [])];
      const times: Partial<Record<GenerateMode["id"], number>> = {};
      for (let k = 0; k < order.length; k++) {
        const id = order[(k + round) % order.length]!;
        const r = await runners[id](opts.newTokens);
        modes[id].ms.push(r.ms);
        modes[id].tokens = r.tokens;
        times[id] = r.ms;
      }
      overhead.push(times.cache! / times.cache_plain!);
      speedup.push(times.torch! / times.cache!);
      log(`  round ${round + 1}/${opts.runs}: ${order.map((id) => `${id} ${(opts.newTokens / (times[id]! / 1000)).toFixed(2)} tokens/s`).join(", ")}`);
    }
    return {
      prompt: opts.prompt, newTokens: opts.newTokens, threads: opts.threads, modes: Object.values(modes), overhead, speedup,
      started, load: [loadBefore, os.loadavg()],
    };
  } finally {
    await torch.quit();
    for (const rt of [cache, cachePlain, noCache]) await rt.release();
  }
}

/** BENCHMARKS.md's generation table. */
export function generateSection(r: GenerateBenchResult): string {
  const torch = r.modes.find((m) => m.id === "torch")!;
  const tps = (ms: number) => r.newTokens / (ms / 1000);
  const q = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    const pos = (s.length - 1) * p;
    return s[Math.floor(pos)]! + (s[Math.ceil(pos)]! - s[Math.floor(pos)]!) * (pos - Math.floor(pos));
  };
  const firstDiff = (a: number[], b: number[]) => {
    const k = a.findIndex((t, i) => t !== b[i]);
    return k < 0 && a.length === b.length ? "equal" : `differ from new token ${k}`;
  };
  const rows = r.modes.map((m) => [
    m.label,
    String(m.ms.length),
    `${(median(m.ms) / 1000).toFixed(2)} s (IQR ${(q(m.ms, 0.25) / 1000).toFixed(2)}–${(q(m.ms, 0.75) / 1000).toFixed(2)})`,
    `**${tps(median(m.ms)).toFixed(2)}**`,
    m.id === "torch" ? "—" : `${(median(torch.ms) / median(m.ms)).toFixed(2)}×`,
    m.id === "torch" || m.id === "cache_plain" ? "—" : firstDiff(m.tokens, torch.tokens),
  ]);
  const head = ["mode", "runs", `time for ${r.newTokens} tokens: median (IQR)`, "tokens/s (median)", "PyTorch time / this time", "tokens vs PyTorch's"];
  const table = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((row) => `| ${row.join(" | ")} |`)].join("\n");
  const over = median(r.overhead);
  const speed = median(r.speedup);
  return [
    `Run ${r.started}; load average (1, 5, 15 min) ${r.load[0].map((x) => x.toFixed(2)).join(", ")} at the start, ` +
      `${r.load[1].map((x) => x.toFixed(2)).join(", ")} at the end. Prompt 1 × ${r.prompt} tokens, ${r.newTokens} new tokens, greedy; ${r.threads} threads on each side.`,
    "",
    table,
    "",
    `- With the cache against PyTorch (median of the per-round ratios PyTorch time / intv time): **${speed.toFixed(2)}×** ` +
      `(IQR ${q(r.speedup, 0.25).toFixed(2)}–${q(r.speedup, 0.75).toFixed(2)}); goal ≥ 2×: ${speed >= 2 ? "met" : "**missed**"}.`,
    `- The intervention's overhead with the cache (median of the per-round ratios steered / no script): **${((over - 1) * 100).toFixed(1)}%** ` +
      `(IQR ${((q(r.overhead, 0.25) - 1) * 100).toFixed(1)}% to ${((q(r.overhead, 0.75) - 1) * 100).toFixed(1)}%); goal < 5%: ${over < 1.05 ? "met" : "**missed**"}.`,
  ].join("\n");
}
