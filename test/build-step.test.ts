// intv as a package, installed the way a user installs it: `npm pack` of this repository, the
// tarball installed into folders with no .npmrc, with npm's own output checked for warnings.
//
// - A compile-only project: `npm install intv.tgz` installs no onnxruntime-node and no native
//   code, quietly and small; `npx intv check/compile` and `import { compile } from "intv"` work,
//   declarations type-check without skipLibCheck, and `intv run` / `Runtime.load` say in one line
//   how to install onnxruntime-node. Then, with onnxruntime-node added as the README says,
//   `npx intv run` (a script, and the compiled model) matches PyTorch's numbers.
// - examples/build-step/: `npm install`, `npm run build` (intv's API at build time), then intv
//   removed and `npm start` (plain onnxruntime-node).
//
// The printed values are compared with PyTorch's (tools/fixtures/export.py): the steer case's h6
// and logits, and save_mlps' mlp.3 (upstream of the patch). npm runs with its cache
// (--prefer-offline); the registry must be reachable on a cold cache.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readModelFile } from "../compiler/onnx/index.js";
import { MANIFEST_KEY, parseManifest } from "../common/index.js";
import { ONNXRUNTIME_RANGE, readNpy, toNumbers, type ElemName, type Tensor, type TypedArray } from "../runtime/index.js";
import { assertClose } from "./helpers.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const EXAMPLE = path.join(ROOT, "examples/build-step");
const CASES = path.join(ROOT, "test/fixtures/gpt2/cases");
const NPM_FLAGS = ["--prefer-offline", "--no-audit", "--no-fund"];
const PKG = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  peerDependencies: Record<string, string>; devDependencies: Record<string, string>;
};
/** The onnxruntime-node the repository tests with (a version in the peer range). */
const ORT_VERSION = PKG.devDependencies["onnxruntime-node"]!;

// Child npm processes must not inherit the settings `npm test` exports to its scripts
// (npm_config_local_prefix would point them at this repository, npm_config_loglevel would hide
// their errors); only where the cache, registry and certificates are is passed on.
const KEEP = /^npm_config_(cache|registry|userconfig|globalconfig|cafile|strict_ssl|(https_|http_|no)?proxy)$/i;
const childEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !(/^npm_/i.test(k) || k === "INIT_CWD" || k === "ONNXRUNTIME_NODE_INSTALL") || KEEP.test(k)),
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

