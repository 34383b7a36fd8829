// The module tree intv recovers from each exported fixture, checked against the module names and
// node counts PyTorch itself reported when the fixture was exported (modules.json, written by
// tools/fixtures/export.py from `model.named_modules()` and the exporter's scopes).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { decodeModel, prepareModel, formatTree, moduleToJson } from "../compiler/index.js";
import { displayPath, joinScopeSegments, modulePorts, moduleParams, Origins, parsePythonStringList, type Module } from "../compiler/modules/index.js";
import type { Node } from "../compiler/ir/index.js";

const ROOT = path.resolve(import.meta.dirname, "../..");

interface ModulesJson {
  modules: { name: string; class: string; children: string[]; subtree_nodes: number }[];
  parameters: { name: string; shape: number[]; initializer: boolean }[];
}

function load(fixture: string) {
  const model = decodeModel(readFileSync(path.join(ROOT, "test/fixtures", fixture, "model.onnx")));
  const expected = JSON.parse(readFileSync(path.join(ROOT, "test/fixtures", fixture, "modules.json"), "utf8")) as ModulesJson;
  return { ...prepareModel(model), expected };
}

for (const fixture of ["gpt2", "gpt2-dynamo", "cnn"]) {
  test(`${fixture}: every module PyTorch names with nodes is in the tree, with its node count`, () => {
    const { tree, expected } = load(fixture);
    for (const m of expected.modules) {
      if (m.name === "") continue;
      const found = tree.get(m.name);
      if (m.subtree_nodes === 0) {
        assert.ok(!found || !found.hasNodes(), `${m.name} has no nodes in the export`);
        continue;
      }
      assert.ok(found, `module ${m.name} (${m.class}) is missing`);
      const count = found.nodes().length + found.calls.slice(1).reduce((n, c) => n + c.nodes().length, 0);
      assert.equal(count, m.subtree_nodes, `node count of ${m.name}`);
    }
  });

  test(`${fixture}: the tree has no module PyTorch does not have`, () => {
    const { tree, expected } = load(fixture);
    const names = new Set(expected.modules.map((m) => m.name));
    for (const m of tree.all()) {
      if (m.path === "" || m.callOf) continue;
      assert.ok(names.has(m.path), `unexpected module ${m.path}`);
    }
  });

  test(`${fixture}: named parameters are found by name`, () => {
    const { tree, expected } = load(fixture);
    for (const p of expected.parameters.filter((x) => x.initializer)) {
      const dot = p.name.lastIndexOf(".");
      const m = tree.get(p.name.slice(0, dot));
      assert.ok(m, `module of ${p.name}`);
      const param = moduleParams(m).find((x) => x.name === p.name.slice(dot + 1));
      assert.ok(param, `parameter ${p.name}`);
      assert.deepEqual(param.value.type?.shape, p.shape, `shape of ${p.name}`);
    }
  });
}

test("gpt2: ports of a block, an MLP and a layer norm", () => {
  const { tree } = load("gpt2");
  const mlp = tree.get("transformer.h.2.mlp")!;
  const ports = modulePorts(mlp);
  assert.equal(ports.inputs[0]!.value.name, "/transformer/h.2/ln_2/Add_1_output_0");
  assert.equal(ports.outputs[0]!.value.name, "/transformer/h.2/mlp/c_proj/Reshape_1_output_0");
  assert.deepEqual(ports.outputs[0]!.value.type, { elemType: 1, shape: ["batch", "seq", 32] });
  const block = modulePorts(tree.get("transformer.h.2")!);
  assert.equal(block.outputs[0]!.value.name, "/transformer/h.2/Add_1_output_0");
  const ln2 = modulePorts(tree.get("transformer.h.2.ln_2")!);
  assert.equal(ln2.inputs[0]!.value.name, "/transformer/h.2/Add_output_0");
  // ln_2's input also feeds the residual add, which is outside ln_2: patching ln_2.input must not reach it.
  assert.ok(ln2.inputs[0]!.value.uses.length > ln2.inputs[0]!.slots.length);
  assert.equal(tree.get("transformer.h")!.childList().length, 12);
  assert.equal(tree.get("transformer.h")!.childAt(-1)!.path, "transformer.h.11");
});

test("gpt2: lm_head's folded weight is found by its role and described as transposed", () => {
  const { tree } = load("gpt2");
  const w = moduleParams(tree.get("lm_head")!).find((p) => p.name === "weight");
  assert.ok(w);
  assert.match(w.note, /\[in, out\]/);
  assert.deepEqual(w.value.type?.shape, [32, 96]);
});

