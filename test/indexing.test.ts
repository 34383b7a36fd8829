// Indexing and partial patches beyond the PyTorch fixtures (test/fixtures/gpt2/cases/position_patch
// has those): NumPy's advanced indexing against a small reference of NumPy's rules written here,
// for reads and patches, negative and int32 indices included; and the sequence window of
// generation without a KV cache — which positions a sequence-indexed patch reaches for each prompt
// length fed through `intv.prompt_length`, and that leaving it out changes nothing.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { compile, decodeModel, encodeModel } from "../compiler/index.js";
import { PROMPT_LENGTH_INPUT } from "../common/index.js";
import { sliceIndices } from "../compiler/lower/index.js";
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

// --- a reference of NumPy's indexing ------------------------------------------------------------------

type Ref = number | { slice: [number | null, number | null, number | null] } | { array: number[]; shape: number[] };

const strides = (shape: number[]) => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));

/** The flat positions of `x[items]` in `x` (shape `shape`), in the result's order, and the result's shape. */
function npIndex(shape: number[], items: Ref[]): { shape: number[]; flat: number[] } {
  const full: Ref[] = [...items, ...Array.from({ length: shape.length - items.length }, (): Ref => ({ slice: [null, null, null] }))];
  const hasArray = full.some((it) => typeof it === "object" && "array" in it);
  const isAdv = (it: Ref) => hasArray && (typeof it === "number" || "array" in it);
  const advAxes = full.map((it, ax) => (isAdv(it) ? ax : -1)).filter((ax) => ax >= 0);
  const arrays = advAxes.map((ax) => {
    const it = full[ax]!;
    return typeof it === "number" ? { array: [it], shape: [] as number[] } : (it as { array: number[]; shape: number[] });
  });
  const rankB = Math.max(0, ...arrays.map((a) => a.shape.length));
  const B = Array.from({ length: rankB }, (_, i) => Math.max(...arrays.map((a) => a.shape[a.shape.length - rankB + i] ?? 1)));
  const basic = full.map((it, ax) => ({ it, ax })).filter(({ it }) => !isAdv(it) && typeof it !== "number");
  const sel = basic.map(({ it, ax }) => sliceIndices(shape[ax]!, ...(it as { slice: [number | null, number | null, number | null] }).slice));
  const adjacent = advAxes.every((a, i) => i === 0 || a === advAxes[i - 1]! + 1);
  const at = advAxes.length === 0 ? 0 : adjacent ? basic.filter(({ ax }) => ax < advAxes[0]!).length : 0;
  const outShape = [...sel.slice(0, at).map((s) => s.length), ...B, ...sel.slice(at).map((s) => s.length)];
  const st = strides(shape);
  const flat: number[] = [];
  const total = outShape.reduce((a, b) => a * b, 1);
  const outStrides = strides(outShape);
  for (let n = 0; n < total; n++) {
    const idx = outShape.map((d, i) => Math.floor(n / outStrides[i]!) % d);
    const bIdx = idx.slice(at, at + rankB);
    const basicIdx = [...idx.slice(0, at), ...idx.slice(at + rankB)];
    let src = 0;
    full.forEach((it, ax) => {
      let p: number;
      const k = advAxes.indexOf(ax);
      if (k >= 0) {
        const a = arrays[k]!;
        const off = strides(a.shape).reduce((acc, s, i) => acc + s * (a.shape[i] === 1 ? 0 : bIdx[rankB - a.shape.length + i]!), 0);
        p = a.array[off]!;
      } else if (typeof it === "number") p = it;
      else p = sel[basic.findIndex((q) => q.ax === ax)]![basicIdx[basic.findIndex((q) => q.ax === ax)]!]!;
      if (p < 0) p += shape[ax]!;
      src += p * st[ax]!;
    });
    flat.push(src);
  }
  return { shape: outShape, flat };
}

const floats = (t: Tensor) => Array.from(t.data as Float32Array);

