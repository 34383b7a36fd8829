// Regression tests for the port failures of issue 10, one class at a time, on the zoo's real
// PyTorch exports. Values are compared with PyTorch's own hooks (the sketches in ports.json,
// test/sweep/sketch.ts); the port sweep (port-sweep.test.ts) covers every module, these pin down
// the cases that were once wrong with no warning.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { compile, decodeModel, encodeModel, formatTree, prepareModel, type Diagnostic } from "../compiler/index.js";
import { Runtime, readNpy, type Tensor } from "../runtime/index.js";
import { ROOT } from "./helpers.js";
import { compareSketch, sketch } from "./sweep/sketch.js";
import { loadPorts, ZOO } from "./sweep/sweep.js";

const modelPath = (name: string) => path.join(ROOT, ZOO, name, "model.onnx");

async function feeds(name: string): Promise<Record<string, Tensor>> {
  const out: Record<string, Tensor> = {};
  for (const [input, spec] of Object.entries(loadPorts(ROOT, name).inputs)) out[input] = await readNpy(path.join(ROOT, ZOO, name, spec.file));
  return out;
}

async function check(name: string, source: string): Promise<Diagnostic[]> {
  const r = await compile({ source, filename: `${name}.intv`, model: modelPath(name) });
  return r.diagnostics.filter((d) => d.severity === "error");
}

/** Compile and run `source` on a zoo model; its saves by name. */
async function run(name: string, source: string, level: "disabled" | "basic" | "extended" | "all" = "all"): Promise<Map<string, Tensor>> {
  const r = await compile({ source, filename: `${name}.intv`, model: modelPath(name) });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  assert.deepEqual(errors.map((d) => `${d.code} ${d.message}`), [], "compiles");
  const runtime = await Runtime.load(encodeModel(r.model!), { graphOptimizationLevel: level });
  try {
    return (await runtime.run(await feeds(name))).saves;
  } finally {
    await runtime.release();
  }
}

/** Equal to what PyTorch's hook (or pre-hook) saw at `module`'s `port`. */
function assertHook(name: string, module: string, port: "output" | "input", actual: Tensor | undefined): void {
  const entry = loadPorts(ROOT, name).modules.find((m) => m.name === module);
  assert.ok(entry?.[port], `ports.json has ${module}.${port}`);
  assert.ok(actual, `a value for ${module}.${port}`);
  assert.equal(compareSketch(sketch(actual), entry[port]), null, `${module}.${port} equals PyTorch's hook`);
}

const codes = (ds: Diagnostic[]) => ds.map((d) => d.code);

test("1. a nested Sequential is one level, as named_modules() says", async () => {
  const saves = await run("mobilenet_v3_small", "save a = features[1].block[0][1].output\nsave b = features[1].block[0].output\nsave c = features[1].block[0][0].input");
  assertHook("mobilenet_v3_small", "features.1.block.0.1", "output", saves.get("a"));
  assertHook("mobilenet_v3_small", "features.1.block.0.0", "input", saves.get("c"));
  assertHook("mobilenet_v3_small", "features.1.block.0", "output", saves.get("b"));
  // The path the old reading invented does not exist.
  assert.deepEqual(codes(await check("mobilenet_v3_small", "save a = features[1].block[0].block[0][0].output")), ["E0102"]);
});

test("2. [i] on a module that is not a list is the child named i, or an error listing the children", async () => {
  const errors = await check("resnet18", "save a = layer1[0][1].output");
  assert.deepEqual(codes(errors), ["E0104"]);
  assert.match(errors[0]!.message, /is not a list/);
  assert.match(errors[0]!.help ?? "", /layer1\[0\]\.conv1/);
});

