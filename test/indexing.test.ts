// Indexing and partial patches beyond the PyTorch fixtures (test/fixtures/gpt2/cases/position_patch
// has those): NumPy's advanced indexing against NumPy's own answers (test/fixtures/indexing/numpy.json,
// written by tools/fixtures/numpy_indexing.py), for reads and patches, negative and int32 indices
// included; and the sequence window of generation without a KV cache — which positions a
// sequence-indexed patch reaches for each prompt length fed through `intv.prompt_length` (the
// positions a hook on a cached model patched, from the same file), and that leaving it out changes
// nothing.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { compile, decodeModel, encodeModel } from "../compiler/index.js";
import { PROMPT_LENGTH_INPUT } from "../common/index.js";
import { Runtime, type Tensor } from "../runtime/index.js";
import { ROOT } from "./helpers.js";

const gpt2 = decodeModel(readFileSync(path.join(ROOT, "examples/gpt2.onnx")));
const SEQ = 10;
const ids: Tensor = { type: "int64", dims: [2, SEQ], data: BigInt64Array.from({ length: 2 * SEQ }, (_, i) => BigInt((i * 13) % 96)) };

async function compileOk(source: string) {
  const result = await compile({ source, filename: path.join(ROOT, "test/script.intv"), model: gpt2 });
  assert.deepEqual(result.diagnostics.filter((d) => d.severity === "error"), [], source);
  return result;
}

async function run(source: string, inputs: Record<string, Tensor> = {}) {
  const result = await compileOk(source);
  const runtime = await Runtime.load(encodeModel(result.model!));
  try {
    return { result, ...(await runtime.run({ input_ids: ids, ...inputs })) };
  } finally {
    await runtime.release();
  }
}

// --- NumPy's answers ----------------------------------------------------------------------------------

/** A selection: its shape, and the flat position in the indexed tensor of each element, in order. */
type Selection = { shape: number[]; flat: number[] };
const NUMPY = JSON.parse(readFileSync(path.join(ROOT, "test/fixtures/indexing/numpy.json"), "utf8")) as {
  reads: Record<string, Selection>; patches: Record<string, Selection>; windows: Record<string, Record<string, number[]>>;
};
const answer = <T>(table: Record<string, T>, key: string): T => {
  const a = table[key];
  assert.ok(a !== undefined, `no answer for \`${key}\` in test/fixtures/indexing/numpy.json (run tools/fixtures/numpy_indexing.py)`);
  return a;
};

const floats = (t: Tensor) => Array.from(t.data as Float32Array);

describe("integer tensors as indices follow NumPy (NumPy's own answers)", () => {
  const X = [3, 4, 5];
  const xs: Tensor = { type: "float32", dims: X, data: Float32Array.from({ length: 60 }, (_, i) => i) };
  const reads = [
    "x[[0, 2], :, [-1, 1]]",
    "x[:, [[0, 1], [3, -1]], 2]",
    "x[1, [0, -2]]",
    "x[[2], 1:3, [0, 4]]",
    "x[..., [1, 3]]",
    "x[-1, ::-2, [[4], [0]]]",
    "x[[[0], [1]], [1, 2, 3]]",
    "x[:, cast(stack([arange(2), arange(2) + 2]), \"int32\"), 0]",
  ];
  for (const expr of reads) {
    test(`read ${expr}`, async () => {
      const { saves } = await run(`param x: float32[3, 4, 5]\nsave y = ${expr}\n`, { x: xs });
      const want = answer(NUMPY.reads, expr); // x holds its flat positions: NumPy's x[...] is what it reads
      const got = saves.get("y")!;
      assert.deepEqual(got.dims, want.shape);
      assert.deepEqual(floats(got), want.flat);
    });
  }

  // Patches of layer 0's output ([2, 10, 32]), checked against the value before the patch.
  const w: Tensor = { type: "float32", dims: [2, SEQ], data: Float32Array.from({ length: 2 * SEQ }, (_, i) => 100 + i) };
  const patches: [string, string, (old: number, k: number, before: number[]) => number][] = [
    ["[[1, 0], [-1, 2]]", " = 0", () => 0],
    ["[:, [0, -1], 4:8]", " += 1", (old) => old + 1],
    ["[1, :, [3, 5]]", " *= 2", (old) => old * 2],
    ["[0, :, [3, 5]]", " = w", (_, k) => 100 + k],
    ["[1]", " = transformer.h[0].output[0:1]", (_, k, before) => before[k]!], // NumPy drops the leading 1
  ];
  for (const [index, op, f] of patches) {
    test(`patch h${index}${op}`, async () => {
      const { saves } = await run(`param w: float32[2, ${SEQ}]\nsave before = transformer.h[0].output\ntransformer.h[0].output${index}${op}\nsave after = transformer.h[0].output\n`, { w });
      const before = floats(saves.get("before")!);
      const want = [...before];
      answer(NUMPY.patches, index).flat.forEach((src, k) => (want[src] = f(before[src]!, k, before)));
      const got = floats(saves.get("after")!);
      got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5, `element ${i}: ${v}, expected ${want[i]}`));
    });
  }

  test("slice bounds known at run time: a size, a param", async () => {
    const start: Tensor = { type: "int64", dims: [], data: BigInt64Array.of(7n) };
    const { saves, result } = await run([
      "param start: int64",
      "let h = transformer.h[0].output",
      "save head = h[:, 0:h.shape[1] - 1]",
      "save before = transformer.h[1].output",
      "transformer.h[1].output[:, start:, 0:4] = 0",
      "save after = transformer.h[1].output",
    ].join("\n"), { start });
    assert.deepEqual(saves.get("head")!.dims, [2, SEQ - 1, 32]);
    const [a, b] = [floats(saves.get("after")!), floats(saves.get("before")!)];
    a.forEach((v, i) => {
      const [t, f] = [Math.floor(i / 32) % SEQ, i % 32];
      assert.equal(v, t >= 7 && f < 4 ? 0 : b[i], `element ${i}`);
    });
    assert.ok(!result.model!.graph!.input!.some((i) => i.name === PROMPT_LENGTH_INPUT), "no window for a run-time slice");
  });

  test("refused: a boolean mask (E0206 in a read, E0207 in a patch), a float index (E0206)", async () => {
    const codes = async (source: string) => (await compile({ source, filename: "s.intv", model: gpt2 })).diagnostics.map((d) => d.code);
    assert.deepEqual(await codes("let h = transformer.h[0].output\nsave y = h[h > 0]"), ["E0206"]);
    assert.deepEqual(await codes("let h = transformer.h[0].output\ntransformer.h[0].output[h > 0] = 0"), ["E0207"]);
    assert.deepEqual(await codes("save y = transformer.h[0].output[:, arange(0, 1, 0.5)]"), ["E0206"]);
  });
});

