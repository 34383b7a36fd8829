// examples/build-step/ as a user would run it: `npm pack` of this repository, the tarball
// installed into a copy of the example, `npm run build` (intv's API at build time), then intv
// removed and `npm start` (plain onnxruntime-node). The printed values are compared with PyTorch's
// (tools/fixtures/export.py): the steer case's h6 and logits, and save_mlps' mlp.3 (upstream of
// the patch). npm runs with its cache (--prefer-offline); the registry must be reachable on a
// cold cache.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readModelFile } from "../compiler/onnx/index.js";
import { MANIFEST_KEY, parseManifest } from "../common/index.js";
import { readNpy, toNumbers, type ElemName, type Tensor, type TypedArray } from "../runtime/index.js";
import { assertClose } from "./helpers.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const EXAMPLE = path.join(ROOT, "examples/build-step");
const CASES = path.join(ROOT, "test/fixtures/gpt2/cases");
const NPM_FLAGS = ["--prefer-offline", "--no-audit", "--no-fund"];

// Child npm processes must not inherit the settings `npm test` exports to its scripts
// (npm_config_local_prefix would point them at this repository, npm_config_loglevel would hide
// their errors); only where the cache, registry and certificates are is passed on.
const KEEP = /^npm_config_(cache|registry|userconfig|globalconfig|cafile|strict_ssl|(https_|http_|no)?proxy)$/i;
const childEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !(/^npm_/i.test(k) || k === "INIT_CWD") || KEEP.test(k)),
);
childEnv.NO_COLOR = "1";

function run(cmd: string, args: string[], cwd: string, timeoutMs = 120_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: childEnv, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (status ${r.status})\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r.stdout;
}

interface Printed { type: ElemName; dims: number[]; data: number[] }

function tensor(p: Printed | undefined, what: string): Tensor {
  assert.ok(p, `${what} was not printed`);
  assert.equal(p.type, "float32", `${what}: element type`);
  return { type: "float32", dims: p.dims, data: Float32Array.from(p.data) as TypedArray } as Tensor;
}

