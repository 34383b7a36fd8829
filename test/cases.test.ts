// Every case of test/fixtures/cases.json, on each of its models, checked for everything once
// (each case used to be compiled by four test files, one Node process each):
//
// 1. Its documented `intv run` command line, through the command-line entry point in this process
//    (a child process per case costs a Node start and a compiler load each; test/cli.test.ts
//    covers the real binary and its exit codes). The .npy files written must match PyTorch's own
//    numbers (forward hooks; tools/fixtures/export.py), and the summary table has a row for each.
//    A refused script must exit with status 1 and the diagnostic the case names: its code, place,
//    underlined text, the names it mentions and what its help mentions.
// 2. The same script compiled with the API, run with onnxruntime's graph optimizations disabled:
//    every save and model output equal, within float rounding, to the command line's run at the
//    default level. (The saves are extra graph outputs in the middle of fusable patterns —
//    MatMul+Add, the GELU and LayerNorm subgraphs — so a fusion that swallowed one, or fed it a
//    different value, would show here.)
// 3. Every case compiled on its main model passes `onnx.checker` (Debian's python3-onnx), in one
//    Python process at the end; skipped where that Python is not installed.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { compile, encodeModel } from "../compiler/index.js";
import { Runtime, readNpy, type Tensor } from "../runtime/index.js";
import { runCli } from "../cli/app.js";
import { assertClose, loadCases, type Case } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
process.chdir(ROOT); // the cases' command lines are relative to the repository

const cases = loadCases();
const scratch = mkdtempSync(join(tmpdir(), "intv-cases-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Optimized and unoptimized runs differ only by float rounding (fused kernels sum in another order). */
const OPT_ATOL = 1e-5;
const OPT_RTOL = 1e-4;

/** The case's command line, for `model`, writing to `out`. */
function commandLine(c: Case, model: string, out: string): string[] {
  const words = (c.command ?? `intv run ${c.script} --model ${c.model} --out OUT`).split(/\s+/).filter(Boolean);
  assert.equal(words.shift(), "intv");
  return words.map((w, i) => (w === "OUT" ? out : words[i - 1] === "--model" ? model : w));
}

/** Run the command line in this process, capturing what it prints. */
async function intv(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t), isTTY: false } };
  const status = await runCli(args, io);
  return { status, stdout, stderr };
}

/** The file name `intv run` writes a result to. */
function fileName(kind: "save" | "output", name: string): string {
  return kind === "output" ? `output.${name}.npy` : `${name.replace(/\[(-?\d+)\]/g, ".$1")}.npy`;
}

/** The text the first diagnostic's carets underline: the source line above the `^` run. */
function underlined(rendered: string): string {
  const lines = rendered.split("\n");
  const carets = lines.findIndex((l) => /^\s*\|\s*\^+\s*$/.test(l));
  assert.ok(carets > 0, `no underline in:\n${rendered}`);
  const source = /^\s*\d+ \| (.*)$/.exec(lines[carets - 1]!)![1]!;
  const bar = lines[carets]!.indexOf("|");
  const start = lines[carets]!.indexOf("^") - bar - 2;
  const length = /\^+/.exec(lines[carets]!)![0].length;
  return source.slice(start, start + length);
}

function checkRefusal(c: Case, r: { status: number | null; stdout: string; stderr: string }): void {
  const e = c.error!;
  assert.equal(r.status, 1, `the script must be refused\n${r.stderr}`);
  assert.equal(r.stdout, "");
  const at = `${c.script}:${e.line}:${e.column}: error[${e.code}]`;
  assert.ok(r.stderr.startsWith(at), `first, a diagnostic \`${at}\`:\n${r.stderr}`);
  const first = r.stderr.slice(r.stderr.indexOf(at));
  assert.equal(underlined(first), e.span_text, "the underlined text");
  for (const m of e.mentions ?? []) assert.ok(first.includes(m), `the message mentions \`${m}\`:\n${r.stderr}`);
  const help = /= help: ([\s\S]*?)(?:\n\S|$)/.exec(first)?.[1] ?? "";
  for (const m of e.help_mentions ?? []) assert.ok(help.includes(m), `the help mentions \`${m}\`:\n${r.stderr}`);
}

