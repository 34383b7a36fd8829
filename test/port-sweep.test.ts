// Issue 10's contract: a module path means what PyTorch's `named_modules()` means, and
// `.output`/`.input` are what forward hooks see — or the compiler refuses with the reason.
// Every module of every model in the zoo is checked (test/sweep/sweep.ts); a wrong value fails.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./helpers.js";
import { coverageMarkdown } from "./sweep/coverage.js";
import { sign } from "./sweep/sketch.js";
import { loadPorts, sweepModel, ZOO, type ModelSweep } from "./sweep/sweep.js";

const index = JSON.parse(readFileSync(path.join(ROOT, ZOO, "index.json"), "utf8")) as { models: { name: string }[] };
const only = process.env.INTV_SWEEP_ONLY?.split(",");
const models = index.models.map((m) => m.name).filter((m) => !only || only.includes(m));
const sweeps: ModelSweep[] = [];

test("the sketch's signs are the generator's, bit for bit", () => {
  for (const name of models) {
    for (const v of loadPorts(ROOT, name).sketch_test_vectors ?? []) assert.equal(sign(v.i, v.j), v.s, `s(${v.i}, ${v.j})`);
  }
});

for (const name of models) {
  test(`${name}: every port is what PyTorch's hooks see, or refused`, async () => {
    const sweep = await sweepModel(ROOT, name);
    sweeps.push(sweep);
    const wrong = sweep.results.filter((r) => r.status === "wrong");
    assert.deepEqual(wrong.map((r) => `${r.module || "model"} ${r.port}: ${r.detail}`), [], `${wrong.length} wrong`);
    assert.deepEqual(sweep.levels, ["disabled", "basic", "extended", "all"], "loads at every optimization level");
  });
}

test("docs/coverage.md is what the sweep found", { skip: only !== undefined }, () => {
  const file = path.join(ROOT, "docs/coverage.md");
  const text = coverageMarkdown(sweeps) + "\n";
  if (process.env.INTV_WRITE_COVERAGE === "1") writeFileSync(file, text);
  assert.ok(existsSync(file), "docs/coverage.md exists (INTV_WRITE_COVERAGE=1 writes it)");
  assert.equal(readFileSync(file, "utf8"), text, "docs/coverage.md is stale: rerun with INTV_WRITE_COVERAGE=1");
});
