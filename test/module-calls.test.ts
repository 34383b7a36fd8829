// Modules of real models called as functions (issue 11, item 1), beyond GPT-2's one-argument
// calls in test/fixtures/cases.json: calls with several positional arguments on the zoo's BERT,
// DenseNet (whose layers take a list) and cached GPT-2 (a block's `layer_past` tuple), and LLaMA
// decoder layers, against PyTorch calling the same modules on the activations its hooks saw
// (tools/fixtures/zoo/module_calls.py), and the refusals a call meets.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { compile, decodeModel, encodeModel } from "../compiler/index.js";
import { Runtime, readNpy, type Tensor } from "../runtime/index.js";
import { assertClose, ROOT } from "./helpers.js";

const ZOO = path.join(ROOT, "test/fixtures/zoo");
const CALLS = path.join(ROOT, "test/fixtures/zoo_calls");

interface ZooIndex {
  models: { name: string; inputs: Record<string, { dtype: string; shape: number[] }> }[];
}
interface CallsJson {
  models: { model: string; script: string; saves: Record<string, string> }[];
}

const index = JSON.parse(readFileSync(path.join(ZOO, "index.json"), "utf8")) as ZooIndex;
const calls = JSON.parse(readFileSync(path.join(CALLS, "calls.json"), "utf8")) as CallsJson;

const load = (name: string) => decodeModel(readFileSync(path.join(ZOO, name, "model.onnx")));

async function inputsOf(name: string): Promise<Record<string, Tensor>> {
  const entry = index.models.find((m) => m.name === name)!;
  const out: Record<string, Tensor> = {};
  for (const input of Object.keys(entry.inputs)) out[input] = await readNpy(path.join(ZOO, name, `${input}.npy`));
  return out;
}

for (const c of calls.models) {
  test(`${c.model}: modules called as functions compute what PyTorch's modules compute`, async () => {
    const result = await compile({ source: c.script, filename: `${c.model}-calls.intv`, model: load(c.model) });
    assert.deepEqual(result.diagnostics.filter((d) => d.severity === "error"), []);
    const run = await (await Runtime.load(encodeModel(result.model!))).run(await inputsOf(c.model));
    assert.deepEqual([...run.saves.keys()].sort(), Object.keys(c.saves).sort());
    for (const [save, file] of Object.entries(c.saves)) {
      assertClose(run.saves.get(save)!, await readNpy(path.join(CALLS, file)), 1e-4, 1e-4, `${c.model} ${save}`);
    }
  });
}

/** The first error of compiling `source` on zoo model `name`. */
async function firstError(name: string, source: string) {
  const result = await compile({ source, filename: "call.intv", model: load(name) });
  const d = result.diagnostics.find((x) => x.severity === "error");
  assert.ok(d, `${source} must be refused`);
  return d;
}

test("a BERT layer called with its hidden states alone is refused: the export does not say which input is first", async () => {
  const d = await firstError("bert", "save y = encoder.layer[1](encoder.layer[0].output)");
  assert.equal(d.code, "E0111");
  assert.match(d.help ?? "", /encoder\.layer\[1\]\(x0, x1\)/);
});

test("a call with more arguments than the module reads is refused", async () => {
  const d = await firstError("bert", "save y = encoder.layer[1](encoder.layer[0].output, encoder.layer[1].inputs[1], encoder.layer[1].inputs[1])");
  assert.equal(d.code, "E0201");
  assert.match(d.message, /reads 2 values from outside .* the call gives 3/);
});

test("a call's integer argument where the module reads floats is refused with the conversion", async () => {
  const d = await firstError("bert", "save y = encoder.layer[1](encoder.layer[0].output, embeddings.inputs[1])");
  assert.equal(d.code, "E0204");
  assert.match(d.message, /reads float32 as `inputs\[1\]`, but the argument is int64/);
});

test("a module inside an If branch cannot be called (E0212), whichever branch it is in", async () => {
  for (const path of ["encoder[1].reparam_conv", "encoder[1]", "decoder", "stft"]) {
    const d = await firstError("if_wrapped", `param z: float32[1, 17, 17]\nsave y = ${path}(z)`);
    assert.equal(d.code, "E0212", `${path}: ${d.message}`);
    assert.match(d.message, /runs inside a control-flow body \(the `If` node `If_0`\)/);
  }
});

test("a module PyTorch calls twice is called as its first call: ResNet's `relu`, called twice per block", async () => {
  // `layer1[0].relu` is PyTorch's first call of the module; its second call reads the residual sum,
  // which the model computes from the first call's result. The call copies the first call only, so
  // it is not refused (E0209) and computes relu of its argument.
  const result = await compile({ source: "save y = layer1[0].relu(maxpool.output - 1)\nsave x = maxpool.output", filename: "call.intv", model: load("resnet18") });
  assert.deepEqual(result.diagnostics.filter((d) => d.severity === "error"), []);
  const run = await (await Runtime.load(encodeModel(result.model!))).run(await inputsOf("resnet18"));
  const x = run.saves.get("x")!;
  const want: Tensor = { type: "float32", dims: x.dims, data: Float32Array.from(x.data as Float32Array, (v) => Math.max(v - 1, 0)) };
  assertClose(run.saves.get("y")!, want, 0, 0, "relu(x - 1)");
});

test("a module run twice under one name, around another module, cannot be called (E0209), with or without that value as an argument", async () => {
  // test/fixtures/compiler/twice.onnx: /act/Relu, /fc/MatMul, /act/Relu_1 — TorchScript would name
  // the second run `act_1` (a call of its own, as ResNet's `relu` above); this export does not.
  // `act(a, b)` used to compile (a copy of both runs, the first on a, the second on b): no call of
  // the PyTorch module computes that.
  const model = decodeModel(readFileSync(path.join(ROOT, "test/fixtures/compiler/twice.onnx")));
  for (const source of ["save y = act(act.inputs[0])", "save y = act(act.inputs[0], act.inputs[1])", "save y = model.act(act.inputs[0] * 2, act.inputs[1])"]) {
    const result = await compile({ source, filename: "call.intv", model });
    const d = result.diagnostics.find((x) => x.severity === "error");
    assert.equal(d?.code, "E0209", `${source}: ${JSON.stringify(d)}`);
    assert.match(d.message, /`act` cannot be called: it reads `f`, which the model computes from the module's own results/);
  }
  // `fc` is one computation: it can be called.
  const ok = await compile({ source: "save y = fc(act.inputs[0])", filename: "call.intv", model });
  assert.deepEqual(ok.diagnostics.filter((d) => d.severity === "error"), []);
});
