// Every ```intv block in docs/language.md compiles against the GPT-2 example model: a block whose
// first line is `# expect: CODE` must produce that diagnostic, every other block no error.
// Documentation cannot rot.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { compile, decodeModel, renderDiagnostics } from "../compiler/index.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const doc = readFileSync(path.join(ROOT, "docs/language.md"), "utf8");
const gpt2 = decodeModel(readFileSync(path.join(ROOT, "examples/gpt2.onnx")));
const cnn = decodeModel(readFileSync(path.join(ROOT, "test/fixtures/cnn/model.onnx")));
const branchy = decodeModel(readFileSync(path.join(ROOT, "test/fixtures/compiler/branchy.onnx")));

const blocks: { code: string; line: number }[] = [];
const fence = /^```intv\n([\s\S]*?)^```$/gm;
for (let m = fence.exec(doc); m; m = fence.exec(doc)) blocks.push({ code: m[1]!, line: doc.slice(0, m.index).split("\n").length });

test("docs/language.md has examples", () => assert.ok(blocks.length > 30, `found ${blocks.length}`));

for (const block of blocks) {
  const expect = /^# expect: ([EW]\d{4})/.exec(block.code)?.[1];
  test(`docs/language.md:${block.line} ${expect ? `gives ${expect}` : "compiles"}`, async () => {
    // The block is compiled as if it were a script in examples/, so `load("steer.npy")` resolves.
    const filename = path.join(ROOT, "examples", `docs-line-${block.line}.intv`);
    const zoo = /^# model: zoo\/([\w-]+)/m.exec(block.code)?.[1];
    const model = zoo ? path.join(ROOT, "test/fixtures/zoo", zoo, "model.onnx") : /^# model: cnn/m.test(block.code) ? cnn : /^# model: branchy/m.test(block.code) ? branchy : gpt2;
    const result = await compile({ source: block.code, filename, model });
    const text = renderDiagnostics(result.diagnostics, result.sources);
    if (expect) assert.ok(result.diagnostics.some((d) => d.code === expect), `expected ${expect}, got:\n${text}`);
    else assert.deepEqual(result.diagnostics.filter((d) => d.severity === "error"), [], text);
  });
}
