// Every example case of test/fixtures/cases.json run the way a user runs it: its documented
// `intv run` command line, through the command-line entry point (in this process: a child process
// per case costs a Node start and a compiler load each, minutes in all; test/cli.test.ts covers
// the real binary and its exit codes). The .npy files written must match PyTorch's own
// numbers; a refused script must exit with status 1 and a diagnostic at the line the case names.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { readNpy, toNumbers, type Tensor } from "../runtime/index.js";
import { runCli } from "../cli/app.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
process.chdir(ROOT); // the cases' command lines are relative to the repository

interface Case {
  name: string;
  model: string;
  also_models?: string[];
  script: string;
  dir: string;
  expect: "ok" | "error";
  expected?: Record<string, { dtype: string; shape: number[] }>;
  atol?: number;
  rtol?: number;
  tolerance_overrides?: Record<string, { atol?: number; rtol?: number }>;
  error?: { kind: string; mentions?: string[]; line?: number; column?: number };
  command?: string;
}

const cases = (JSON.parse(readFileSync(join(ROOT, "test/fixtures/cases.json"), "utf8")) as { cases: Case[] }).cases;
const scratch = mkdtempSync(join(tmpdir(), "intv-examples-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The case's command line, for `model`, writing to `out`. */
function commandLine(c: Case, model: string, out: string): string[] {
  const words = (c.command ?? `intv run ${c.script} --model ${c.model} --out OUT`).split(/\s+/).filter(Boolean);
  assert.equal(words.shift(), "intv");
  return words.map((w, i) => (w === "OUT" ? out : words[i - 1] === "--model" ? model : w));
}

function assertClose(actual: Tensor, expected: Tensor, atol: number, rtol: number, what: string): void {
  assert.equal(actual.type, expected.type, `${what}: element type`);
  assert.deepEqual(actual.dims, expected.dims, `${what}: shape`);
  const a = toNumbers(actual);
  const e = toNumbers(expected);
  for (let i = 0; i < e.length; i++) {
    const ok = Math.abs(a[i]! - e[i]!) <= atol + rtol * Math.abs(e[i]!) || (Number.isNaN(a[i]) && Number.isNaN(e[i]));
    if (!ok) assert.fail(`${what}: element ${i} is ${a[i]}, expected ${e[i]} (tolerance ${atol} + ${rtol}·|expected|)`);
  }
}

/** Run the command line in this process, capturing what it prints. */
async function intv(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t), isTTY: false } };
  const status = await runCli(args, io);
  return { status, stdout, stderr };
}

let runs = 0;
describe("every example through `intv run`", { concurrency: Math.max(1, Math.min(4, availableParallelism() - 1)) }, () => {
for (const c of cases) {
  for (const model of [c.model, ...(c.also_models ?? [])]) {
    test(`intv run ${c.script} --model ${model}`, async () => {
      const out = join(scratch, `run${++runs}`);
      const r = await intv(commandLine(c, model, out));
      if (c.expect === "error") {
        assert.equal(r.status, 1, `the script must be refused\n${r.stderr}`);
        assert.equal(r.stdout, "");
        if (c.error?.line) {
          const at = `${c.script}:${c.error.line}:${c.error.column ?? ""}`;
          assert.ok(r.stderr.includes(at), `a diagnostic at ${at}:\n${r.stderr}`);
        }
        for (const m of c.error?.mentions ?? []) assert.ok(r.stderr.includes(m), `the message mentions \`${m}\`:\n${r.stderr}`);
        return;
      }
      assert.equal(r.status, 0, r.stderr);
      for (const [file, spec] of Object.entries(c.expected ?? {})) {
        const got = await readNpy(join(out, file)).catch(() => assert.fail(`${file} was not written\n${r.stdout}`));
        const want = await readNpy(join(ROOT, c.dir, "expected", file));
        assert.deepEqual([want.type, want.dims], [spec.dtype, spec.shape], `${file}: the fixture agrees with cases.json`);
        const tol = c.tolerance_overrides?.[file];
        assertClose(got, want, tol?.atol ?? c.atol ?? 1e-4, tol?.rtol ?? c.rtol ?? 1e-4, file);
        // The summary table has a row for it.
        const row = file.slice(0, -4);
        assert.ok(r.stdout.split("\n").some((line) => line.split(/\s+/)[0]!.replace(/\[(-?\d+)\]/g, ".$1") === row), `a summary row for ${row}`);
      }
    });
  }
}
});
