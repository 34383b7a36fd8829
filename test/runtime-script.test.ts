// runScript: compile and run in one call, with the compiled model cached in memory.

import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DiagnosticError } from "../common/index.js";
import { clearScriptCache, readNpy, runScript, toNumbers } from "../runtime/index.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CASE = join(ROOT, "test/fixtures/gpt2/cases/steer");
const MODEL = join(ROOT, "test/fixtures/gpt2/model.onnx");
after(() => clearScriptCache());

function close(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((x, i) => Math.abs(x - b[i]!) <= 1e-4 + 1e-4 * Math.abs(b[i]!));
}

test("compiles once, runs many times, matches PyTorch", async () => {
  const inputs = { input_ids: await readNpy(join(CASE, "input_ids.npy")), steer: await readNpy(join(CASE, "steer.npy")) };
  const options = { script: join(ROOT, "examples/steer.intv"), model: MODEL, inputs };
  const t0 = performance.now();
  const first = await runScript(options);
  const t1 = performance.now();
  const second = await runScript(options);
  const t2 = performance.now();
  assert.ok(t2 - t1 < t1 - t0, `the second call (${(t2 - t1).toFixed(0)} ms) reuses the compiled model (first ${(t1 - t0).toFixed(0)} ms)`);
  const h6 = await readNpy(join(CASE, "expected/h6.npy"));
  assert.ok(close(toNumbers(first.saves.get("h6")!), toNumbers(h6)));
  assert.deepEqual(second.saves.get("h6"), first.saves.get("h6"));
  assert.ok(close(toNumbers(first.outputs.get("logits")!), toNumbers(await readNpy(join(CASE, "expected/output.logits.npy")))));
  // The compiled model went to onnxruntime by path, its weights read from the model file, and the
  // file it was written to is gone (runtime/loadCompiled.ts).
  assert.deepEqual(readdirSync(dirname(MODEL)).filter((f) => f.startsWith(".intv-run-")), []);
});

test("a script that does not compile throws its diagnostics", async () => {
  await assert.rejects(
    runScript({ script: "cycle.intv", source: "transformer.h[2].mlp.output = transformer.h[8].mlp.output\n", model: MODEL }),
    (e: unknown) => e instanceof DiagnosticError && e.diagnostics.some((d) => d.code === "E0301" && d.span?.file === "cycle.intv"),
  );
});

test("options are checked by name", async () => {
  await assert.rejects(runScript({ script: "x.intv", model: MODEL, modle: "y" } as never), /unknown runScript option `modle`/);
});
