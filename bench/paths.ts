// Where the benchmark finds its inputs and writes its scratch files. Everything large lives in
// bench/cache/ (ignored by git), written by tools/bench/generate.py.

import { cpSync, existsSync, rmSync } from "node:fs";
import path from "node:path";

/** The repository: the first folder up from here with a package.json (this file also runs from the snapshot below). */
function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const ROOT = findRoot(import.meta.dirname);
export const CACHE = path.join(ROOT, "bench", "cache");
export const MODEL = path.join(CACHE, "gpt2-small.onnx");
/** The same weights with a KV cache (Optimum's names), for bench/generate.ts. */
export const MODEL_KV = path.join(CACHE, "gpt2-small-kv.onnx");
export const WEIGHTS = path.join(CACHE, "gpt2-small.pt");
export const INPUT_IDS = path.join(CACHE, "input_ids.npy");
export const META = path.join(CACHE, "meta.json");
/** Scratch output of the benchmark (compiled models, PyTorch dumps, profiles). */
export const WORK = path.join(CACHE, "work");
export const PYTHON = "/usr/bin/python3";
export const GENERATOR = path.join(ROOT, "tools", "bench", "generate.py");
export const TORCH_WORKER = path.join(ROOT, "tools", "bench", "torch_worker.py");
/**
 * Child processes run the build from a copy of dist/ taken when the benchmark starts, so that a
 * rebuild during the run (another job running `npm test` in the same checkout) cannot mix two
 * versions of the compiler into one table.
 */
export const SNAPSHOT = path.join(WORK, "dist");
export const CLI = path.join(SNAPSHOT, "cli", "main.js");
export const TASKS = path.join(SNAPSHOT, "bench", "tasks.js");
export const SCALING = path.join(SNAPSHOT, "bench", "scaling.js");
export const PARSE = path.join(SNAPSHOT, "bench", "parse.js");

/** Copy dist/'s JavaScript (no .d.ts: tsconfig's `bench/**` would pick them up, no source maps). */
export function snapshotDist(): void {
  rmSync(SNAPSHOT, { recursive: true, force: true });
  cpSync(path.join(ROOT, "dist"), SNAPSHOT, { recursive: true, filter: (src) => !src.endsWith(".d.ts") && !src.endsWith(".map") });
}

/** How a command line shows a file: relative to the repository, the snapshot shown as `dist/`. */
export function shown(file: string): string {
  return file.startsWith(SNAPSHOT + path.sep) ? path.join("dist", path.relative(SNAPSHOT, file)) : path.relative(ROOT, file);
}
export const BENCHMARKS_MD = path.join(ROOT, "BENCHMARKS.md");

/** Throws with the command to run when the generated model is missing. */
export function requireCache(): void {
  const missing = [MODEL, WEIGHTS, INPUT_IDS, META].filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new Error(
      `the benchmark model is missing (${missing.map((f) => path.relative(ROOT, f)).join(", ")}).\n` +
        `Generate it first (about a minute, 1.3 GB in bench/cache/):\n    ${PYTHON} ${path.relative(ROOT, GENERATOR)}`,
    );
  }
}