test("cnn: a module called twice is `relu` and `relu_1`, also `relu.calls[1]`", () => {
  const { tree } = load("cnn");
  const relu = tree.get("layer1.0.relu")!;
  assert.equal(relu.calls.length, 2);
  assert.equal(relu.calls[1]!.path, "layer1.0.relu_1");
  assert.equal(tree.get("layer1.0")!.childList().map((c) => c.name).join(","), "conv1,relu,conv2");
});

test("scope segments join into module paths", () => {
  assert.equal(joinScopeSegments(["transformer", "h.2", "mlp"]), "transformer.h.2.mlp");
  assert.equal(joinScopeSegments(["layer1", "layer1.0", "conv1"]), "layer1.0.conv1");
  assert.equal(joinScopeSegments(["layer2", "layer2.0", "downsample", "downsample.0"]), "layer2.0.downsample.0");
  assert.deepEqual(parsePythonStringList("['', 'a', \"b.c\"]"), ["", "a", "b.c"]);
  assert.equal(parsePythonStringList("not a list"), null);
  assert.equal(displayPath("transformer.h.2.mlp"), "transformer.h[2].mlp");
});

test("inspect text and JSON show paths, ports and ranks", () => {
  const { tree } = load("gpt2");
  const text = formatTree(tree, 3);
  assert.match(text, /^model: int64\[batch, seq\] → float32\[batch, seq, 96\]/);
  assert.match(text, /\n {6}\(2\): float32\[batch, seq, 32\] → float32\[batch, seq, 32\] {2}#\d+/);
  const json = moduleToJson(tree.root, 2);
  assert.equal(json.children[0]!.path, "transformer");
  assert.equal(json.outputs[0]!.tensor, "logits");
});

// What a value is computed from (modules/dataflow.ts) decides which ports are data. It must not
// depend on the order values are asked about: a walk that took a value still waiting lower on its
// stack for a cycle called weights "data" when their consumers were asked first (found on these
// fixtures asking in reverse execution order).
for (const fixture of ["generate/gpt2/model_merged.onnx", "generate/llama/model.onnx", "infer/swin.onnx", "infer/hand_shapes_opset14.onnx"]) {
  test(`${fixture}: every value's origin is the same whichever order they are asked in`, () => {
    const { ir } = prepareModel(decodeModel(readFileSync(path.join(ROOT, "test/fixtures", fixture))));
    const values = [...ir.graph.values.values()];
    const forward = new Origins();
    const backward = new Origins();
    const reversed = new Map([...values].reverse().map((v) => [v, backward.of(v)]));
    const differ = values.filter((v) => forward.of(v) !== reversed.get(v)).map((v) => `${v.name}: ${forward.of(v)} asked first, ${reversed.get(v)} asked last`);
    assert.deepEqual(differ, []);
    for (const v of values) if (v.kind === "initializer") assert.equal(backward.of(v), "const", v.name);
  });
}

test("a module's nodes and rank: its subtree's nodes in execution order, ties (nodes of If bodies) depth first", () => {
  // The definition, written the simple way (tree.ts computes it without sorting every module's list).
  const reference = (m: Module): Node[] => {
    const all = [...m.ownNodes];
    for (const c of m.children.values()) all.push(...reference(c));
    return all.sort((a, b) => m.tree.rankOf(a) - m.tree.rankOf(b));
  };
  const models = [
    ...["gpt2", "gpt2-dynamo", "cnn"].map((f) => path.join(ROOT, "test/fixtures", f, "model.onnx")),
    path.join(ROOT, "test/fixtures/compiler/branchy.onnx"),
  ];
  for (const file of models) {
    const { tree } = prepareModel(decodeModel(readFileSync(file)));
    let unranked = 0;
    for (const m of tree.all()) {
      const expected = reference(m);
      assert.deepEqual(m.nodes(), expected, `${file}: ${m.displayPath}`);
      assert.equal(m.rank(), expected.length === 0 ? -1 : tree.rankOf(expected[0]!), `${file}: rank of ${m.displayPath}`);
      assert.equal(m.hasNodes(), expected.length > 0);
      unranked += expected.filter((n) => tree.rankOf(n) === Number.MAX_SAFE_INTEGER).length;
    }
    if (file.endsWith("branchy.onnx")) assert.ok(unranked > 0, "the If model has nodes in bodies (unranked)");
  }
});
