// onnxruntime-node is an optional peer dependency, loaded only to run a model (runtime/ort.ts):
// what a missing or broken one reports, and which commands load it at all (a probe preloaded into
// each process reports whether the module was loaded). The packed package without onnxruntime-node
// is tested in build-step.test.ts.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { importOnnxRuntime, loadOnnxRuntime } from "../runtime/ort.js";
import { ModelLoadError, ONNXRUNTIME_RANGE, OnnxRuntimeMissingError } from "../runtime/index.js";

const ROOT = path.resolve(import.meta.dirname, "../..");

describe("loading onnxruntime-node", () => {
  test("missing: one line naming the package, the range and the command", async () => {
    const e = await importOnnxRuntime("intv-test-no-such-package").then(() => null, (err: unknown) => err);
    assert.ok(e instanceof OnnxRuntimeMissingError && e instanceof ModelLoadError, String(e));
    assert.equal(e.message, `running a model needs the package onnxruntime-node (${ONNXRUNTIME_RANGE}), which is not installed; install it with \`npm install onnxruntime-node@${ONNXRUNTIME_RANGE}\``);
  });

  test("installed but failing to load: the first line of the reason", async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "intv-ort-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const broken = path.join(dir, "broken.cjs");
    writeFileSync(broken, 'throw new Error("libonnxruntime.so.1: cannot open shared object file\\n    at somewhere");\n');
    const e = await importOnnxRuntime(broken).then(() => null, (err: unknown) => err);
    assert.ok(e instanceof OnnxRuntimeMissingError, String(e));
    assert.equal(e.message, `cannot load onnxruntime-node (libonnxruntime.so.1: cannot open shared object file); reinstall it with \`npm install onnxruntime-node@${ONNXRUNTIME_RANGE}\``);
  });

  test("installed: the module, loaded once", async () => {
    const ort = await loadOnnxRuntime();
    assert.equal(typeof ort.InferenceSession.create, "function");
    assert.equal(typeof ort.Tensor, "function");
    assert.equal(await loadOnnxRuntime(), ort);
  });
});

describe("only running a model loads onnxruntime-node", { concurrency: 2 }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "intv-ort-probe-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const probe = path.join(dir, "probe.mjs");
  writeFileSync(probe, [
    'import { createRequire } from "node:module";',
    'import { writeSync } from "node:fs";',
    "const cache = createRequire(import.meta.url).cache;",
    'process.on("exit", () => writeSync(2, `\\nPROBE ${Object.keys(cache).some((k) => k.includes("/onnxruntime-node/"))}\\n`));',
    "",
  ].join("\n"));

  /** Whether onnxruntime-node was loaded by `node ARGS` (which must exit with `status`). */
  const loads = (args: string[], status = 0): boolean => {
    const r = spawnSync(process.execPath, ["--import", pathToFileURL(probe).href, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, status, `node ${args.join(" ")}: status ${r.status}\n${r.stderr}`);
    const m = /^PROBE (true|false)$/m.exec(r.stderr);
    assert.ok(m, `no probe line in\n${r.stderr}`);
    return m[1] === "true";
  };

  const clis = [["modules", path.join(ROOT, "dist/cli/main.js")], ["bundle", path.join(ROOT, "dist/bundle/intv.js")]] as const;
  const out = path.join(dir, "out");
  for (const [label, cli] of clis) {
    const skip = existsSync(cli) ? false : `${cli} is not built (npm run build)`;
    test(`${label}: --help, check, compile and inspect do not load it`, { skip }, () => {
      assert.equal(loads([cli, "--help"]), false, "--help");
      assert.equal(loads([cli, "check", "examples/seed2_cycle.intv", "--model", "examples/gpt2.onnx"], 1), false, "check");
      assert.equal(loads([cli, "compile", "examples/steer.intv", "--model", "examples/gpt2.onnx", "-o", path.join(dir, `${label}.onnx`)]), false, "compile");
      assert.equal(loads([cli, "inspect", "examples/gpt2.onnx", "--depth", "1"]), false, "inspect");
    });
    test(`${label}: run loads it`, { skip }, () => {
      assert.equal(loads([cli, "run", "examples/seed3_two_pass.intv", "--model", "examples/gpt2.onnx", "--input", "input_ids=examples/input_ids.npy", "--out", `${out}-${label}`]), true);
    });
  }

  for (const [label, entry] of [["modules", "dist/index.js"], ["bundle", "dist/bundle/index.js"]] as const) {
    const file = path.join(ROOT, entry);
    test(`${label}: import "intv" and compile do not load it`, { skip: existsSync(file) ? false : `${entry} is not built` }, () => {
      const script = `const intv = await import(${JSON.stringify(pathToFileURL(file).href)}); ` +
        'await intv.compileOrThrow({ source: "save h = transformer.h[0].output\\n", filename: "x.intv", model: "examples/gpt2.onnx" });';
      assert.equal(loads(["--input-type=module", "-e", script]), false);
    });
  }

});
