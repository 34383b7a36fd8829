// Every example script in test/fixtures/cases.json, compiled with the API and run with
// onnxruntime, compared with PyTorch's own numbers (forward hooks; tools/fixtures/export.py).
// Error cases must be refused with the diagnostic the case names.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { compile, encodeModel } from "../compiler/index.js";
import { Runtime, readNpy, toNumbers, type Tensor } from "../runtime/index.js";

const ROOT = path.resolve(import.meta.dirname, "../..");

interface Case {
  name: string;
  model: string;
  also_models?: string[];
  script: string;
  dir: string;
  inputs: Record<string, { kind: string; dtype: string; shape: number[]; file: string }>;
  expect: "ok" | "error";
  expected?: Record<string, { dtype: string; shape: number[] }>;
  atol?: number;
  rtol?: number;
  tolerance_overrides?: Record<string, { atol: number; rtol: number }>;
  error?: { kind: string; mentions?: string[]; line?: number; column?: number };
}

const cases = (JSON.parse(readFileSync(path.join(ROOT, "test/fixtures/cases.json"), "utf8")) as { cases: Case[] }).cases;

/** The file name `intv run` writes a result to. */
function fileName(kind: "save" | "output", name: string): string {
  return kind === "output" ? `output.${name}.npy` : `${name.replace(/\[(\d+)\]/g, ".$1")}.npy`;
}

export function assertClose(actual: Tensor, expected: Tensor, atol: number, rtol: number, what: string): void {
  assert.deepEqual(actual.dims, expected.dims, `${what}: shape`);
  assert.equal(actual.type, expected.type, `${what}: element type`);
  const a = toNumbers(actual);
  const e = toNumbers(expected);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < e.length; i++) {
    const diff = Math.abs(Number(a[i]) - Number(e[i]));
    const excess = diff - (atol + rtol * Math.abs(Number(e[i])));
    if (!(excess <= 0) && (at < 0 || excess > worst)) {
      worst = excess;
      at = i;
    }
  }
  assert.ok(at < 0, `${what}: element ${at} is ${a[at]}, expected ${e[at]} (tolerance ${atol} + ${rtol}·|expected|)`);
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