describe("integer tensors as indices follow NumPy (a reference of its rules)", () => {
  const X = [3, 4, 5];
  const xs: Tensor = { type: "float32", dims: X, data: Float32Array.from({ length: 60 }, (_, i) => i) };
  const reads: [string, Ref[]][] = [
    ["x[[0, 2], :, [-1, 1]]", [{ array: [0, 2], shape: [2] }, { slice: [null, null, null] }, { array: [-1, 1], shape: [2] }]],
    ["x[:, [[0, 1], [3, -1]], 2]", [{ slice: [null, null, null] }, { array: [0, 1, 3, -1], shape: [2, 2] }, 2]],
    ["x[1, [0, -2]]", [1, { array: [0, -2], shape: [2] }]],
    ["x[[2], 1:3, [0, 4]]", [{ array: [2], shape: [1] }, { slice: [1, 3, null] }, { array: [0, 4], shape: [2] }]],
    ["x[..., [1, 3]]", [{ slice: [null, null, null] }, { slice: [null, null, null] }, { array: [1, 3], shape: [2] }]],
    ["x[-1, ::-2, [[4], [0]]]", [-1, { slice: [null, null, -2] }, { array: [4, 0], shape: [2, 1] }]],
    ["x[[[0], [1]], [1, 2, 3]]", [{ array: [0, 1], shape: [2, 1] }, { array: [1, 2, 3], shape: [3] }]],
    ["x[:, cast(stack([arange(2), arange(2) + 2]), \"int32\"), 0]", [{ slice: [null, null, null] }, { array: [0, 1, 2, 3], shape: [2, 2] }, 0]],
  ];
  for (const [expr, items] of reads) {
    test(`read ${expr}`, async () => {
      const { saves } = await run(`param x: float32[3, 4, 5]\nsave y = ${expr}\n`, { x: xs });
      const want = npIndex(X, items);
      const got = saves.get("y")!;
      assert.deepEqual(got.dims, want.shape);
      assert.deepEqual(floats(got), want.flat);
    });
  }

  // Patches of layer 0's output ([2, 10, 32]), checked against the value before the patch.
  const H = [2, SEQ, 32];
  const w: Tensor = { type: "float32", dims: [2, SEQ], data: Float32Array.from({ length: 2 * SEQ }, (_, i) => 100 + i) };
  const patches: [string, Ref[], (old: number, k: number, before: number[]) => number][] = [
    ["[[1, 0], [-1, 2]] = 0", [{ array: [1, 0], shape: [2] }, { array: [-1, 2], shape: [2] }], () => 0],
    ["[:, [0, -1], 4:8] += 1", [{ slice: [null, null, null] }, { array: [0, -1], shape: [2] }, { slice: [4, 8, null] }], (old) => old + 1],
    ["[1, :, [3, 5]] *= 2", [1, { slice: [null, null, null] }, { array: [3, 5], shape: [2] }], (old) => old * 2],
    ["[0, :, [3, 5]] = w", [0, { slice: [null, null, null] }, { array: [3, 5], shape: [2] }], (_, k) => 100 + k],
    ["[1] = transformer.h[0].output[0:1]", [1], (_, k, before) => before[k]!], // NumPy drops the leading 1
  ];
  for (const [patch, items, f] of patches) {
    test(`patch h${patch}`, async () => {
      const { saves } = await run(`param w: float32[2, ${SEQ}]\nsave before = transformer.h[0].output\ntransformer.h[0].output${patch}\nsave after = transformer.h[0].output\n`, { w });
      const before = floats(saves.get("before")!);
      const want = [...before];
      npIndex(H, items).flat.forEach((src, k) => (want[src] = f(before[src]!, k, before)));
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

/** Which positions a cached model patched, position by position, for a prompt of `prompt` positions. */
function windowRef(item: number | [number | null, number | null, number | null], seq: number, prompt: number | undefined): boolean[] {
  const p = Math.min(prompt ?? seq, seq);
  const select = (n: number) => (typeof item === "number" ? [item < 0 ? item + n : item] : sliceIndices(n, ...item));
  const inPrompt = select(p);
  const fromOne = typeof item === "number" ? item === 0 || item === -1 : sliceIndices(1, ...item).length > 0;
  return Array.from({ length: seq }, (_, t) => (t < p ? inPrompt.includes(t) : fromOne));
}

describe("the sequence window: a sequence-indexed patch without a cache patches each position as a cached model did", () => {
  const cases: [string, number | [number | null, number | null, number | null], number[]][] = [
    ["[:, 0, :]", 0, [0, 1]],
    ["[:, -1, :]", -1, [0, 1]],
    ["[:, 2, :]", 2, [0, 1]],
    ["[:, -3, :]", -3, [0, 1]],
    ["[:, 1:3, :]", [1, 3, null], [0, 1]],
    ["[:, -2:, :]", [-2, null, null], [0, 1]],
    ["[:, ::2, :]", [null, null, 2], [0, 1]],
    ["[:, 4:, :]", [4, null, null], [0, 1]],
    ["[:, :-1, :]", [null, -1, null], [0, 1]],
    ["[:, ::-1, :]", [null, null, -1], [0, 1]],
    ["[:, -1]", -1, [0, 1]],
    ["[..., -1, :]", -1, [0, 1]],
    ["[0, -1]", -1, [0]],
    ["[1:, 1:3, 0:4]", [1, 3, null], [1]],
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
          const want = windowRef(item, SEQ, prompt);
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