test("3. a leaked no-op Cast is not the output of LLaMA's RMSNorm, and an input patch stays inside it", async () => {
  const saves = await run("llama", "save o = model.layers[0].input_layernorm.output\nsave i = model.layers[0].input_layernorm.input");
  assertHook("llama", "model.layers.0.input_layernorm", "output", saves.get("o"));
  assertHook("llama", "model.layers.0.input_layernorm", "input", saves.get("i"));
  // Scaling the norm's input changes nothing (RMSNorm is scale-invariant) — unless the patch
  // leaks into the residual connection, as it did through the Cast.
  const patch = loadPorts(ROOT, "llama").patches.find((p) => p.module === "model.layers.0.input_layernorm" && p.port === "input");
  assert.ok(patch);
  const r = await compile({ source: "model.layers[0].input_layernorm.input *= 0.5\n", filename: "p.intv", model: modelPath("llama") });
  const runtime = await Runtime.load(encodeModel(r.model!));
  const { outputs } = await runtime.run(await feeds("llama"));
  await runtime.release();
  const expected = await readNpy(path.join(ROOT, ZOO, "llama", patch.expected.logits!));
  const got = Array.from(outputs.get("logits")!.data as Float32Array);
  const want = Array.from(expected.data as Float32Array);
  assert.ok(got.every((x, i) => Math.abs(x - want[i]!) <= 1e-4 + 1e-4 * Math.abs(want[i]!)), "logits equal PyTorch's with the pre-hook");
});

test("4. a Conv with a folded BatchNorm: its output is refused, the BatchNorm entry after it is the fused value, inspect shows the fold", async () => {
  const errors = await check("resnet18", "save c = layer1[0].conv1.output");
  assert.deepEqual(codes(errors), ["E0110"]);
  assert.match(errors[0]!.message, /folded the BatchNorm/);
  assert.match(errors[0]!.help ?? "", /TrainingMode\.PRESERVE/);
  assert.match(errors[0]!.help ?? "", /tensor\("\/layer1\/layer1\.0\/conv1\/Conv_output_0"\)/);
  // MobileNetV2: features[0] is Conv2dNormActivation(conv, bn, relu6); bn's output is the fused Conv's.
  const saves = await run("mobilenet_v2", "save bn = features[0][1].output\nsave act = features[0][2].input");
  assertHook("mobilenet_v2", "features.0.1", "output", saves.get("bn"));
  assertHook("mobilenet_v2", "features.0.2", "input", saves.get("act"));
  assert.deepEqual(codes(await check("mobilenet_v2", "save x = features[0][1].input")), ["E0110"]);
  const { tree } = prepareModel(decodeModel(readFileSync(modelPath("resnet18"))));
  assert.match(formatTree(tree), /\(conv1\): .*a BatchNorm is folded into the Conv/);
});

test("5. a leading model. against a child named model: the reading that resolves, or both spellings", async () => {
  const saves = await run("llama", "save mlp = model.layers[0].mlp.output\nsave inner = model.model.output\nsave logits = model.outputs[\"logits\"]\nsave head = model.lm_head.output");
  assertHook("llama", "model.layers.0.mlp", "output", saves.get("mlp"));
  assertHook("llama", "model", "output", saves.get("inner"));
  assertHook("llama", "", "output", saves.get("logits"));
  assertHook("llama", "lm_head", "output", saves.get("head"));
  const errors = await check("llama", "save x = model.output");
  assert.deepEqual(codes(errors), ["E0113"]);
  assert.match(errors[0]!.help ?? "", /model\.model\.output/);
});

test("6. names that are not identifiers: a string index, and did-you-mean spelled as one", async () => {
  const saves = await run("regnet_y_400mf", 'save b = trunk_output.block1["block1-0"].output');
  assertHook("regnet_y_400mf", "trunk_output.block1.block1-0", "output", saves.get("b"));
  const errors = await check("regnet_y_400mf", "save b = trunk_output.block1.block1_0.output");
  assert.deepEqual(codes(errors), ["E0102"]);
  assert.match(errors[0]!.help ?? "", /\["block1-0"\]/);
});