/** An npm command that must succeed without a single warning. */
function quiet(r: SpawnSyncReturns<string>, what: string): string {
  const out = ok(r, what);
  assert.doesNotMatch(`${r.stdout}\n${r.stderr}`, /\bnpm (warn|WARN)\b/, `${what} printed warnings\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return out;
}

/** Bytes under `dir`, and its files whose names match `match`. */
function scan(dir: string, match: RegExp): { bytes: number; matched: string[] } {
  let bytes = 0;
  const matched: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        bytes += statSync(p).size;
        if (match.test(e.name)) matched.push(path.relative(dir, p));
      }
    }
  };
  walk(dir);
  return { bytes, matched };
}

/** dist/bundle/ is missing, or older than a module of tsc's it is made from. */
function bundleIsStale(): boolean {
  const bundle = path.join(ROOT, "dist/bundle");
  if (!existsSync(path.join(bundle, "intv.js")) || !existsSync(path.join(bundle, "index.js"))) return true;
  const mtime = (f: string) => statSync(f).mtimeMs;
  const made = Math.min(...readdirSync(bundle).filter((f) => f.endsWith(".js")).map((f) => mtime(path.join(bundle, f))));
  const sources = [path.join(ROOT, "dist/index.js")];
  for (const dir of ["cli", "compiler", "grammar", "runtime"]) {
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith(".js")) sources.push(p);
      }
    };
    walk(path.join(ROOT, "dist", dir));
  }
  return sources.some((f) => mtime(f) > made);
}

let tmp = "";
let tarball = "";

before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "intv-package-"));
  // The installed `intv` saves its code caches here (cli/codeCache.ts).
  childEnv.XDG_CACHE_HOME = path.join(tmp, "cache");
  // The tarball, without `prepack` (dist/ is built when the suite runs). The bundle is made
  // again only when it is older than tsc's output (a run after an incremental tsc alone): other
  // test files read dist/bundle/ at the same time.
  assert.ok(existsSync(path.join(ROOT, "dist/cli/main.js")), "dist/ is built");
  if (bundleIsStale()) ok(run(process.execPath, [path.join(ROOT, "dist/tools/bundle.js")], ROOT), "the bundle step");
  const packDir = path.join(tmp, "pack");
  mkdirSync(packDir);
  const packOut = quiet(run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", packDir], ROOT), "npm pack");
  const tarballs = readdirSync(packDir).filter((f) => f.endsWith(".tgz"));
  assert.equal(tarballs.length, 1, `npm pack wrote ${tarballs.join(", ") || "nothing"}`);
  tarball = path.join(packDir, tarballs[0]!);
  const packed = (JSON.parse(packOut.slice(packOut.indexOf("["))) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  for (const f of ["package.json", "README.md", "dist/bundle/index.js", "dist/bundle/intv.js", "dist/bundle/cli.cjs", "dist/bundle/LICENSES.md", "dist/index.d.ts", "dist/runtime/index.d.ts", "dist/compiler/index.d.ts"]) {
    assert.ok(packed.includes(f), `the tarball lacks ${f}`);
  }
  assert.deepEqual(packed.filter((f) => /^dist\/(test|bench|tools)\//.test(f)), [], "tests, benchmarks and tools stay out of the tarball");
  assert.deepEqual(packed.filter((f) => f.endsWith(".js") && !f.startsWith("dist/bundle/")), [], "the only JavaScript shipped is the bundle");
});

after(() => {
  if (tmp && !process.env.INTV_KEEP_TMP) rmSync(tmp, { recursive: true, force: true });
});

test("a compile-only project: npm install intv.tgz is quiet and small, without onnxruntime-node; run says how to add it; with it, run matches PyTorch", { timeout: 300_000 }, async (t) => {
  const started = Date.now();
  const step = (what: string) => t.diagnostic(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // An empty project, no .npmrc, with the example model, script and inputs.
  const app = path.join(tmp, "app");
  mkdirSync(app);
  writeFileSync(path.join(app, "package.json"), `${JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }, null, 2)}\n`);
  for (const f of ["gpt2.onnx", "steer.intv", "steer.npy", "input_ids.npy", "seed2_cycle.intv"]) cpSync(path.join(ROOT, "examples", f), path.join(app, f));

  const installStarted = Date.now();
  quiet(run("npm", ["install", tarball, ...NPM_FLAGS], app), "npm install intv.tgz");
  const installSeconds = (Date.now() - installStarted) / 1000;
  const { bytes, matched: native } = scan(path.join(app, "node_modules"), /\.(node|so(\.\d+)*|dylib|dll)$/);
  t.diagnostic(`npm install intv.tgz: ${installSeconds.toFixed(1)} s, node_modules ${(bytes / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(!existsSync(path.join(app, "node_modules/onnxruntime-node")), "onnxruntime-node is not installed with intv");
  assert.deepEqual(native, [], "no native code is installed");
  assert.ok(bytes < 25 * 2 ** 20, `node_modules is ${(bytes / 2 ** 20).toFixed(1)} MiB`);
  // `npx intv` as a user types it, once; then the same bin without npx's own start-up.
  const npx = (args: string[]) => run(path.join(app, "node_modules/.bin/intv"), args, app);
  step("installed");

  // The CLI without onnxruntime-node.
  assert.match(ok(run("npx", ["--no-install", "intv", "--help"], app), "npx intv --help"), /^usage: intv COMMAND/);
  const cycle = npx(["check", "seed2_cycle.intv", "--model", "gpt2.onnx"]);
  assert.equal(cycle.status, 1, `check of a rejected script exits 1\n${cycle.stderr}`);
  assert.match(cycle.stderr, /^seed2_cycle\.intv:3:1: error\[E0301\]: /m);
  ok(npx(["check", "steer.intv", "--model", "gpt2.onnx"]), "npx intv check");
  ok(npx(["compile", "steer.intv", "--model", "gpt2.onnx", "-o", "steered.onnx"]), "npx intv compile");
  assert.ok(existsSync(path.join(app, "steered.onnx")));
  const runArgs = ["--input", "input_ids=input_ids.npy", "--param", "steer=steer.npy"];
  const install = `npm install onnxruntime-node@${ONNXRUNTIME_RANGE}`;
  const missing = `error: running a model needs the package onnxruntime-node (${ONNXRUNTIME_RANGE}), which is not installed; install it with \`${install}\`\n`;
  for (const args of [["steer.intv", "--model", "gpt2.onnx"], ["steered.onnx"]]) {
    const r = npx(["run", ...args, ...runArgs, "--out", "out"]);
    assert.equal(r.status, 1, `intv run without onnxruntime-node exits 1\n${r.stdout}\n${r.stderr}`);
    assert.equal(r.stderr, missing, "one line, naming the package, the range and the command");
    assert.equal(r.stdout, "");
    assert.ok(!existsSync(path.join(app, "out")), "nothing written");
  }
  // Each command run saved its code cache (not --help), named by the bundle, Node and the command.
  const caches = readdirSync(path.join(tmp, "cache", "intv"));
  const prefix = `cli-[0-9a-f]{16}-${process.version.replace(/\./g, "\\.")}-${process.arch}-`;
  assert.deepEqual(caches.map((f) => f.replace(new RegExp(`^${prefix}`), "")).sort(), ["check.cache", "compile.cache", "run.cache"], caches.join(", "));

  // The API without onnxruntime-node: compiling works; Runtime.load names what to install.
  writeFileSync(path.join(app, "api.js"), [
    'import { readFileSync, writeFileSync } from "node:fs";',
    'import { compileOrThrow, encodeModel, Runtime, OnnxRuntimeMissingError } from "intv";',
    'const { model, manifest } = await compileOrThrow({ source: readFileSync("steer.intv", "utf8"), filename: "steer.intv", model: "gpt2.onnx" });',
    'writeFileSync("api.onnx", encodeModel(model));',
    'console.log(JSON.stringify(manifest.saves.map((s) => s.name)));',
    "try { await Runtime.load(\"api.onnx\"); console.log(\"loaded\"); } catch (e) { console.log(e instanceof OnnxRuntimeMissingError, e.message); }",
    "",
  ].join("\n"));
  const api = ok(run(process.execPath, ["api.js"], app), "node api.js").split("\n");
  assert.equal(api[0], '["h6"]');
  assert.equal(api[1], `true ${missing.slice("error: ".length, -1)}`);

  // The declarations type-check in a strict project without skipLibCheck, with neither
  // onnxruntime-node nor @types/node installed.
  writeFileSync(path.join(app, "types.ts"), [
    'import { compile, Runtime, type ExecutionProvider, type RunResult } from "intv";',
    'const providers: ExecutionProvider[] = ["cpu", { name: "cuda", deviceId: 0 }];',
    'export async function go(): Promise<RunResult> {',
    '  const result = await compile({ source: "save h = transformer.h[0].output\\n", filename: "x.intv", model: "gpt2.onnx" });',
    '  const runtime = await Runtime.load("api.onnx", { executionProviders: providers });',
    '  return runtime.run({ input_ids: [[1, 2]] }).finally(() => void result);',
    "}",
    "",
  ].join("\n"));
  writeFileSync(path.join(app, "tsconfig.json"), JSON.stringify({
    compilerOptions: { noEmit: true, strict: true, skipLibCheck: false, module: "nodenext", moduleResolution: "nodenext", target: "es2022", types: [] },
    files: ["types.ts"],
  }));
  ok(run(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "."], app), "tsc of a consumer");
  step("compiled without onnxruntime-node");

  // onnxruntime-node added as the README says: its install script (a CUDA download) denied.
  quiet(run("npm", ["pkg", "set", "allowScripts.onnxruntime-node=false", "--json"], app), "npm pkg set allowScripts");
  quiet(run("npm", ["install", `onnxruntime-node@${ORT_VERSION}`, ...NPM_FLAGS], app), "npm install onnxruntime-node");
  step("installed onnxruntime-node");

  const expected = (file: string) => readNpy(path.join(CASES, file));
  for (const [i, args] of [["steer.intv", "--model", "gpt2.onnx"], ["steered.onnx"]].entries()) {
    const out = `out${i}`;
    const table = ok(npx(["run", ...args, ...runArgs, "--out", out]), `npx intv run ${args[0]}`);
    assert.match(table, /^h6 +\[2, 8, 32\] +float32 /m);
    assertClose(await readNpy(path.join(app, out, "h6.npy")), await expected("steer/expected/h6.npy"), 1e-4, 1e-4, `${args[0]}: h6`);
    assertClose(await readNpy(path.join(app, out, "output.logits.npy")), await expected("steer/expected/output.logits.npy"), 1e-4, 1e-4, `${args[0]}: logits`);
  }
  step("ran");
});

