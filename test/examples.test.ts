// Every example script in test/fixtures/cases.json, compiled with the API and run with
// onnxruntime, compared with PyTorch's own numbers (forward hooks; tools/fixtures/export.py).
// Error cases must be refused with the diagnostic the case names.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { compile, encodeModel } from "../compiler/index.js";
import { Runtime, readNpy, type Tensor } from "../runtime/index.js";
import { ROOT, assertClose, loadCases } from "./helpers.js";

const cases = loadCases();

/** The file name `intv run` writes a result to. */
function fileName(kind: "save" | "output", name: string): string {
  return kind === "output" ? `output.${name}.npy` : `${name.replace(/\[(\d+)\]/g, ".$1")}.npy`;
}

for (const c of cases) {
  for (const modelPath of [c.model, ...(c.also_models ?? [])]) {
    test(`${c.name} on ${path.basename(path.dirname(modelPath))}`, async () => {
      const scriptPath = path.join(ROOT, c.script);
      const result = await compile({ source: readFileSync(scriptPath, "utf8"), filename: scriptPath, model: path.join(ROOT, modelPath) });
      const errors = result.diagnostics.filter((d) => d.severity === "error");
      if (c.expect === "error") {
        assert.ok(errors.length > 0, "the script must be refused");
        if (c.error?.line) assert.equal(errors[0]!.span?.line, c.error.line, JSON.stringify(errors[0]));
        return;
      }
      assert.deepEqual(errors, [], "no errors");
      const runtime = await Runtime.load(encodeModel(result.model!));
      const inputs: Record<string, Tensor> = {};
      for (const [name, spec] of Object.entries(c.inputs)) inputs[name] = await readNpy(path.join(ROOT, c.dir, spec.file));
      const out = await runtime.run(inputs);
      const produced = new Map<string, Tensor>();
      for (const [name, t] of out.saves) produced.set(fileName("save", name), t);
      for (const [name, t] of out.outputs) produced.set(fileName("output", name), t);
      for (const file of Object.keys(c.expected ?? {})) {
        const got = produced.get(file);
        assert.ok(got, `${file} was not produced (have ${[...produced.keys()].join(", ")})`);
        const tol = c.tolerance_overrides?.[file];
        assertClose(got, await readNpy(path.join(ROOT, c.dir, "expected", file)), tol?.atol ?? c.atol ?? 1e-4, tol?.rtol ?? c.rtol ?? 1e-4, file);
      }
    });
  }
}
