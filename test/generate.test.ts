// Generation (issue 12): the decoder layouts intv recognises, sampling, and the tokens of
// `Runtime.generate` and `intv generate` against a PyTorch greedy loop with forward hooks, on the
// fixtures of tools/fixtures/generate/make_fixtures.py: GPT-2 and LLaMA-style decoders exported
// with and without a KV cache (and GPT-2's merged If decoder), batch 2, each script's patch applied
// at every step. Both modes must give PyTorch's tokens (docs/language.md, Generation).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { compile, encodeModel } from "../compiler/index.js";
import {
  Runtime, RuntimeInputError, detectLayout, loadTokenizer, readNpy,
  type GenerateOptions, type GenerationStep, type InputSpec, type InputValue, type Tensor, type ValueInfo,
} from "../runtime/index.js";
import { argmax, chooseToken, Xoshiro128 } from "../runtime/sampling.js";
import { ROOT } from "./helpers.js";

const F = join(ROOT, "test/fixtures/generate");
const MAIN = join(ROOT, "dist/cli/main.js");
const index = JSON.parse(readFileSync(join(F, "index.json"), "utf8")) as {
  new: number; context: number; cases: Record<string, { script: string | null; expected: string }>;
};
const MODELS: Record<string, string[]> = { gpt2: ["model", "model_kv", "model_merged"], llama: ["model", "model_kv"] };

