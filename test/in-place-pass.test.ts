// A script with one pass computes on the model's own nodes (compiler/splice/passes.ts, `inPlace`);
// a script with `pass` statements copies what each pass changes. The same statements in a `pass`
// block of their own mean the same thing, so each script here is compiled both ways and must give
// the same diagnostics and, run, the same saves and model outputs. The scripts are the cases where
// in place could differ: a read before and after a patch of the same place, a read upstream of a
// later patch (W0001), patches of overlapping ports, a module call after patches of its weights and
// of its own activations, a patched model output, a selection pushed towards the inputs, a cycle.
// (PyTorch's own numbers for such scripts are in test/cases; this checks the two ways agree on more.)

import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { compile, decodeModel, encodeModel, type Diagnostic } from "../compiler/index.js";
import { Runtime, readNpy, type Tensor } from "../runtime/index.js";
import { assertClose, ROOT } from "./helpers.js";

const MODEL = path.join(ROOT, "test/fixtures/gpt2/model.onnx");
const INPUT_IDS = path.join(ROOT, "test/fixtures/gpt2/cases/module_call_state/input_ids.npy");

const scripts: Record<string, string> = {
  "a read before and after a patch of the same place": `
let x = transformer.h[0].mlp.output
transformer.h[0].mlp.output = x * 2
save before = x
save after = transformer.h[0].mlp.output
save next = transformer.h[1].output
`,
  "a read upstream of a later patch (W0001)": `
save late = transformer.h[2].output
save first = transformer.h[0].attn.output
transformer.h[0].output *= 0.5
`,
  "overlapping ports patched in turn": `
transformer.h[1].mlp.output *= 2
transformer.h[1].output *= 0.5
transformer.h[2].input = transformer.h[2].input + 1
save entering = transformer.h[2].ln_1.input
save leaving = transformer.h[2].output
`,
  "a module call after patches of its weights and its own activations": `
transformer.h[3].mlp.c_fc.weight *= 0.5
transformer.h[3].mlp.c_fc.output *= 0
transformer.ln_f.weight *= 2
transformer.ln_f.output *= 0.5
save called = transformer.h[3].mlp(transformer.h[2].output)
save lens = lm_head(transformer.ln_f(transformer.h[1].output))
`,
  "a patched model output and a selection": `
lm_head.output *= 0.25
save last = transformer.h[3].output[:, -1]
save logits = lm_head.output
`,
  "a patch upstream of an earlier one (the earlier copies read the later patch)": `
transformer.h[3].mlp.output = transformer.h[3].mlp.output
transformer.h[1].output *= 2
save h5 = transformer.h[5].output
`,
  "every layer, in a loop": `
for l in 0..len(transformer.h) {
  save mlp[l] = transformer.h[l].mlp.output
}
for l in 0..len(transformer.h) {
  transformer.h[l].mlp.output *= 0.5
}
`,
};

const codes = (ds: readonly Diagnostic[]) => ds.map((d) => `${d.code} ${d.span?.offset ?? ""}`);

/** The compiled model's outputs, in the manifest's order (saves are named by their pass in a pass). */
async function runCompiled(source: string, input: Tensor): Promise<{ diagnostics: string[]; outputs: Tensor[] | null }> {
  const r = await compile({ source, filename: "s.intv", model: MODEL });
  if (!r.model) return { diagnostics: codes(r.diagnostics), outputs: null };
  const runtime = await Runtime.load(encodeModel(r.model), { intraOpNumThreads: 1 });
  try {
    const { outputs, saves } = await runtime.run({ input_ids: input });
    assert.equal(saves.size, r.manifest!.saves.length, "every save is returned");
    return { diagnostics: codes(r.diagnostics), outputs: [...outputs.values(), ...saves.values()] };
  } finally {
    await runtime.release();
  }
}

