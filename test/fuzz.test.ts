// The script fuzzer: seeded, reproducible inputs (tools/fuzz/generate.ts) — the hostile inputs the
// issue names, random token streams, random statements, and mutations of every example script —
// each parsed, and a sample compiled against the GPT-2 fixture, in worker threads
// (tools/fuzz/worker.ts). Every outcome must be success or diagnostics whose spans point into the
// source; never an exception, an internal error, a hang or running out of memory.
//
//   INTV_FUZZ_COUNT  cases to try (default 400, so CI stays well under a minute; `npm run fuzz`: 20000)
//   INTV_FUZZ_SEED   the seed (default 1); a failure prints seed and case number to reproduce it
//   INTV_FUZZ_COMPILE_EVERY  compile one case in N (default 3; parse errors stop compile early)
//
// The bounded CI run compiles with lower statement and node limits, so the hostile cases that run
// into them (unbind of 10^8, thousands of passes) take a second rather than fifteen; a longer run
// (INTV_FUZZ_COUNT set) uses the default limits.

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { BUILTINS as REGISTRY } from "../compiler/resolve/index.js";
import { BUILTINS, fuzzCase, specialCases, type FuzzCase } from "../tools/fuzz/generate.js";
import type { FuzzReply } from "../tools/fuzz/worker.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WORKER = fileURLToPath(new URL("../tools/fuzz/worker.js", import.meta.url));
const COUNT = Number(process.env.INTV_FUZZ_COUNT ?? 400);
const SEED = Number(process.env.INTV_FUZZ_SEED ?? 1);
const COMPILE_EVERY = Number(process.env.INTV_FUZZ_COMPILE_EVERY ?? 3);
/** Wall time one case may take before it counts as a hang. */
const BUDGET_MS = Number(process.env.INTV_FUZZ_BUDGET_MS ?? (process.env.INTV_FUZZ_COUNT ? 60_000 : 20_000));
/** Heap a worker may use before the case counts as exhausting memory. */
const HEAP_MB = 1536;
const WORKERS = Math.max(1, Math.min(3, availableParallelism() - 1));
const LIMITS = process.env.INTV_FUZZ_COUNT ? {} : { maxStatements: 20_000, maxNodes: 50_000 };

const examples = readdirSync(join(ROOT, "examples"))
  .filter((f) => f.endsWith(".intv"))
  .sort()
  .map((name) => ({ name, source: readFileSync(join(ROOT, "examples", name), "utf8") }));

interface Failure {
  c: FuzzCase;
  problems: string[];
}

interface Outcome {
  tried: number;
  compiled: number;
  ok: number;
  failures: Failure[];
  slowest: { c: FuzzCase; ms: number }[];
  modelUnchanged: boolean[];
}

/** Run `cases` through a pool of workers, each case under a time budget. */
async function runCases(cases: FuzzCase[], compileIf: (c: FuzzCase) => boolean): Promise<Outcome> {
  const out: Outcome = { tried: 0, compiled: 0, ok: 0, failures: [], slowest: [], modelUnchanged: [] };
  let next = 0;
  const lane = async (): Promise<void> => {
    let worker: Worker | undefined;
    const fresh = (): Worker =>
      new Worker(WORKER, {
        workerData: { modelPath: join(ROOT, "test/fixtures/gpt2/model.onnx"), filename: join(ROOT, "examples/fuzz.intv"), limits: LIMITS },
        resourceLimits: { maxOldGenerationSizeMb: HEAP_MB, stackSizeMb: 1 },
      });
    const ask = (w: Worker, msg: unknown, budget: number): Promise<{ reply?: unknown; problem?: string }> =>
      new Promise((resolve) => {
        const timer = setTimeout(() => finish({ problem: `took longer than ${budget} ms (a hang?)` }), budget);
        const onMessage = (reply: unknown): void => finish({ reply });
        const onError = (e: Error): void => finish({ problem: `worker died: ${e.message}` });
        const onExit = (code: number): void => finish({ problem: `worker exited with ${code}` });
        function finish(r: { reply?: unknown; problem?: string }): void {
          clearTimeout(timer);
          w.off("message", onMessage).off("error", onError).off("exit", onExit);
          resolve(r);
        }
        w.on("message", onMessage).on("error", onError).on("exit", onExit);
        w.postMessage(msg);
      });
    while (next < cases.length) {
      const c = cases[next++]!;
      worker ??= fresh();
      const compile = compileIf(c);
      const { reply, problem } = await ask(worker, { id: c.id, source: c.source, compile }, BUDGET_MS);
      out.tried++;
      if (compile) out.compiled++;
      if (problem) {
        out.failures.push({ c, problems: [problem] });
        await worker.terminate();
        worker = undefined;
        continue;
      }
      const r = reply as FuzzReply;
      if (r.problems.length > 0) out.failures.push({ c, problems: r.problems });
      if (r.outcome === "ok") out.ok++;
      out.slowest.push({ c, ms: r.ms });
      out.slowest.sort((a, b) => b.ms - a.ms).splice(5);
    }
    if (worker) {
      const { reply } = await ask(worker, { done: true }, BUDGET_MS);
      out.modelUnchanged.push((reply as { modelUnchanged?: boolean } | undefined)?.modelUnchanged === true);
      await worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, lane));
  return out;
}

