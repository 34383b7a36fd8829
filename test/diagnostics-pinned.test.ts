// One deliberately broken script per diagnostic code (test/fixtures/diagnostics/CODE.intv), its
// rendered diagnostics pinned as text (CODE.txt). A change to a message shows up here as a diff.
// To re-pin after an intended change: INTV_PIN=1 node --test dist/test/diagnostics-pinned.test.js

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { compile, decodeModel, renderDiagnostics } from "../compiler/index.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
process.chdir(ROOT); // file names in the pinned text are relative to the repository
const DIR = "test/fixtures/diagnostics";
const models = {
  gpt2: decodeModel(readFileSync("test/fixtures/gpt2/model.onnx")),
  cnn: decodeModel(readFileSync("test/fixtures/cnn/model.onnx")),
  branchy: decodeModel(readFileSync("test/fixtures/compiler/branchy.onnx")),
  twice: decodeModel(readFileSync("test/fixtures/compiler/twice.onnx")),
};

for (const file of readdirSync(DIR).filter((f) => f.endsWith(".intv")).sort()) {
  const code = file.split(".")[0]!;
  test(`${code} is rendered as pinned`, async () => {
    const filename = path.join(DIR, file);
    const source = readFileSync(filename, "utf8");
    // CODE.intv runs on the GPT-2 fixture, CODE.cnn.intv, CODE.branchy.intv and CODE.twice.intv on
    // those models. CODE.zoo-NAME.intv runs on test/fixtures/zoo/NAME (the port-sweep models).
    const zoo = /\.zoo-([\w-]+)\./.exec(file)?.[1];
    const named = /\.(cnn|branchy|twice)\./.exec(file)?.[1] as "cnn" | "branchy" | "twice" | undefined;
    const model = zoo ? decodeModel(readFileSync(`test/fixtures/zoo/${zoo}/model.onnx`)) : models[named ?? "gpt2"];
    const result = await compile({ source, filename, model, allowPaths: ["test/fixtures/compiler"] });
    assert.ok(result.diagnostics.some((d) => d.code === code), `${file} must produce ${code}: ${JSON.stringify(result.diagnostics)}`);
    const text = renderDiagnostics(result.diagnostics, result.sources);
    const pinned = filename.replace(/\.intv$/, ".txt");
    if (process.env.INTV_PIN) writeFileSync(pinned, text);
    assert.equal(text, readFileSync(pinned, "utf8"));
  });
}