test("7. a module named like a built-in is the module before . or [", async () => {
  const saves = await run("resnet18", "save r = relu.output\nsave y = relu(relu.input)");
  assertHook("resnet18", "relu", "output", saves.get("r"));
  assertHook("resnet18", "relu", "output", saves.get("y"));
});

test("8. a model wrapped in an If: its tree, its signature, its ports and tensor() inside the branches", async () => {
  const { tree } = prepareModel(decodeModel(readFileSync(modelPath("if_wrapped"))));
  const text = formatTree(tree);
  assert.match(text.split("\n")[0]!, /^model: float32\[1, 512\], int64\[\] →/, "the signature lists the input read only inside the branches");
  assert.ok(tree.get("encoder.0.reparam_conv")?.hasNodes());
  const saves = await run("if_wrapped", "save e = encoder[0].output\nsave d = decoder.decoder[0].output");
  assertHook("if_wrapped", "encoder.0", "output", saves.get("e"));
  assertHook("if_wrapped", "decoder.decoder.0", "output", saves.get("d"));
  const inside = [...tree.get("encoder.0.reparam_conv")!.nodes()[0]!.outputs][0]!.name;
  assert.deepEqual(codes(await check("if_wrapped", `save t = tensor("${inside}")`)), ["E0212"], "found, and only in one branch");
});

test("9. DenseNet-121 with saves around a transition loads at every optimization level", async () => {
  const source = "save a = features.transition1.conv.output\nsave b = features.transition1.pool.output";
  for (const level of ["disabled", "basic", "extended", "all"] as const) {
    const saves = await run("densenet121", source, level);
    assertHook("densenet121", "features.transition1.conv", "output", saves.get("a"));
    assertHook("densenet121", "features.transition1.pool", "output", saves.get("b"));
  }
});

test("10. a block returning (hidden, present) has the hidden state as its output", async () => {
  const saves = await run("gpt2_kv", "save h = transformer.h[0].output\nsave a = transformer.h[0].attn.output\nsave t = transformer.output");
  assertHook("gpt2_kv", "transformer.h.0", "output", saves.get("h"));
  assertHook("gpt2_kv", "transformer.h.0.attn", "output", saves.get("a"));
  assertHook("gpt2_kv", "transformer", "output", saves.get("t"));
  // Its input: the hidden state and the past keys/values enter; which is the first argument is not exported.
  assert.deepEqual(codes(await check("gpt2_kv", "save x = transformer.h[0].input")), ["E0111"]);
});

test("11a. a weight found by its role is reachable after a patch of it", async () => {
  const errors = await check("llama", "model.layers[0].mlp.down_proj.weight *= 0.5\nsave w = model.layers[0].mlp.down_proj.weight\nsave h = lm_head.weight");
  assert.deepEqual(codes(errors), []);
});

test("11b. save binds its name for later statements", async () => {
  const saves = await run("gpt2", "save h2 = transformer.h[2].output\nsave y = h2 * 2");
  const h = saves.get("h2")!.data as Float32Array;
  const y = saves.get("y")!.data as Float32Array;
  assert.ok(h.every((x, i) => Math.abs(y[i]! - 2 * x) <= 1e-6 * Math.abs(x) + 1e-7));
});

test("11c. REF = 0 zero-ablates a whole port (a value that broadcasts to its shape)", async () => {
  const saves = await run("gpt2", "transformer.h[3].mlp.output = 0\nsave m = transformer.h[3].mlp.output\nsave r = transformer.h[3].output - transformer.h[3].input");
  const m = saves.get("m")!;
  assert.deepEqual(m.dims, loadPorts(ROOT, "gpt2").modules.find((x) => x.name === "transformer.h.3.mlp")!.output!.shape);
  assert.ok((m.data as Float32Array).every((x) => x === 0));
  assert.deepEqual(codes(await check("gpt2", "transformer.h[3].mlp.output = zeros_like(transformer.h[3].mlp.output)[0, :, 0:2]")), ["E0203"]);
});