// --- the sequence window --------------------------------------------------------------------------------

describe("the sequence window: a sequence-indexed patch without a cache patches each position as a cached model did", () => {
  // The patch, the item on the sequence axis (the key of NumPy's answer), the rows it patches.
  const cases: [string, string, number[]][] = [
    ["[:, 0, :]", "0", [0, 1]],
    ["[:, -1, :]", "-1", [0, 1]],
    ["[:, 2, :]", "2", [0, 1]],
    ["[:, -3, :]", "-3", [0, 1]],
    ["[:, 1:3, :]", "1:3", [0, 1]],
    ["[:, -2:, :]", "-2:", [0, 1]],
    ["[:, ::2, :]", "::2", [0, 1]],
    ["[:, 4:, :]", "4:", [0, 1]],
    ["[:, :-1, :]", ":-1", [0, 1]],
    ["[:, ::-1, :]", "::-1", [0, 1]],
    ["[:, -1]", "-1", [0, 1]],
    ["[..., -1, :]", "-1", [0, 1]],
    ["[0, -1]", "-1", [0]],
    ["[1:, 1:3, 0:4]", "1:3", [1]],
  ];
  for (const [index, item, rows] of cases) {
    test(`h${index} += 1, prompt lengths: none, 6, 3`, async () => {
      const result = await compileOk(`save before = transformer.h[1].output\ntransformer.h[1].output${index} += 1\nsave after = transformer.h[1].output\n`);
      assert.ok(result.model!.graph!.input!.some((i) => i.name === PROMPT_LENGTH_INPUT), "the prompt length is an input");
      const runtime = await Runtime.load(encodeModel(result.model!));
      try {
        for (const prompt of [undefined, 6, 3]) {
          const feeds: Record<string, Tensor> = { input_ids: ids };
          if (prompt !== undefined) feeds[PROMPT_LENGTH_INPUT] = { type: "int64", dims: [], data: BigInt64Array.of(BigInt(prompt)) };
          const { saves } = await runtime.run(feeds);
          const [a, b] = [floats(saves.get("after")!), floats(saves.get("before")!)];
          const positions = answer(NUMPY.windows, item)[prompt === undefined ? "none" : String(prompt)]!;
          const want = Array.from({ length: SEQ }, (_, t) => positions.includes(t));
          for (const r of [0, 1]) {
            const got = Array.from({ length: SEQ }, (_, t) => Math.abs(a[(r * SEQ + t) * 32]! - b[(r * SEQ + t) * 32]! - 1) < 1e-4);
            assert.deepEqual(got, rows.includes(r) ? want : want.map(() => false), `row ${r}, prompt ${prompt ?? "absent"}`);
          }
        }
      } finally {
        await runtime.release();
      }
    });
  }

  test("a slice that selects nothing in a pass is a patch of nothing (a cached model's one-position passes)", async () => {
    for (const value of ["+= 1", "= transformer.h[0].output[:, 1:3, :]"]) {
      const result = await compileOk(`save before = transformer.h[1].output\ntransformer.h[1].output[:, 1:3, :] ${value}\nsave after = transformer.h[1].output\n`);
      const runtime = await Runtime.load(encodeModel(result.model!));
      try {
        const one: Tensor = { type: "int64", dims: [2, 1], data: BigInt64Array.of(5n, 7n) };
        const out = await runtime.run({ input_ids: one });
        assert.deepEqual(floats(out.saves.get("after")!), floats(out.saves.get("before")!), value);
      } finally {
        await runtime.release();
      }
    }
  });

  test("only scripts with a sequence-indexed patch get the input; a value varying along the axis is patched without the window", async () => {
    const inputs = async (source: string) => (await compileOk(source)).model!.graph!.input!.map((i) => i.name);
    assert.ok(!(await inputs("transformer.h[1].output[:, :, 3] = 0")).includes(PROMPT_LENGTH_INPUT));
    assert.ok(!(await inputs("transformer.h[1].output[1] = 0")).includes(PROMPT_LENGTH_INPUT));
    assert.ok(!(await inputs("transformer.h[1].mlp.c_fc.weight[0] = 0")).includes(PROMPT_LENGTH_INPUT));
    assert.ok(!(await inputs("transformer.h[1].output[:, 1:3, :] = transformer.h[0].output[:, 4:6, :]")).includes(PROMPT_LENGTH_INPUT));
    assert.ok((await inputs("transformer.h[1].output[:, -1, :] *= 0")).includes(PROMPT_LENGTH_INPUT));
  });
});