test("the peer range of onnxruntime-node is the one intv's error message names, and includes the tested version", () => {
  assert.equal(PKG.peerDependencies["onnxruntime-node"], ONNXRUNTIME_RANGE);
  const [major, minor] = ORT_VERSION.split(".").map(Number);
  const m = /^\^(\d+)\.(\d+)\.\d+$/.exec(ONNXRUNTIME_RANGE);
  assert.ok(m && Number(m[1]) === major && Number(m[2]) <= minor!, `${ORT_VERSION} is in ${ONNXRUNTIME_RANGE}`);
});

interface Printed { type: ElemName; dims: number[]; data: number[] }

function tensor(p: Printed | undefined, what: string): Tensor {
  assert.ok(p, `${what} was not printed`);
  assert.equal(p.type, "float32", `${what}: element type`);
  return { type: "float32", dims: p.dims, data: Float32Array.from(p.data) as TypedArray } as Tensor;
}

test("examples/build-step: npm install → npm run build → npm start without intv, matches PyTorch", { timeout: 240_000 }, async (t) => {
  const started = Date.now();
  const step = (what: string) => t.diagnostic(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // A copy of the example next to a copy of the model, as in examples/ (build.js reads ../gpt2.onnx).
  const app = path.join(tmp, "build-step");
  const skip = new Set(["node_modules", "build", "package-lock.json"]);
  cpSync(EXAMPLE, app, { recursive: true, filter: (src) => !skip.has(path.basename(src)) && !src.endsWith(".tgz") });
  cpSync(path.join(ROOT, "examples/gpt2.onnx"), path.join(tmp, "gpt2.onnx"));
  cpSync(tarball, path.join(app, "intv.tgz"));
  assert.ok(!existsSync(path.join(app, ".npmrc")), "the example needs no .npmrc");

  quiet(run("npm", ["install", ...NPM_FLAGS], app), "npm install");
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
