// onnxruntime's graph optimizer must not change what a compiled model computes: every ok case of
// test/fixtures/cases.json is compiled, run with graph optimizations disabled and at the default
// level, and every model output and save is compared between the two. (The saves are extra graph
// outputs in the middle of fusable patterns — MatMul+Add, the GELU and LayerNorm subgraphs — so
// a fusion that swallowed one, or fed it a different value, would show here.)

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { compile, encodeModel } from "../compiler/index.js";
import { Runtime, readNpy, type Tensor } from "../runtime/index.js";
import { assertClose } from "./helpers.js";

const ROOT = path.resolve(import.meta.dirname, "../..");

interface Case {
  name: string;
  model: string;
  also_models?: string[];
  script: string;
  dir: string;
  inputs: Record<string, { kind: string; file: string }>;
  expect: "ok" | "error";
}

const cases = (JSON.parse(readFileSync(path.join(ROOT, "test/fixtures/cases.json"), "utf8")) as { cases: Case[] }).cases;

/** Optimized and unoptimized runs differ only by float rounding (fused kernels sum in another order). */
const ATOL = 1e-5;
const RTOL = 1e-4;

for (const c of cases.filter((c) => c.expect === "ok")) {
  for (const modelPath of [c.model, ...(c.also_models ?? [])]) {
    test(`${c.name} on ${path.basename(path.dirname(modelPath))}: optimizations disabled vs default`, async () => {
      const scriptPath = path.join(ROOT, c.script);
      const result = await compile({ source: readFileSync(scriptPath, "utf8"), filename: scriptPath, model: path.join(ROOT, modelPath) });
      assert.deepEqual(result.diagnostics.filter((d) => d.severity === "error"), [], "no errors");
      const bytes = encodeModel(result.model!);
      const inputs: Record<string, Tensor> = {};
      for (const [name, spec] of Object.entries(c.inputs)) inputs[name] = await readNpy(path.join(ROOT, c.dir, spec.file));

      const runs = [];
      for (const level of ["disabled", undefined] as const) {
        const runtime = await Runtime.load(bytes, level === undefined ? {} : { graphOptimizationLevel: level });
        try {
          runs.push(await runtime.run(inputs));
        } finally {
          await runtime.release();
        }
      }
      const [plain, optimized] = runs as [Awaited<ReturnType<Runtime["run"]>>, Awaited<ReturnType<Runtime["run"]>>];
      assert.deepEqual([...optimized.outputs.keys()], [...plain.outputs.keys()], "the same model outputs");
      assert.deepEqual([...optimized.saves.keys()], [...plain.saves.keys()], "the same saves");
      assert.ok(plain.outputs.size + plain.saves.size > 0, "something to compare");
      for (const [name, t] of plain.outputs) assertClose(optimized.outputs.get(name)!, t, ATOL, RTOL, `output ${name}`);
      for (const [name, t] of plain.saves) assertClose(optimized.saves.get(name)!, t, ATOL, RTOL, `save ${name}`);
    });
  }
}
