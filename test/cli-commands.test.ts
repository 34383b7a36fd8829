// The compiler's commands as a user types them: inspect, check, compile, graph. Run through the
// command-line entry point in this process (test/cli.test.ts covers the real binary).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, existsSync, symlinkSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runCli } from "../cli/app.js";
import { decodeModel, MANIFEST_KEY } from "../compiler/index.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
process.chdir(ROOT);
const GPT2 = "examples/gpt2.onnx";

async function intv(...args: string[]) {
  let stdout = "";
  let stderr = "";
  const status = await runCli(args, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t), isTTY: false } });
  return { status, stdout, stderr };
}

test("inspect prints the module tree like print(model), to a depth, or as JSON", async () => {
  const r = await intv("inspect", GPT2);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^model: int64\[batch, seq\] → float32\[batch, seq, 96\]/);
  assert.match(r.stdout, /\n {8}\(mlp\): float32\[batch, seq, 32\] → float32\[batch, seq, 32\] {2}#\d+/);
  const shallow = await intv("inspect", GPT2, "--depth", "1");
  assert.equal(shallow.stdout.trim().split("\n").length, 3); // model, transformer, lm_head
  const json = JSON.parse((await intv("inspect", GPT2, "--json", "--depth", "3")).stdout);
  assert.deepEqual(json.children[0].children.map((c: { path: string }) => c.path), ["transformer.wte", "transformer.wpe", "transformer.h", "transformer.ln_f"]);
  assert.equal(json.children[0].children[2].children.length, 12);
  const cnn = await intv("inspect", "test/fixtures/cnn/model.onnx");
  assert.match(cnn.stdout, /\(relu\): .* calls: 2/);
});