/** Compiled models, for onnx.checker at the end. */
const compiled: { name: string; bytes: Uint8Array }[] = [];
let runs = 0;

describe("every case: the documented command line, the API with optimizations off", { concurrency: Math.max(1, Math.min(4, availableParallelism() - 1)) }, () => {
  for (const c of cases) {
    for (const model of [c.model, ...(c.also_models ?? [])]) {
      test(`${c.name} on ${model}`, async () => {
        const out = join(scratch, `run${++runs}`);
        const r = await intv(commandLine(c, model, out));
        if (c.expect === "error") return checkRefusal(c, r);
        assert.equal(r.status, 0, r.stderr);
        const written = new Map<string, Tensor>();
        for (const [file, spec] of Object.entries(c.expected ?? {})) {
          const got = await readNpy(join(out, file)).catch(() => assert.fail(`${file} was not written\n${r.stdout}`));
          const want = await readNpy(join(ROOT, c.dir, "expected", file));
          assert.deepEqual([want.type, want.dims], [spec.dtype, spec.shape], `${file}: the fixture agrees with cases.json`);
          const tol = c.tolerance_overrides?.[file];
          assertClose(got, want, tol?.atol ?? c.atol ?? 1e-4, tol?.rtol ?? c.rtol ?? 1e-4, file);
          written.set(file, got);
          // The summary table has a row for it.
          const row = file.slice(0, -4);
          assert.ok(r.stdout.split("\n").some((line) => line.split(/\s+/)[0]!.replace(/\[(-?\d+)\]/g, ".$1") === row), `a summary row for ${row}`);
        }

        const scriptPath = join(ROOT, c.script);
        const result = await compile({ source: readFileSync(scriptPath, "utf8"), filename: scriptPath, model: join(ROOT, model) });
        assert.deepEqual(result.diagnostics.filter((d) => d.severity === "error"), [], "no errors");
        const bytes = encodeModel(result.model!);
        // The dynamo exports have an IR version newer than Debian's onnx.checker knows.
        if (model === c.model) compiled.push({ name: c.name, bytes });
        const inputs: Record<string, Tensor> = {};
        for (const [name, spec] of Object.entries(c.inputs)) inputs[name] = await readNpy(join(ROOT, c.dir, spec.file));
        const runtime = await Runtime.load(bytes, { graphOptimizationLevel: "disabled" });
        try {
          const plain = await runtime.run(inputs);
          const produced = [...[...plain.saves].map(([n, t]) => [fileName("save", n), t] as const), ...[...plain.outputs].map(([n, t]) => [fileName("output", n), t] as const)];
          assert.ok(produced.length > 0, "something to compare");
          for (const [file, t] of produced) {
            const optimized = written.get(file) ?? (await readNpy(join(out, file)).catch(() => assert.fail(`${file} was not written by \`intv run\``)));
            assertClose(optimized, t, OPT_ATOL, OPT_RTOL, `${file}: optimizations disabled vs default`);
          }
        } finally {
          await runtime.release();
        }
      });
    }
  }
});

const PYTHON = "/usr/bin/python3";
const hasOnnx = spawnSync(PYTHON, ["-c", "import onnx"]).status === 0;

test("every compiled case passes onnx.checker", { skip: hasOnnx ? false : "needs /usr/bin/python3 with onnx" }, () => {
  assert.ok(compiled.length === cases.filter((c) => c.expect === "ok").length, `${compiled.length} compiled models`);
  const files = compiled.map(({ name, bytes }) => {
    const file = join(scratch, `${name}.onnx`);
    writeFileSync(file, bytes);
    return file;
  });
  const check = "import sys, onnx\nfor f in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(f))\n    print('ok', f)\n";
  const r = spawnSync(PYTHON, ["-c", check, ...files], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split("\n").length, files.length);
});
