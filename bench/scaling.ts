// Compile time against graph size and number of patches, on synthetic models (synthetic.ts).
// Each graph size runs in its own process (`node dist/bench/scaling.js NODES PATCHES,... REPS`),
// which prints one JSON line; repetitions go round-robin over the patch counts.

import { spawn } from "node:child_process";
import { compile, decodeModel, encodeModel } from "../compiler/index.js";
import { NODES_PER_BLOCK, patchScript, syntheticModel } from "./synthetic.js";

export interface ScalingCell {
  nodes: number;
  blocks: number;
  patches: number;
  /** compile() from the model's bytes (decode, module tree, script, emit to a ModelProto), wall ms. */
  compileMs: number[];
  /** The same, in CPU time of the process (user + system, ms): what a busy shared machine disturbs least. */
  cpuMs: number[];
  /** encodeModel of the compiled model, ms. */
  encodeMs: number[];
}

export interface ScalingSize {
  nodes: number;
  /** Module lists the chain is split over (1: one `blocks` list). */
  lists: number;
  /** Set when this size could not be measured (the compiler failed on it). */
  error?: string;
  modelBytes: number;
  /** Plain decode + encode of the synthetic model, wall ms. */
  codecMs: number[];
  /** The same in CPU time. */
  codecCpuMs: number[];
  cells: ScalingCell[];
}

export async function measureSize(nodes: number, patchCounts: number[], reps: number, lists = 1): Promise<ScalingSize> {
  const blocks = Math.round(nodes / NODES_PER_BLOCK);
  const bytes = encodeModel(syntheticModel(blocks, lists));
  const size: ScalingSize = { nodes: blocks * NODES_PER_BLOCK + 1, lists, modelBytes: bytes.length, codecMs: [], codecCpuMs: [], cells: [] };
  const cells = patchCounts.map((patches): ScalingCell => ({ nodes: size.nodes, blocks, patches, compileMs: [], cpuMs: [], encodeMs: [] }));
  const scripts = patchCounts.map((p) => patchScript(blocks, p, lists));
  // Warm-up: one untimed compile of this graph (JIT, and the heap grown to this graph's size).
  await compile({ source: scripts[0]!, filename: "/tmp/scaling.intv", model: bytes });
  for (let rep = 0; rep < reps; rep++) {
    let start = performance.now();
    let cpu = process.cpuUsage();
    encodeModel(decodeModel(bytes));
    size.codecMs.push(performance.now() - start);
    size.codecCpuMs.push(cpuMs(process.cpuUsage(cpu)));
    for (let i = 0; i < cells.length; i++) {
      start = performance.now();
      cpu = process.cpuUsage();
      const result = await compile({ source: scripts[i]!, filename: "/tmp/scaling.intv", model: bytes });
      cells[i]!.compileMs.push(performance.now() - start);
      cells[i]!.cpuMs.push(cpuMs(process.cpuUsage(cpu)));
      const errors = result.diagnostics.filter((d) => d.severity === "error");
      if (!result.model || errors.length > 0) throw new Error(`${nodes} nodes, ${cells[i]!.patches} patches: ${JSON.stringify(errors.slice(0, 3))}`);
      start = performance.now();
      encodeModel(result.model);
      cells[i]!.encodeMs.push(performance.now() - start);
    }
  }
  size.cells = cells;
  return size;
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

/**
 * Run one size in a child process (fresh heap for each size). A size the compiler fails on comes
 * back with `error` set (the first lines of the failure, with its top stack frames).
 */
export function measureSizeInChild(script: string, nodes: number, patchCounts: number[], reps: number, lists = 1): Promise<ScalingSize> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--max-old-space-size=8192", script, String(nodes), patchCounts.join(","), String(reps), String(lists)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) return resolve(JSON.parse(out.trim()) as ScalingSize);
      const lines = err.trim().split("\n").map((l) => l.trim());
      const error = [lines[0], ...lines.filter((l) => l.startsWith("at ")).slice(0, 3)].join(" ");
      resolve({ nodes: nodes + 1, lists, modelBytes: 0, codecMs: [], codecCpuMs: [], cells: [], error });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [nodes, patches, reps, lists] = process.argv.slice(2);
  measureSize(Number(nodes), patches!.split(",").map(Number), Number(reps ?? 3), Number(lists ?? 1)).then(
    (size) => process.stdout.write(JSON.stringify(size) + "\n"),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