test("examples/build-step: npm pack → npm install → npm run build → npm start without intv, matches PyTorch", { timeout: 240_000 }, async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "intv-build-step-"));
  t.after(() => {
    if (!process.env.INTV_KEEP_TMP) rmSync(tmp, { recursive: true, force: true });
  });
  const started = Date.now();
  const step = (what: string) => t.diagnostic(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // The tarball. `npm pack` runs `prepare` (tsc); dist/ is already built when the suite runs.
  const packDir = path.join(tmp, "pack");
  const built = existsSync(path.join(ROOT, "dist/index.js"));
  const packArgs = ["pack", "--json", "--pack-destination", packDir, ...(built ? ["--ignore-scripts"] : [])];
  mkdirSync(packDir);
  const packOut = ok(run("npm", packArgs, ROOT), "npm pack");
  const tarballs = readdirSync(packDir).filter((f) => f.endsWith(".tgz"));
  assert.equal(tarballs.length, 1, `npm pack wrote ${tarballs.join(", ") || "nothing"}`);
  const packed = (JSON.parse(packOut.slice(packOut.indexOf("["))) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  for (const f of ["package.json", "dist/index.js", "dist/index.d.ts", "dist/cli/main.js", "dist/runtime/index.d.ts", "dist/compiler/index.d.ts"]) {
    assert.ok(packed.includes(f), `the tarball lacks ${f}`);
  }
  assert.deepEqual(packed.filter((f) => /^dist\/(test|bench|tools)\//.test(f)), [], "tests, benchmarks and tools stay out of the tarball");
  step("packed");

  // A copy of the example next to a copy of the model, as in examples/ (build.js reads ../gpt2.onnx).
  const app = path.join(tmp, "build-step");
  const skip = new Set(["node_modules", "build", "package-lock.json"]);
  cpSync(EXAMPLE, app, { recursive: true, filter: (src) => !skip.has(path.basename(src)) && !src.endsWith(".tgz") });
  cpSync(path.join(ROOT, "examples/gpt2.onnx"), path.join(tmp, "gpt2.onnx"));
  cpSync(path.join(packDir, tarballs[0]!), path.join(app, "intv.tgz"));
  assert.match(readFileSync(path.join(app, ".npmrc"), "utf8"), /^onnxruntime-node-install=skip$/m, "the example skips onnxruntime-node's CUDA download");

  ok(run("npm", ["install", ...NPM_FLAGS], app), "npm install");
  assert.ok(existsSync(path.join(app, "node_modules/intv/dist/index.d.ts")), "intv installed from the tarball, with declarations");
  step("installed");

  // The example's inputs are the fixture's.
  const inputs = JSON.parse(readFileSync(path.join(app, "inputs.json"), "utf8")) as { input_ids: number[][]; steer: number[] };
  const ids = await readNpy(path.join(CASES, "steer/input_ids.npy"));
  assert.deepEqual(inputs.input_ids.flat(), Array.from(toNumbers(ids)), "inputs.json input_ids = steer/input_ids.npy");
  assert.deepEqual(Array.from(Float32Array.from(inputs.steer)), Array.from(toNumbers(await readNpy(path.join(CASES, "steer/steer.npy")))), "inputs.json steer = steer/steer.npy");

  // A rejected script: diagnostics rendered, status 1, nothing written.
  writeFileSync(path.join(app, "broken.intv"), "param steer: float32[32]\nsave x = transformer.h[99].output\n");
  const bad = run("npm", ["run", "build", "--silent", "--", "broken.intv"], app);
  assert.equal(bad.status, 1, `a broken script exits 1\n${bad.stdout}\n${bad.stderr}`);
  assert.match(bad.stderr, /^broken\.intv:2:10: error\[E0104\]: .*out of range/m);
  assert.match(bad.stderr, /^2 \| save x = transformer\.h\[99\]\.output\n {2}\| {10}\^+$/m);
  assert.match(bad.stderr, /build failed: 1 error in broken\.intv/);
  assert.ok(!existsSync(path.join(app, "build/model.onnx")), "no model written for a rejected script");

  // The build step.
  const buildOut = ok(run("npm", ["run", "build"], app), "npm run build");
  assert.match(buildOut, /wrote build\/model\.onnx/);
  const manifestJson = readFileSync(path.join(app, "build/manifest.json"), "utf8");
  const manifest = parseManifest(manifestJson);
  assert.deepEqual(manifest.saves.map((s) => s.name), ["h6", "mlp3"]);
  assert.deepEqual(manifest.params.map((p) => [p.name, p.hasDefault]), [["steer", false]]);
  const { model } = await readModelFile(path.join(app, "build/model.onnx"));
  const stored = model.metadata_props?.find((p) => p.key === MANIFEST_KEY)?.value;
  assert.ok(stored, `the compiled model carries ${MANIFEST_KEY}`);
  assert.deepEqual(parseManifest(stored), manifest, "build/manifest.json is the manifest in the model");
  step("built");

  // The run step, with intv gone.
  rmSync(path.join(app, "node_modules/intv"), { recursive: true, force: true });
  const table = ok(run("npm", ["start", "--silent"], app), "npm start");
  assert.match(table, /^h6 +\[2, 8, 32\] +float32 /m);
  assert.match(table, /^mlp3 +\[2, 8, 32\] +float32 /m);
  assert.match(table, /^output logits +\[2, 8, 96\] +float32 /m);
  const printed = JSON.parse(ok(run("npm", ["start", "--silent", "--", "--json"], app), "npm start -- --json")) as {
    saves: Record<string, Printed>; outputs: Record<string, Printed>;
  };
  step("ran");

  const expected = (file: string) => readNpy(path.join(CASES, file));
  assertClose(tensor(printed.saves.h6, "h6"), await expected("steer/expected/h6.npy"), 1e-4, 1e-4, "h6");
  assertClose(tensor(printed.outputs.logits, "logits"), await expected("steer/expected/output.logits.npy"), 1e-4, 1e-4, "logits");
  assertClose(tensor(printed.saves.mlp3, "mlp3"), await expected("save_mlps/expected/mlp.3.npy"), 1e-4, 1e-4, "mlp3");
});
