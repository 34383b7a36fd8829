// Dev-time check: every compiled example passes `onnx.checker` (Debian's python3-onnx). Skipped
// where that Python is not installed; users, CI machines without it and the suite do not need it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { compile, encodeModel } from "../compiler/index.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const PYTHON = "/usr/bin/python3";
const hasOnnx = spawnSync(PYTHON, ["-c", "import onnx"]).status === 0;

interface Case {
  name: string;
  model: string;
  script: string;
  expect: string;
}

test("compiled examples pass onnx.checker", { skip: hasOnnx ? false : "needs /usr/bin/python3 with onnx" }, async () => {
  const cases = (JSON.parse(readFileSync(path.join(ROOT, "test/fixtures/cases.json"), "utf8")) as { cases: Case[] }).cases;
  const dir = mkdtempSync(path.join(tmpdir(), "intv-checker-"));
  const files: string[] = [];
  for (const c of cases.filter((x) => x.expect === "ok")) {
    const scriptPath = path.join(ROOT, c.script);
    const result = await compile({ source: readFileSync(scriptPath, "utf8"), filename: scriptPath, model: path.join(ROOT, c.model) });
    assert.ok(result.model, c.name);
    const file = path.join(dir, `${c.name}.onnx`);
    writeFileSync(file, encodeModel(result.model));
    files.push(file);
  }
  const check = "import sys, onnx\nfor f in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(f))\n    print('ok', f)\n";
  const r = spawnSync(PYTHON, ["-c", check, ...files], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split("\n").length, files.length);
});