const scratch = mkdtempSync(join(tmpdir(), "intv-generate-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

async function load(family: string, model: string, script: string | null): Promise<Runtime> {
  const file = join(F, family, `${model}.onnx`);
  if (script === null) return Runtime.load(file);
  const path = join(ROOT, script);
  const result = await compile({ source: readFileSync(path, "utf8"), filename: path, model: file });
  assert.ok(result.model, `${script} compiles against ${family}/${model}.onnx:\n${JSON.stringify(result.diagnostics, null, 1)}`);
  return Runtime.load(encodeModel(result.model));
}

async function all(steps: AsyncIterable<GenerationStep>): Promise<GenerationStep[]> {
  const out: GenerationStep[] = [];
  for await (const s of steps) out.push(s);
  return out;
}

function rows(t: Tensor): number[][] {
  const [b, n] = t.dims as [number, number];
  return Array.from({ length: b }, (_, r) => Array.from(t.data.subarray(r * n, (r + 1) * n) as BigInt64Array, Number));
}

/** Cases that need the compiler's side of issue 12 (position-indexed patches along the sequence axis). */
function todo(name: string, model: string): string | undefined {
  const positional = /steer_last|steer_first|prompt_only/.test(name);
  if (positional && model === "model") return "needs sequence-axis masks in the compiler (waiting for the refactor)";
  if (name.endsWith("prompt_only") && model !== "model") return "an empty slice of a length-1 sequence fails in Gather (compiler)";
  return undefined;
}

describe("tokens equal PyTorch's greedy loop with the same hook (batch 2)", async () => {
  const prompt = await readNpy(join(F, "prompt_ids.npy"));
  const steer = await readNpy(join(F, "steer.npy"));
  for (const [name, c] of Object.entries(index.cases)) {
    const family = name.split(".")[0]!;
    for (const model of MODELS[family]!) {
      test(`${name} on ${family}/${model}.onnx`, { todo: todo(name, model) }, async () => {
        const runtime = await load(family, model, c.script);
        try {
          const inputs: Record<string, InputValue> = { input_ids: prompt };
          if (c.script !== null) inputs.steer = steer;
          const steps = await all(runtime.generate(inputs, { maxNewTokens: index.new, context: index.context }));
          assert.equal(steps.length, index.new);
          const expected = await readNpy(join(ROOT, c.expected));
          assert.deepEqual(rows(steps.at(-1)!.sequence), rows(expected));
        } finally {
          await runtime.release();
        }
      });
    }
  }
});

describe("decoder layouts", () => {
  const spec = (input: string, elemType: string, shape: (number | string)[], kind: "input" | "param" = "input"): InputSpec =>
    ({ name: input, input, kind, elemType, shape, optional: false });
  const out = (name: string, shape: (number | string)[], elemType = "float32"): ValueInfo => ({ name, elemType, shape });
  const ids = spec("input_ids", "int64", ["batch", "sequence"]);
  const logits = out("logits", ["batch", "sequence", 96]);
  const kv = (l: number) => [
    spec(`past_key_values.${l}.key`, "float32", ["batch", 4, "past", 8]),
    spec(`past_key_values.${l}.value`, "float32", ["batch", 4, "past", 8]),
  ];
  const present = (l: number) => [out(`present.${l}.key`, ["batch", 4, "total", 8]), out(`present.${l}.value`, ["batch", 4, "total", 8])];

  test("no cache: input_ids and logits", () => {
    const { layout, problems } = detectLayout([ids], [logits]);
    assert.deepEqual(problems, []);
    assert.equal(layout!.cache.length, 0);
    assert.equal(layout!.vocab, 96);
  });

  test("Optimum's cache, attention mask, position ids and the merged decoder's branch input", () => {
    const inputs = [ids, spec("attention_mask", "int64", ["batch", "total"]), spec("position_ids", "int64", ["batch", "sequence"]),
      ...kv(0), ...kv(1), spec("use_cache_branch", "bool", [1]), spec("steer", "float32", [32], "param")];
    const { layout, problems } = detectLayout(inputs, [logits, ...present(0), ...present(1)]);
    assert.deepEqual(problems, []);
    assert.deepEqual(layout!.cache.map((c) => `${c.past}<-${c.present}:${c.heads}x${c.headDim}`), [
      "past_key_values.0.key<-present.0.key:4x8", "past_key_values.0.value<-present.0.value:4x8",
      "past_key_values.1.key<-present.1.key:4x8", "past_key_values.1.value<-present.1.value:4x8",
    ]);
    assert.equal(layout!.attentionMask, "attention_mask");
    assert.equal(layout!.positionIds, "position_ids");
    assert.equal(layout!.useCacheBranch, "use_cache_branch");
    assert.deepEqual(layout!.params.map((p) => p.name), ["steer"]);
  });

  const refused: [string, InputSpec[], ValueInfo[], RegExp][] = [
    ["a past with no present", [ids, ...kv(0)], [logits, out("present.0.key", ["batch", 4, "total", 8])],
      /unrecognised cache layout: input `past_key_values\.0\.value` has no output `present\.0\.value`/],
    ["a combined cache tensor (older exports)", [ids, spec("past_0", "float32", [2, "batch", 4, "past", 8])], [logits, out("present_0", [2, "batch", 4, "total", 8])],
      /unrecognised cache layout: input `past_0`/],
    ["symbolic heads", [ids, spec("past_key_values.0.key", "float32", ["batch", "heads", "past", 8]), spec("past_key_values.0.value", "float32", ["batch", "heads", "past", 8])],
      [logits, ...present(0)], /unrecognised cache layout: `past_key_values\.0\.key` is float32\[batch, heads, past, 8\]/],
    ["no input_ids", [spec("pixel_values", "float32", [1, 3, 8, 8])], [logits], /the model has no `input_ids` input/],
    ["an input generation cannot feed", [ids, spec("token_type_ids", "int64", ["batch", "sequence"])], [logits], /`token_type_ids` .*which generation does not know how to feed/],
    ["logits of rank 2", [ids], [out("logits", ["batch", 96])], /generation needs \[batch, sequence, vocabulary\]/],
  ];
  for (const [what, inputs, outputs, message] of refused) {
    test(`refused: ${what}`, () => {
      const { layout, problems } = detectLayout(inputs, outputs);
      assert.equal(layout, null);
      assert.match(problems.join("\n"), message);
    });
  }
});

describe("sampling", () => {
  test("xoshiro128** is pinned: the same seed gives the same draws on every machine", () => {
    // the reference C implementation (prng.di.unimi.it/xoshiro128starstar.c) from state 1, 2, 3, 4
    const reference = Xoshiro128.fromState([1, 2, 3, 4]);
    assert.deepEqual(Array.from({ length: 6 }, () => reference.nextUint32()), [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
    // and seeded with splitmix32, pinned
    const rng = new Xoshiro128(42);
    assert.deepEqual(Array.from({ length: 4 }, () => rng.nextUint32()), PINNED_42);
    const a = new Xoshiro128(7);
    const b = new Xoshiro128(7);
    for (let i = 0; i < 100; i++) assert.equal(a.nextFloat(), b.nextFloat());
    const f = new Xoshiro128(1);
    for (let i = 0; i < 1000; i++) {
      const x = f.nextFloat();
      assert.ok(x >= 0 && x < 1);
    }
  });

  test("argmax takes the first of equal values, as torch.argmax", () => {
    assert.equal(argmax([1, 3, 3, 2]), 1);
    assert.equal(argmax([NaN, -1, -2]), 1);
  });

  test("top-k 1 and a tiny top-p are greedy; temperature 0 is greedy", () => {
    const row = [0.1, 2.5, -1, 2.4, 0];
    const rng = new Xoshiro128(3);
    for (let i = 0; i < 20; i++) {
      assert.equal(chooseToken(row, { topK: 1 }, rng), 1);
      assert.equal(chooseToken(row, { topP: 1e-6 }, rng), 1);
      assert.equal(chooseToken(row, { temperature: 0 }, rng), 1);
    }
  });

  test("draws follow the softmax; top-k keeps only the k most likely", () => {
    const row = [Math.log(0.5), Math.log(0.3), Math.log(0.2)];
    const rng = new Xoshiro128(11);
    const counts = [0, 0, 0];
    for (let i = 0; i < 20000; i++) counts[chooseToken(row, { temperature: 1 }, rng)]!++;
    assert.ok(Math.abs(counts[0]! / 20000 - 0.5) < 0.02 && Math.abs(counts[2]! / 20000 - 0.2) < 0.02, String(counts));
    const k2 = [0, 0, 0];
    for (let i = 0; i < 2000; i++) k2[chooseToken(row, { topK: 2 }, rng)]!++;
    assert.equal(k2[2], 0);
  });

  test("a seed gives the same tokens; another seed other tokens", async () => {
    const runtime = await Runtime.load(join(F, "llama/model_kv.onnx"));
    try {
      const prompt = await readNpy(join(F, "prompt_ids.npy"));
      const sample = async (seed: number) => rows((await all(runtime.generate({ input_ids: prompt }, { maxNewTokens: 12, temperature: 1.5, seed }))).at(-1)!.sequence);
      const a = await sample(5);
      assert.deepEqual(await sample(5), a);
      assert.notDeepEqual(await sample(6), a);
    } finally {
      await runtime.release();
    }
  });
});

describe("Runtime.generate", () => {
  test("refuses before running: every problem at once, when called (not when iterated)", async () => {
    const runtime = await Runtime.load(join(F, "gpt2/model_kv.onnx"));
    try {
      const options: GenerateOptions = { maxNewTokens: 30, context: 32, topK: 0, stopTokens: [96], topP: 1.5 };
      assert.throws(() => runtime.generate({ input_ids: [[1, 2, 3], [4, 5, 99]] }, options), (e: unknown) => {
        assert.ok(e instanceof RuntimeInputError);
        assert.deepEqual(e.problems, [
          "top-k must be a positive integer, got 0 (to consider every token, leave top-k out)",
          "top-p must be in (0, 1], got 1.5",
          "the prompt (3 tokens) and 30 new tokens need 33 positions, more than the model's context of 32; ask for at most 29 new tokens",
          "stop token 96 is outside the vocabulary (0 to 95)",
          "input `input_ids`: token 99 at [1, 2] is outside the vocabulary (0 to 95)",
        ]);
        return true;
      });
      assert.throws(() => runtime.generate({ input_ids: [Array(33).fill(1)] }, { maxNewTokens: 1, context: 32 }),
        /the prompt has 33 tokens, more than the model's context of 32/);
      assert.throws(() => runtime.generate({ input_ids: [[1]] }, { maxNewTokens: 1, bogus: 1 } as GenerateOptions), /unknown generate option `bogus`/);
    } finally {
      await runtime.release();
    }
  });

  test("stop tokens end a row; a finished row repeats its stop token; all finished ends the loop", async () => {
    const runtime = await Runtime.load(join(F, "llama/model_kv.onnx"));
    try {
      const prompt = await readNpy(join(F, "prompt_ids.npy"));
      const expected = rows(await readNpy(join(F, "expected/llama.plain.npy")));
      const stopAt = expected[1]![7]!; // row 1's second new token
      const steps = await all(runtime.generate({ input_ids: prompt }, { maxNewTokens: 10, stopTokens: [stopAt] }));
      const got = rows(steps.at(-1)!.sequence);
      const stop0 = expected[0]!.slice(6).indexOf(stopAt);
      assert.deepEqual(got[1], [...expected[1]!.slice(0, 8), ...Array(got[1]!.length - 8).fill(stopAt)]);
      assert.equal(steps.at(-1)!.finished[1], true);
      if (stop0 < 0) assert.equal(steps.length, 10);
    } finally {
      await runtime.release();
    }
  });

  test("saves come from every step: the new position with a cache, the whole sequence without", async () => {
    const source = "save h1 = transformer.h[1].output\n";
    const shapes: Record<string, number[][]> = {};
    for (const model of ["model", "model_kv"]) {
      const file = join(F, `gpt2/${model}.onnx`);
      const result = await compile({ source, filename: "save.intv", model: file });
      const runtime = await Runtime.load(encodeModel(result.model!));
      try {
        const steps = await all(runtime.generate({ input_ids: [[1, 2, 3, 4]] }, { maxNewTokens: 3 }));
        shapes[model] = steps.map((s) => s.saves.get("h1")!.dims);
      } finally {
        await runtime.release();
      }
    }
    assert.deepEqual(shapes.model, [[1, 4, 32], [1, 5, 32], [1, 6, 32]]);
    assert.deepEqual(shapes.model_kv, [[1, 4, 32], [1, 1, 32], [1, 1, 32]]);
  });
});

describe("text", () => {
  const cases = JSON.parse(readFileSync(join(F, "tokenizer_cases.json"), "utf8")) as {
    tokenizers: string; cases: { text: string; ids: number[]; decoded: string }[];
  };
  test(`the byte-level BPE fixture gives the ids Python's tokenizers ${cases.tokenizers} gives, and round-trips`, async () => {
    const tokenizer = await loadTokenizer(join(F, "gpt2/tokenizer.json"));
    assert.equal(tokenizer.vocabSize, 96);
    for (const c of cases.cases) {
      assert.deepEqual(tokenizer.encode(c.text), c.ids, c.text);
      assert.equal(tokenizer.decode(c.ids), c.decoded, c.text);
    }
    assert.equal(tokenizer.tokenId("<|endoftext|>"), 0);
  });

  test("the chat template of tokenizer_config.json renders with @huggingface/jinja", async () => {
    const tokenizer = await loadTokenizer(join(F, "gpt2/tokenizer.json"));
    assert.equal(tokenizer.applyChatTemplate([{ role: "system", content: "be brief" }, { role: "user", content: "hello" }]),
      "system: be brief\nuser: hello\nassistant:");
  });
});

describe("intv generate", () => {
  function intv(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [MAIN, "generate", ...args], { cwd: ROOT, encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  const prompt = "test/fixtures/generate/prompt_ids.npy";
  const steerScript = "test/fixtures/generate/cases/gpt2.steer_last.intv";
  const steer = "steer=test/fixtures/generate/steer.npy";

  test("a script: tokens.npy, each step's saves, a summary", async () => {
    const out = join(scratch, "script");
    const r = intv(steerScript, "--model", "test/fixtures/generate/gpt2/model_kv.onnx", "--input", `input_ids=${prompt}`, "--param", steer, "-n", "10", "--out", out);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /^row 0: .*\nrow 1: .*\n10 new tokens × 2 rows in [\d.]+ s: [\d.]+ tokens\/s \(first pass [\d.]+ ms, then [\d.]+ ms per token; KV cache\)\nwrote .*tokens\.npy \(int64 \[2, 16\]\)\n$/);
    assert.deepEqual(rows(await readNpy(join(out, "tokens.npy"))), rows(await readNpy(join(F, "expected/gpt2.steer_last.npy"))));
  });

  test("saves of every step in step.K/", async () => {
    const out = join(scratch, "saves");
    const r = intv("test/fixtures/generate/save_h1.intv", "--model", "test/fixtures/generate/llama/model_kv.onnx", "--input", "input_ids=[[1,2,3]]", "-n", "3", "--out", out);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(out).sort(), ["step.0", "step.1", "step.2", "tokens.npy"]);
    assert.deepEqual((await readNpy(join(out, "step.0/h1.npy"))).dims, [1, 3, 32]);
    assert.deepEqual((await readNpy(join(out, "step.2/h1.npy"))).dims, [1, 1, 32]);
  });

  test("--prompt is encoded by the tokenizer next to the model, and the new tokens are printed as text", () => {
    const r = intv("--model", "test/fixtures/generate/gpt2/model_kv.onnx", "--prompt", "the cat sat", "-n", "8", "--json");
    assert.equal(r.status, 0, r.stderr);
    const data = JSON.parse(r.stdout) as { rows: { tokens: number[]; text: string }[]; prompt: number; cache: boolean };
    assert.equal(data.prompt, 3); // the, Ġcat, Ġsat
    assert.equal(data.rows[0]!.tokens.length, 8);
    assert.equal(typeof data.rows[0]!.text, "string");
    assert.equal(data.cache, true);
  });

  test("sampling is reproducible by seed", () => {
    const args = ["--model", "test/fixtures/generate/llama/model.onnx", "--input", `input_ids=${prompt}`, "-n", "8", "--temperature", "1.3", "--top-k", "20", "--top-p", "0.95", "--json"];
    const a = JSON.parse(intv(...args, "--seed", "9").stdout) as { rows: unknown; seed: number };
    const b = JSON.parse(intv(...args, "--seed", "9").stdout) as { rows: unknown };
    assert.equal(a.seed, 9);
    assert.deepEqual(a.rows, b.rows);
  });

  const errors: [string, string[], RegExp][] = [
    ["a prompt longer than the context", ["--model", "test/fixtures/generate/gpt2/model.onnx", "--input", `input_ids=[${JSON.stringify(Array(33).fill(1))}]`, "-n", "1"],
      /^error: the prompt has 33 tokens, more than the model's context of 32\n$/],
    ["top-k 0", ["--model", "test/fixtures/generate/gpt2/model.onnx", "--input", "input_ids=[[1]]", "-n", "1", "--top-k", "0"],
      /^error: top-k must be a positive integer, got 0 \(to consider every token, leave top-k out\)\n$/],
    ["a stop token outside the vocabulary", ["--model", "test/fixtures/generate/gpt2/model.onnx", "--input", "input_ids=[[1]]", "-n", "1", "--stop-token", "500"],
      /^error: stop token 500 is outside the vocabulary \(0 to 95\)\n$/],
    ["a cache of fixed length (the zoo's export without dynamic axes)", ["--model", "test/fixtures/zoo/gpt2_kv/model.onnx", "--input", "input_ids=[[1]]", "-n", "1"],
      /^error: `input_ids` has a fixed sequence length of 4; .*\nerror: unrecognised cache layout: `past_key_values\.0\.key` is float32\[1, 4, 3, 8\], a cache of fixed length; its past sequence axis \(2\) must be dynamic \(dynamic_axes\) \(and 7 more cache inputs or outputs like it\)\n$/],
    ["--prompt without a tokenizer", ["--model", "test/fixtures/generate/llama/model.onnx", "--prompt", "hi", "-n", "1"],
      /^error: --prompt needs a tokenizer: there is no tokenizer.json next to `test\/fixtures\/generate\/llama\/model.onnx`; give one with --tokenizer FILE\n$/],
  ];
  for (const [what, args, message] of errors) {
    test(`refused before running: ${what} (one line, exit 1)`, () => {
      const r = intv(...args);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, "");
    });
  }

  test("usage errors: no prompt, two prompts (exit 2)", () => {
    assert.equal(intv("--model", "test/fixtures/generate/gpt2/model.onnx", "-n", "1").status, 2);
    const r = intv("--model", "test/fixtures/generate/gpt2/model.onnx", "-n", "1", "--prompt", "a", "--input", "input_ids=[[1]]");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /give the prompt once: --input and --prompt both give one/);
  });
});

const PINNED_42 = [2837322924, 544945897, 479756282, 3500138142];
