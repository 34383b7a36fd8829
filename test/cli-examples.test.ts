// Every example case of test/fixtures/cases.json run the way a user runs it: its documented
// `intv run` command line, through the command-line entry point (in this process: a child process
// per case costs a Node start and a compiler load each, minutes in all; test/cli.test.ts covers
// the real binary and its exit codes). The .npy files written must match PyTorch's own
// numbers; a refused script must exit with status 1 and a diagnostic at the line the case names.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { readNpy } from "../runtime/index.js";
import { assertClose, loadCases, type Case } from "./helpers.js";
import { runCli } from "../cli/app.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
process.chdir(ROOT); // the cases' command lines are relative to the repository

const cases = loadCases();
const scratch = mkdtempSync(join(tmpdir(), "intv-examples-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

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
