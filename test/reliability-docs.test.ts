// docs/errors.md lists every diagnostic code intv can emit, and each example in its tables gives
// the code of its row, so the list cannot fall behind the compiler.

import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { compile } from "../compiler/index.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const doc = readFileSync(join(ROOT, "docs/errors.md"), "utf8");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return f.endsWith(".ts") ? [p] : [];
  });
}

/** Codes written as string literals in the compiler, the grammar and the runtime. */
const emitted = new Set(
  ["compiler", "grammar", "runtime", "cli"].flatMap((d) => sources(join(ROOT, d))).flatMap((f) => [...readFileSync(f, "utf8").matchAll(/"([EW]0\d{3})"/g)].map((m) => m[1]!)),
);

/** Rows `| CODE | meaning | example |` of the tables. */
const rows = [...doc.matchAll(/^\| ([EW]0\d{3}) \| (.*) \| (.*) \|$/gm)].map((m) => ({ code: m[1]!, meaning: m[2]!, example: m[3]! }));

describe("docs/errors.md", () => {
  test("lists every code the code base can emit, once", () => {
    const listed = rows.map((r) => r.code);
    assert.ok(emitted.size > 30, `found ${emitted.size} codes in the sources`);
    for (const code of emitted) assert.ok(listed.includes(code), `${code} is emitted but not in docs/errors.md`);
    assert.equal(new Set(listed).size, listed.length, "a code listed twice");
    for (const code of listed) assert.ok(emitted.has(code), `${code} is listed but nothing emits it`);
  });

  test("each example gives its row's code", async () => {
    let tried = 0;
    for (const { code, example } of rows) {
      const m = /^(?:(ResNet|ViT|BERT|LLaMA): )?`([^`]+)`$/.exec(example);
      if (!m) continue; // a situation, not a script
      const models: Record<string, string> = { ResNet: "test/fixtures/cnn/model.onnx", ViT: "test/fixtures/zoo/vit/model.onnx", BERT: "test/fixtures/zoo/bert/model.onnx", LLaMA: "test/fixtures/zoo/llama/model.onnx" };
      const model = m[1] ? models[m[1]]! : "examples/gpt2.onnx";
      const r = await compile({ source: m[2]!, filename: join(ROOT, "examples/doc.intv"), model: join(ROOT, model) });
      const codes = r.diagnostics.map((d) => d.code);
      assert.ok(codes.includes(code), `${code}: \`${m[2]}\` gives ${codes.join(", ") || "no diagnostic"}`);
      tried++;
    }
    assert.ok(tried >= 30, `${tried} examples`);
  });
});
