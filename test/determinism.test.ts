// Compiling the same script and model twice gives identical bytes, so builds can be cached: in one
// process (the same decoded model reused, or decoded afresh), in two processes through the command
// line, and the command line's file equals the API's encoding.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { compile } from "../compiler/index.js";
import { decodeModel, encodeModel } from "../compiler/onnx/index.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = join(ROOT, "dist/cli/main.js");
// Script paths are relative, as a build would write them (the manifest records them as given).
process.chdir(ROOT);
const scratch = mkdtempSync(join(tmpdir(), "intv-determinism-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

const GPT2 = "test/fixtures/gpt2/model.onnx";
const CNN = "test/fixtures/cnn/model.onnx";
// Among them the two-pass ones, a load, a param, a loop, and a model called twice.
const cases: [string, string][] = [
  ["examples/seed3_two_pass.intv", GPT2],
  ["examples/activation_patching.intv", GPT2],
  ["examples/seed6_collect_first.intv", GPT2],
  ["examples/steer.intv", GPT2],
  ["examples/steer_load.intv", GPT2],
  ["examples/builtins.intv", GPT2],
  ["examples/cnn_basic.intv", CNN],
];

const sha = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

async function compileBytes(script: string, model: string | ReturnType<typeof decodeModel>): Promise<Uint8Array> {
  const r = await compile({ source: readFileSync(join(ROOT, script), "utf8"), filename: script, model });
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error"), [], script);
  return encodeModel(r.model!);
}

describe("the API: the same script and model give the same bytes", () => {
  for (const [script, model] of cases) {
    test(script, async () => {
      const proto = decodeModel(new Uint8Array(readFileSync(join(ROOT, model))));
      const first = await compileBytes(script, proto);
      const again = await compileBytes(script, proto); // the same decoded model, reused
      const fresh = await compileBytes(script, decodeModel(new Uint8Array(readFileSync(join(ROOT, model)))));
      const fromPath = await compileBytes(script, join(ROOT, model));
      assert.equal(sha(again), sha(first));
      assert.equal(sha(fresh), sha(first));
      assert.equal(sha(fromPath), sha(first));
    });
  }
});

describe("the command line: two processes write the same bytes, equal to the API's", { concurrency: 2 }, () => {
  for (const [script, model] of cases) {
    test(script, async () => {
      const name = script.replace(/\W/g, "_");
      const outs = [join(scratch, `${name}-1.onnx`), join(scratch, `${name}-2.onnx`)];
      for (const out of outs) {
        const r = spawnSync(process.execPath, [MAIN, "compile", script, "--model", model, "-o", out], { cwd: ROOT, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
      }
      const [a, b] = outs.map((f) => readFileSync(f));
      assert.equal(sha(b!), sha(a!));
      assert.equal(sha(a!), sha(await compileBytes(script, model)));
    });
  }
});