describe("a single pass computed in place means what the same pass computed on copies means", () => {
  for (const [what, script] of Object.entries(scripts)) {
    test(what, async () => {
      const input = await readNpy(INPUT_IDS);
      const inPlace = await runCompiled(script, input);
      // The same statements in a pass block: offsets move by the block's first line.
      const head = "pass p {\n";
      const copied = await runCompiled(`${head}${script}}\n`, input);
      assert.deepEqual(copied.diagnostics.map((d) => d.replace(/ \d+$/, (o) => ` ${Number(o) - head.length}`)), inPlace.diagnostics);
      assert.ok(inPlace.outputs && copied.outputs, "compiles");
      assert.equal(inPlace.outputs.length, copied.outputs.length);
      inPlace.outputs.forEach((t, i) => assertClose(t, copied.outputs![i]!, 0, 0, `output ${i}`));
    });
  }

  // Found by review: a pass that copied downstream of a patch kept reading the model's values
  // there when a later statement patched upstream of it, so the later patch did not reach past
  // the earlier one, and two patches gave different results in either order.
  test("in a pass, patches upstream of earlier ones reach everything downstream, in either order", async () => {
    const input = await readNpy(INPUT_IDS);
    const one = "transformer.h[3].mlp.output *= 2\ntransformer.h[1].output *= 0.5\n";
    const other = "transformer.h[1].output *= 0.5\ntransformer.h[3].mlp.output *= 2\n";
    const save = "save h5 = transformer.h[5].output\n";
    const results = await Promise.all([one, other].flatMap((body) => [runCompiled(body + save, input), runCompiled(`pass p {\n${body}${save}}\n`, input)]));
    for (const r of results.slice(1)) r.outputs!.forEach((t, i) => assertClose(t, results[0]!.outputs![i]!, 0, 0, `output ${i}`));
    // An identity patch changes nothing, in a pass as in place.
    const alone = await runCompiled(`pass p {\ntransformer.h[1].output *= 0.5\n${save}}\n`, input);
    const withIdentity = await runCompiled(`pass p {\ntransformer.h[3].mlp.output = transformer.h[3].mlp.output\ntransformer.h[1].output *= 0.5\n${save}}\n`, input);
    withIdentity.outputs!.forEach((t, i) => assertClose(t, alone.outputs![i]!, 0, 0, `output ${i}`));
  });

  // Found by review: a patch of a module inside one whose output was patched earlier (the same
  // value: `mlp.c_proj.output` is `mlp.output`) was applied over the earlier patch, which was lost.
  // As hooks run, the inner module's output patch comes first, and an outer module's input patch
  // before an inner one's, whichever order the script writes them in.
  test("patches of nested places on one value apply in the forward pass's order, in either written order", async () => {
    const input = await readNpy(INPUT_IDS);
    const pairs = [
      ["transformer.h[0].mlp.output *= 3", "transformer.h[0].mlp.c_proj.output *= 2"],
      ["transformer.h[0].mlp.c_fc.input *= 2", "transformer.h[0].mlp.input *= 3"],
      ["transformer.h[1].ln_1.input *= 2", "transformer.h[0].output *= 3"],
    ];
    const saves = "save inner = transformer.h[0].mlp.c_proj.output\nsave outer = transformer.h[0].mlp.output\nsave fc = transformer.h[0].mlp.c_fc.output\nsave ln = transformer.h[1].ln_1.output\n";
    for (const [a, b] of pairs) {
      const bodies = [`${a}\n${b}\n${saves}`, `${b}\n${a}\n${saves}`];
      const results = await Promise.all(bodies.flatMap((body) => [runCompiled(body, input), runCompiled(`pass p {\n${body}}\n`, input)]));
      for (const r of results) assert.deepEqual(r.diagnostics.filter((d) => d.startsWith("E")), [], `${a}; ${b}`);
      for (const r of results.slice(1)) r.outputs!.forEach((t, i) => assertClose(t, results[0]!.outputs![i]!, 0, 0, `${a}; ${b}: output ${i}`));
    }
    // Both patches of the first pair apply: the MLP's output is 3 × what its c_proj gives (2 × its own).
    const [, inner, outer] = (await runCompiled(`${pairs[0]![0]}\n${pairs[0]![1]}\n${saves}`, input)).outputs!;
    const i = inner!.data as Float32Array;
    assertClose(outer!, { ...inner!, data: i.map((x) => x * 3) }, 1e-6, 1e-6, "outer = 3 × inner");
  });

  // The same inside If branches (a model wrapped in control flow: one instance of each module per
  // branch), where a read of the outer place did not see the inner place's patch at all.
  test("nested places inside If branches too, in either written order", async () => {
    const dir = path.join(ROOT, "test/fixtures/zoo/if_wrapped");
    const inputs = { input: await readNpy(path.join(dir, "input.npy")), sr: await readNpy(path.join(dir, "sr.npy")) };
    const saves = "save inner = encoder[0].activation.output\nsave outer = encoder[0].output\n";
    const run = async (source: string): Promise<Tensor[]> => {
      const r = await compile({ source, filename: "s.intv", model: path.join(dir, "model.onnx") });
      assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error").map((d) => d.message), []);
      const runtime = await Runtime.load(encodeModel(r.model!), { intraOpNumThreads: 1 });
      try {
        const { outputs, saves } = await runtime.run(inputs);
        return [...outputs.values(), ...saves.values()];
      } finally {
        await runtime.release();
      }
    };
    const a = "encoder[0].output *= 3";
    const b = "encoder[0].activation.output *= 2";
    const one = await run(`${a}\n${b}\n${saves}`);
    const other = await run(`${b}\n${a}\n${saves}`);
    one.forEach((t, i) => assertClose(t, other[i]!, 0, 0, `output ${i}`));
    const [, inner, outer] = one;
    assertClose(outer!, { ...inner!, data: (inner!.data as Float32Array).map((x) => x * 3) }, 1e-6, 1e-6, "outer = 3 × inner");
  });

  // Found by review: optimizing removed what a model's own unused node reads once a patch had
  // taken that value's other consumers away, and the export failed ("cycle at export").
  test("a model's own unused node keeps what it reads, in place and in a pass", async () => {
    const model = decodeModel(readFileSync(MODEL));
    const h1 = model.graph!.node!.filter((n) => n.name?.startsWith("/transformer/h.1/") && n.op_type === "Add").pop()!;
    model.graph!.node!.push({ input: [h1.output![0]!], output: ["unused_neg"], name: "unused/Neg", op_type: "Neg" });
    const dir = mkdtempSync(path.join(tmpdir(), "intv-unused-"));
    try {
      const file = path.join(dir, "model.onnx");
      writeFileSync(file, encodeModel(model));
      for (const source of ["transformer.h[2].input = transformer.h[0].output\n", "pass p {\ntransformer.h[1].output *= 2\ntransformer.h[2].input = transformer.h[0].output\n}\n"]) {
        const r = await compile({ source, filename: "s.intv", model: file });
        assert.ok(r.model, `${source}: ${r.diagnostics.map((d) => d.message).join("; ")}`);
        assert.ok(r.model.graph!.node!.some((n) => n.name === "unused/Neg"), "the unused node is kept");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a cycle is refused the same way", async () => {
    const script = "transformer.h[1].output = transformer.h[3].output\n";
    const inPlace = await compile({ source: script, filename: "s.intv", model: MODEL });
    const copied = await compile({ source: `pass p {\n${script}}\n`, filename: "s.intv", model: MODEL });
    const errors = (ds: readonly Diagnostic[]) => ds.filter((d) => d.severity === "error").map((d) => `${d.code}: ${d.message} | ${(d.labels ?? []).map((l) => l.message).join(" | ")}`);
    assert.ok(!inPlace.model && !copied.model, "refused");
    assert.deepEqual(errors(inPlace.diagnostics), errors(copied.diagnostics));
    assert.ok(errors(inPlace.diagnostics).length > 0);
  });
});
