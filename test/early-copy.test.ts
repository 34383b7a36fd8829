// The installed `intv` starts `intv compile`'s copy of a large model before it loads the command
// line (cli/earlyCopy.ts), reading the arguments with the command's own parser and checks; the
// command adopts that copy when it names the files the command itself read, and abandons it
// otherwise. Checked here in-process, as the launcher and the command run one after the other:
// the command writes over the very copy the launcher started (the output is that file, renamed),
// the arguments that are a usage error, or that want no copy, start none, and a copy started for
// other files is removed, not used. The bundle as a process is test/onnx-lazy's and the CLI tests'.

import assert from "node:assert/strict";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { BACKGROUND_COPY_MIN, type StartedCopy } from "../common/index.js";
import { runCli } from "../cli/app.js";
import { compileCommand } from "../cli/commands/compile.js";
import { startEarlyCopy, takeEarlyCopy } from "../cli/earlyCopy.js";
import { DataType, decodeModelFile, writeModelFile, type ModelProto } from "../compiler/onnx/index.js";
import { scratchFolders } from "./helpers.js";

const { folder } = scratchFolders("intv-early-copy-");

/** One Add with a weight of BACKGROUND_COPY_MIN bytes (`blocks[0]`): large enough to be copied. */
function largeModel(): ModelProto {
  const width = BACKGROUND_COPY_MIN / 4;
  const vector = { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [{ dim_value: BigInt(width) }] } } };
  return {
    ir_version: 8n,
    opset_import: [{ domain: "", version: 14n }],
    graph: {
      name: "g",
      node: [{ op_type: "Add", name: "/blocks/blocks.0/Add", input: ["x", "blocks.0.weight"], output: ["/blocks/blocks.0/Add_output_0"] }],
      initializer: [{ name: "blocks.0.weight", data_type: DataType.FLOAT, dims: [BigInt(width)], raw_data: new Uint8Array(BACKGROUND_COPY_MIN) }],
      input: [{ name: "x", type: vector }],
      output: [{ name: "/blocks/blocks.0/Add_output_0", type: vector }],
    },
  };
}

let shared: string | undefined;
/** A folder with the large model and a script; the model is written once. */
async function setUp(): Promise<{ dir: string; model: string; script: string }> {
  const dir = folder();
  if (shared === undefined) {
    shared = path.join(folder(), "large.onnx");
    await writeModelFile(shared, largeModel());
  }
  const script = path.join(dir, "s.intv");
  writeFileSync(script, "save y = blocks[0].output\nblocks[0].output *= 0.5\n");
  return { dir, model: shared, script };
}

const launch = (args: string[]) => startEarlyCopy(args, compileCommand.options, compileCommand.positionals);
/** The copy being handed over (earlyCopy.ts's global), without taking it: its file appears once libuv's thread creates it. */
const pending = () => (globalThis as { [k: symbol]: StartedCopy | undefined })[Symbol.for("intv.compile.earlyCopy")];
/**
 * Once an abandoned copy has ended: its file, if the copy created it after it was abandoned (on
 * libuv's thread, under load), is removed then.
 */
async function ended(started: StartedCopy): Promise<void> {
  await started.copied;
  await new Promise((resolve) => setImmediate(resolve));
}
const temporaries = (dir: string) => readdirSync(dir).filter((f) => f.startsWith(".intv-tmp"));
const quiet = { stdout: { write: () => true }, stderr: { write: () => true, isTTY: false } };

describe("the copy started before the command line loads", () => {
  test("is the file the command writes its output over", async () => {
    const { dir, model, script } = await setUp();
    const out = path.join(dir, "out.onnx");
    launch([script, "--model", model, "-o", out]);
    const started = pending();
    assert.ok(started, "the launcher started a copy");
    await started.copied;
    const copyInode = statSync(started.tmp).ino;
    assert.equal(await runCli(["compile", script, "--model", model, "-o", out], quiet), 0);
    assert.equal(statSync(out).ino, copyInode, "the output is the launcher's copy, renamed");
    assert.deepEqual(temporaries(dir), []);
    assert.equal(takeEarlyCopy(), undefined, "handed over once");
    const outputs = decodeModelFile(out).graph!.output!.map((o) => o.name);
    assert.equal(outputs.length, 2, `the model's output and the save: ${outputs.join(", ")}`);
  });

  test("is not started for a usage error, --help, or arguments that want no copy", async () => {
    const { dir, model, script } = await setUp();
    const out = path.join(dir, "out.onnx");
    const small = path.join(dir, "small.onnx");
    writeFileSync(small, new Uint8Array(1024));
    const cases: [string, string[]][] = [
      ["an unknown option", [script, "--model", model, "-o", out, "--bogus"]],
      ["-o naming the model", [script, "--model", model, "-o", model]],
      ["-o naming the script", [script, "--model", model, "-o", script]],
      ["no output", [script, "--model", model]],
      ["--manifest naming the model", [script, "--model", model, "-o", out, "--manifest", model]],
      ["--help", [script, "--model", model, "-o", out, "--help"]],
      ["--fsync", [script, "--model", model, "-o", out, "--fsync"]],
      ["--external-data", [script, "--model", model, "-o", out, "--external-data", path.join(dir, "w.data")]],
      ["a missing script", [path.join(dir, "missing.intv"), "--model", model, "-o", out]],
      ["a model under BACKGROUND_COPY_MIN", [script, "--model", small, "-o", out]],
    ];
    for (const [what, args] of cases) {
      launch(args);
      assert.equal(takeEarlyCopy(), undefined, what);
      assert.deepEqual(temporaries(dir), [], what);
    }
  });

  test("for other files than the command reads is removed, and the command makes its own", async () => {
    const { dir, model, script } = await setUp();
    const other = path.join(dir, "other.onnx");
    const out = path.join(dir, "out.onnx");
    launch([script, "--model", model, "-o", other]);
    const started = pending();
    assert.equal(started?.output, other);
    assert.equal(await runCli(["compile", script, "--model", model, "-o", out], quiet), 0);
    assert.ok(existsSync(out));
    assert.ok(!existsSync(other));
    await ended(started!);
    assert.deepEqual(temporaries(dir), []);
  });

  test("is removed when the script is refused", async () => {
    const { dir, model } = await setUp();
    const bad = path.join(dir, "bad.intv");
    writeFileSync(bad, "save y = blocks[7].output\n");
    const out = path.join(dir, "out.onnx");
    launch([bad, "--model", model, "-o", out]);
    const started = pending();
    assert.ok(started);
    assert.equal(await runCli(["compile", bad, "--model", model, "-o", out], quiet), 1);
    assert.ok(!existsSync(out));
    await ended(started);
    assert.deepEqual(temporaries(dir), []);
  });
});