function report(out: Outcome, t: { diagnostic(message: string): void }): void {
  const limits = Object.keys(LIMITS).length > 0 ? ` (limits ${JSON.stringify(LIMITS)})` : "";
  const line = `fuzz: seed ${SEED}${limits}, ${out.tried} inputs tried (${out.compiled} compiled), ${out.ok} accepted, ${out.failures.length} failed; slowest: ${out.slowest
    .map((s) => `#${s.c.id} ${s.c.kind} ${Math.round(s.ms)} ms`)
    .join("; ")}`;
  t.diagnostic(line);
  console.log(line);
}

function explain(failures: Failure[]): string {
  if (failures.length === 0) return "";
  const dir = mkdtempSync(join(tmpdir(), "intv-fuzz-failures-"));
  const lines = failures.slice(0, 10).map((f) => {
    const file = join(dir, `case-${f.c.id}.intv`);
    writeFileSync(file, f.c.source);
    const shown = f.c.source.length > 300 ? `${JSON.stringify(f.c.source.slice(0, 300))}…` : JSON.stringify(f.c.source);
    return `case #${f.c.id} (${f.c.kind}), input ${shown} (saved as ${file}):\n  ${f.problems.join("\n  ")}`;
  });
  return `${failures.length} input${failures.length === 1 ? "" : "s"} failed (INTV_FUZZ_SEED=${SEED}):\n${lines.join("\n")}`;
}

test("fuzz: hostile scripts, token streams and mutated examples end in success or diagnostics with spans", { timeout: 30 * 60_000 }, async (t) => {
  const count = Math.max(COUNT, specialCases().length);
  const cases = Array.from({ length: count }, (_, id) => fuzzCase(SEED, id, examples));
  const specials = specialCases().length;
  // Every hostile case is compiled; of the random ones, one in COMPILE_EVERY.
  const out = await runCases(cases, (c) => c.id < specials || c.id % COMPILE_EVERY === 0);
  report(out, t);
  assert.equal(out.tried, count);
  assert.ok(out.modelUnchanged.every(Boolean), "compile changed the ModelProto it was given");
  assert.equal(out.failures.length, 0, explain(out.failures));
});

test("fuzz: the same seed gives the same inputs", () => {
  const a = Array.from({ length: 200 }, (_, id) => fuzzCase(7, id, examples).source);
  const b = Array.from({ length: 200 }, (_, id) => fuzzCase(7, id, examples).source);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.slice(specialCases().length), Array.from({ length: 200 }, (_, id) => fuzzCase(8, id, examples).source).slice(specialCases().length));
});

test("fuzz: the vocabulary has every built-in of the registry", () => {
  const missing = REGISTRY.map((f) => f.name).filter((name) => !BUILTINS.includes(name));
  assert.deepEqual(missing, [], "add them to BUILTINS in tools/fuzz/generate.ts, so that the fuzzer calls them");
});
