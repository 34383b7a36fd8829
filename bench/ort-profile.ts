// What the compiled model adds inside onnxruntime, from its own profiler rather than from wall
// clocks: each model runs a few times with `enableProfiling`, and the per-node kernel times of
// the trace are summed. Nodes whose names the plain model's trace does not have are the ones
// intv added (patch arithmetic, pass copies); their share of the kernel time is the overhead they
// cost, measured without the noise of a shared machine (a few microseconds per node are resolved
// where wall-clock ratios cannot resolve a few percent).
//
// Uses onnxruntime-node directly (the Runtime does not expose profiling), with the same session
// options as the timing benchmark.

import { mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { InferenceSession, Tensor as OrtTensor } from "onnxruntime-node";
import { readNpy } from "../runtime/index.js";
import { compileScenario } from "./overhead.js";
import { INPUT_IDS, MODEL, WORK } from "./paths.js";
import { scenarios } from "./scripts.js";
import { median } from "./stats.js";

interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: { op_name?: string };
}

export interface KernelRow {
  id: string;
  label: string;
  runs: number;
  /** onnxruntime's `model_run` time, median over the runs, ms. */
  modelRunMs: number;
  /** Sum of node kernel times per run, ms. */
  kernelMs: number;
  nodes: number;
  /** Nodes not in the plain model's trace, their kernel time per run (ms) and op types. */
  addedNodes: number;
  addedMs: number;
  addedOps: Record<string, number>;
}

/** The runs after the first (a warm-up): their `model_run` times (ms) and each node's kernel time summed over them (µs). */
function trace(file: string): { modelRuns: number[]; nodes: Map<string, { us: number; op: string }> } {
  const events = JSON.parse(readFileSync(file, "utf8")) as TraceEvent[];
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run").sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0));
  const warmupEnd = (runs[0]?.ts ?? 0) + (runs[0]?.dur ?? 0);
  const modelRuns = runs.slice(1).map((e) => (e.dur ?? 0) / 1000);
  const nodes = new Map<string, { us: number; op: string }>();
  for (const e of events) {
    if (e.cat === "Node" && e.name?.endsWith("_kernel_time") && (e.ts ?? 0) > warmupEnd) {
      const name = e.name.slice(0, -"_kernel_time".length);
      const entry = nodes.get(name) ?? { us: 0, op: e.args?.op_name ?? "?" };
      entry.us += e.dur ?? 0;
      nodes.set(name, entry);
    }
  }
  return { modelRuns, nodes };
}

export async function runKernelProfile(opts: { threads: number; runs: number; log: (line: string) => void }): Promise<KernelRow[]> {
  const dir = path.join(WORK, "ortprof");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const ids = await readNpy(INPUT_IDS);
  const feeds = { input_ids: new OrtTensor("int64", ids.data as BigInt64Array, ids.dims) };
  const list = scenarios().filter((s) => s.source !== null);
  const models: Array<{ id: string; label: string; file: string }> = [{ id: "plain", label: "plain model", file: MODEL }];
  for (const s of list) models.push({ id: s.id, label: s.label, file: (await compileScenario(s)).file });

  const traces = new Map<string, ReturnType<typeof trace>>();
  for (const m of models) {
    const prefix = path.join(dir, m.id);
    const session = await InferenceSession.create(m.file, {
      intraOpNumThreads: opts.threads,
      interOpNumThreads: 1,
      logSeverityLevel: 4,
      extra: { "session.intra_op.allow_spinning": "0" },
      enableProfiling: true,
      profileFilePrefix: prefix,
    });
    for (let i = 0; i < opts.runs + 1; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const file = readdirSync(dir).find((f) => f.startsWith(`${m.id}_`) && f.endsWith(".json"));
    if (!file) throw new Error(`onnxruntime wrote no profile for ${m.id}`);
    const t = trace(path.join(dir, file));
    traces.set(m.id, t);
    opts.log(`  profiled ${m.id}: ${t.nodes.size} nodes, model_run ${median(t.modelRuns).toFixed(0)} ms`);
  }
  const plainNames = new Set(traces.get("plain")!.nodes.keys());
  return models.map((m): KernelRow => {
    const t = traces.get(m.id)!;
    const runs = t.modelRuns.length;
    let kernel = 0;
    let added = 0;
    let addedNodes = 0;
    const addedOps: Record<string, number> = {};
    for (const [name, n] of t.nodes) {
      kernel += n.us;
      if (!plainNames.has(name)) {
        added += n.us;
        addedNodes++;
        addedOps[n.op] = (addedOps[n.op] ?? 0) + 1;
      }
    }
    return {
      id: m.id,
      label: m.label,
      runs,
      modelRunMs: median(t.modelRuns),
      kernelMs: kernel / 1000 / runs,
      nodes: t.nodes.size,
      addedNodes,
      addedMs: added / 1000 / runs,
      addedOps,
    };
  });
}