test("inspect: a file that is not a model is one clear line and exit status 1", async () => {
  for (const file of ["README.md", "no/such/model.onnx"]) {
    const r = await intv("inspect", file);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^error: ${file.replace(/[./]/g, "\\$&")}`));
  }
  assert.equal((await intv("inspect", GPT2, "--depth", "x")).status, 2);
});

test("inspect --tensors lists a module's tensors (name, operator, type), each usable as tensor(NAME)", async () => {
  const r = await intv("inspect", GPT2, "--tensors", "transformer.h[3].attn");
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines[0], "transformer.h[3].attn:");
  // The attention probabilities, found without Python; then the submodules' own tensors.
  assert.ok(lines.some((l) => /^ {2}\/transformer\/h\.3\/attn\/Softmax_output_0 +Softmax +float32\[batch, 4, seq, seq\]$/.test(l)), r.stdout);
  assert.ok(lines.includes("transformer.h[3].attn.c_attn:"), r.stdout);
  assert.ok(!r.stdout.includes("h.4"), "only the module asked for");
  // Shape plumbing appears with --all only.
  assert.ok(!/\bShape\b/.test(r.stdout));
  assert.match((await intv("inspect", GPT2, "--tensors", "transformer.h.3.attn", "--all")).stdout, / Shape +int64\[3\] +\(shape\)/);
  // JSON, and every name listed is a tensor the compiler accepts.
  const json = JSON.parse((await intv("inspect", GPT2, "--tensors", "model.transformer.h[3].attn", "--json")).stdout) as { display: string; tensors: { name: string; op: string }[] }[];
  assert.equal(json[0]!.display, "transformer.h[3].attn");
  const names = json.flatMap((m) => m.tensors.map((t) => t.name));
  const dir = mkdtempSync(path.join(tmpdir(), "intv-tensors-"));
  const script = path.join(dir, "t.intv");
  writeFileSync(script, names.map((n, i) => `save t${i} = tensor("${n}")`).join("\n") + "\n");
  const check = await intv("check", script, "--model", GPT2);
  assert.equal(check.status, 0, check.stderr);
  // A path the model does not have: one line, a suggestion, status 1; a path without --tensors is a usage error.
  const bad = await intv("inspect", GPT2, "--tensors", "transformer.h[3].atn");
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /has no module `transformer\.h\[3\]\.atn`; did you mean `transformer\.h\[3\]\.attn`\?/);
  assert.equal((await intv("inspect", GPT2, "transformer.h[3].attn")).status, 2);
});

test("check: ok with warnings is 0, errors are 1, --json gives the data", async () => {
  const ok = await intv("check", "examples/seed6_collect_first.intv", "--model", GPT2);
  assert.equal(ok.status, 0);
  assert.match(ok.stderr, /warning\[W0001\]/);
  const bad = await intv("check", "examples/seed2_cycle.intv", "--model", GPT2);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^examples\/seed2_cycle\.intv:3:1: error\[E0301\]/);
  const json = JSON.parse((await intv("check", "examples/seed2_cycle.intv", "--model", GPT2, "--json")).stdout);
  assert.equal(json[0].code, "E0301");
  assert.equal(json[0].span.line, 3);
  assert.equal((await intv("check", "examples/missing.intv", "--model", GPT2)).status, 1);
  assert.equal((await intv("check", "examples/seed1_replace.intv")).status, 2); // --model is required
});

test("compile writes a self-describing model and a manifest, never over the input", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "intv-compile-"));
  const out = path.join(dir, "out.onnx");
  const r = await intv("compile", "examples/save_mlps.intv", "--model", GPT2, "-o", out, "--manifest", path.join(dir, "m.json"));
  assert.equal(r.status, 0, r.stderr);
  const model = decodeModel(readFileSync(out));
  const manifest = JSON.parse(model.metadata_props!.find((p) => p.key === MANIFEST_KEY)!.value!);
  assert.deepEqual(manifest, JSON.parse(readFileSync(path.join(dir, "m.json"), "utf8")));
  assert.equal(manifest.saves.length, 14);
  // The input model is refused as output, whatever the spelling.
  copyFileSync(GPT2, path.join(dir, "model.onnx"));
  symlinkSync(path.join(dir, "model.onnx"), path.join(dir, "link.onnx"));
  for (const o of [path.join(dir, "model.onnx"), path.join(dir, "sub/../model.onnx"), path.join(dir, "link.onnx")]) {
    const before = readFileSync(path.join(dir, "model.onnx"));
    const refused = await intv("compile", "examples/save_mlps.intv", "--model", path.join(dir, "model.onnx"), "-o", o);
    assert.equal(refused.status, 2, o);
    assert.match(refused.stderr, /never overwrites/);
    assert.deepEqual(readFileSync(path.join(dir, "model.onnx")), before);
  }
  // A rejected script writes nothing.
  const bad = await intv("compile", "examples/seed2_cycle.intv", "--model", GPT2, "-o", path.join(dir, "bad.onnx"));
  assert.equal(bad.status, 1);
  assert.ok(!existsSync(path.join(dir, "bad.onnx")));
});

test("compile: the compiled model runs with `intv run COMPILED.onnx`", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "intv-compiled-"));
  const out = path.join(dir, "seed1.onnx");
  assert.equal((await intv("compile", "examples/seed1_replace.intv", "--model", GPT2, "-o", out)).status, 0);
  const r = await intv("run", out, "--input", "input_ids=examples/input_ids.npy", "--out", path.join(dir, "res"), "--json");
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(path.join(dir, "res/output.logits.npy")));
});

test("graph draws the plan as dot and mermaid", async () => {
  const dot = await intv("graph", "examples/seed3_two_pass.intv", "--model", GPT2);
  assert.equal(dot.status, 0, dot.stderr);
  assert.match(dot.stdout, /^digraph intv \{/);
  assert.match(dot.stdout, /subgraph "cluster_first"/);
  assert.match(dot.stdout, /"place:first:transformer\.h\[8\]\.mlp\.output" -> "save:first:first\.mlp8"/);
  assert.match(dot.stdout, /"patch:0" -> "place:second:transformer\.h\[2\]\.mlp\.output"/);
  const mermaid = await intv("graph", "examples/seed3_two_pass.intv", "--model", GPT2, "--format", "mermaid");
  assert.match(mermaid.stdout, /^flowchart TB\n/);
  assert.match(mermaid.stdout, /save first\.mlp8 \(line 3\)/);
  assert.equal((await intv("graph", "examples/seed3_two_pass.intv", "--model", GPT2, "--format", "png")).status, 2);
});

test("load and import stay inside the script's folder unless --allow-path allows more", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "intv-paths-"));
  writeFileSync(path.join(dir, "s.intv"), 'let v = load("../outside.npy")\nsave x = transformer.h[6].output + v\n');
  copyFileSync("examples/steer.npy", path.join(path.dirname(dir), "outside.npy"));
  const refused = await intv("check", path.join(dir, "s.intv"), "--model", GPT2);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /outside the script's folder/);
  const allowed = await intv("check", path.join(dir, "s.intv"), "--model", GPT2, "--allow-path", path.dirname(dir));
  assert.equal(allowed.status, 0, allowed.stderr);
});
