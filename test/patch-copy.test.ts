// A large compiled model is written over a copy of its input made in the background while it was
// compiled (common/backgroundCopy.ts, compiler/onnx/patchPlan.ts, patchCopy.ts): the weights stay
// where they are, the old nodes become a filler field, the new graph follows the last weight.
// Checked here: the result reads as the model written from scratch (to this project's decoder,
// and to onnxruntime: the same outputs), its weights are where they were in the input, every
// case the plan cannot take is written from scratch byte for byte, the copy never outlives the
// write, and an input changed meanwhile is an error.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, readFileSync, readdirSync, renameSync, statSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { compile } from "../compiler/index.js";
import { BackgroundCopy, STALE_TEMPORARY_MS, removeStaleTemporaries, startBackgroundCopy } from "../common/index.js";
import { runCli } from "../cli/app.js";
import {
  DataType,
  FileRange,
  decodeModel,
  decodeModelFile,
  encodeModel,
  writeModelFile,
  type ModelProto,
  type TensorProto,
} from "../compiler/onnx/index.js";
import { fillerHeaders, MAX_FILLER_SHARE } from "../compiler/onnx/patchPlan.js";
import { Runtime } from "../runtime/index.js";
import { ROOT, scratchFolders } from "./helpers.js";

const { folder } = scratchFolders("intv-patch-copy-");

const BLOCKS = 6;
const WIDTH = 16384; // floats per weight: 64 KiB each

/** A chain of Add blocks, each with its own weight (`blocks[i]` in the module tree). */
function chainModel(graphName: string | null = "g"): ModelProto {
  const vector = { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [{ dim_value: BigInt(WIDTH) }] } } };
  return {
    ir_version: 8n,
    producer_name: "patch-copy test",
    opset_import: [{ domain: "", version: 14n }],
    graph: {
      ...(graphName === null ? {} : { name: graphName }),
      node: Array.from({ length: BLOCKS }, (_, i) => ({
        op_type: "Add",
        name: `/blocks/blocks.${i}/Add`,
        input: [i === 0 ? "x" : `/blocks/blocks.${i - 1}/Add_output_0`, `blocks.${i}.weight`],
        output: [`/blocks/blocks.${i}/Add_output_0`],
      })),
      initializer: Array.from({ length: BLOCKS }, (_, i) => {
        const values = Float32Array.from({ length: WIDTH }, (_, k) => (i + 1) * 0.001 * ((k % 7) - 3));
        return { name: `blocks.${i}.weight`, data_type: DataType.FLOAT, dims: [BigInt(WIDTH)], raw_data: new Uint8Array(values.buffer) };
      }),
      input: [{ name: "x", type: vector }],
      output: [{ name: `/blocks/blocks.${BLOCKS - 1}/Add_output_0`, type: vector }],
    },
  };
}

const SCRIPT = "save b2 = blocks[2].output\nblocks[3].output *= 0.5\nblocks[4].output = blocks[1].output\n";

/** Writes `model` as a file and compiles SCRIPT against it: the compiled model, its weights in the file. */
async function compiled(dir: string, model: ModelProto = chainModel()): Promise<{ input: string; model: ModelProto }> {
  const input = path.join(dir, "model.onnx");
  await writeModelFile(input, model);
  const result = await compile({ source: SCRIPT, filename: "s.intv", model: input });
  assert.ok(result.model, JSON.stringify(result.diagnostics));
  return { input, model: result.model };
}

/** The model with its initializers in name order (the copy puts the kept ones first). */
function normalized(model: ModelProto): Uint8Array {
  const initializer = [...(model.graph!.initializer ?? [])].sort((a, b) => (a.name! < b.name! ? -1 : 1));
  return encodeModel({ ...model, graph: { ...model.graph!, initializer } });
}

function weightOffsets(file: string): Map<string, number> {
  const offsets = new Map<string, number>();
  for (const t of decodeModelFile(file).graph!.initializer ?? []) if (t.raw_data instanceof FileRange) offsets.set(t.name!, t.raw_data.offset);
  return offsets;
}

/**
 * `model` written from scratch (scratch.onnx) and over a copy of `input` started for `copyFor`
 * (out.onnx itself by default; another name is a copy the write cannot use).
 */
async function writeBoth(dir: string, input: string, model: ModelProto, copyFor = "out.onnx"): Promise<{ scratch: string; out: string }> {
  const scratch = path.join(dir, "scratch.onnx");
  await writeModelFile(scratch, model);
  const out = path.join(dir, "out.onnx");
  await writeModelFile(out, model, { copy: startBackgroundCopy(input, path.join(dir, copyFor), 0) });
  return { scratch, out };
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.startsWith(".intv-tmp"));
}

describe("writing a compiled model over a copy of its input", () => {
  test("reads as the model written from scratch, to the decoder and to onnxruntime, with the weights where they were", async () => {
    const dir = folder();
    const { input, model } = await compiled(dir);
    const scratch = path.join(dir, "scratch.onnx");
    await writeModelFile(scratch, model);
    const out = path.join(dir, "out.onnx");
    const copy = startBackgroundCopy(input, out, 0);
    assert.ok(copy);
    await writeModelFile(out, model, { copy });

    assert.notDeepEqual(readFileSync(out), readFileSync(scratch), "the copy was used");
    assert.deepEqual(normalized(decodeModelFile(out)), normalized(decodeModelFile(scratch)));
    // Every weight of the input is at its old offset in the output: none was moved or rewritten.
    assert.deepEqual(weightOffsets(out), weightOffsets(input));
    // The same model to protobuf C++ (onnxruntime's reader): the same outputs, the save included.
    const x = Float32Array.from({ length: WIDTH }, (_, k) => Math.sin(k));
    const [a, b] = await Promise.all([out, scratch].map(async (file) => {
      const runtime = await Runtime.load(file);
      try {
        return await runtime.run({ x: { type: "float32", dims: [WIDTH], data: x } });
      } finally {
        await runtime.release();
      }
    }));
    assert.deepEqual([...a!.saves.keys()], ["b2"]);
    assert.deepEqual(a!.saves.get("b2")!.data, b!.saves.get("b2")!.data);
    for (const [name, t] of b!.outputs) assert.deepEqual(a!.outputs.get(name)!.data, t.data, name);
    assert.deepEqual(leftovers(dir), []);
  });

  test("a read-only input: the output is written over its copy all the same, with a new file's mode", async () => {
    const dir = folder();
    const { input, model } = await compiled(dir);
    chmodSync(input, 0o444);
    const { scratch, out } = await writeBoth(dir, input, model);
    assert.deepEqual(weightOffsets(out), weightOffsets(input));
    assert.equal(statSync(out).mode & 0o7777, statSync(scratch).mode & 0o7777);
    assert.deepEqual(leftovers(dir), []);
  });

  test("a graph without a name gets doc_string as its filler, read back as an empty doc_string", async () => {
    const dir = folder();
    const { input, model } = await compiled(dir, chainModel(null));
    const out = path.join(dir, "out.onnx");
    await writeModelFile(out, model, { copy: startBackgroundCopy(input, out, 0) });
    const written = decodeModelFile(out);
    assert.equal(written.graph!.name, undefined);
    assert.equal(written.graph!.doc_string, "");
    assert.deepEqual(weightOffsets(out), weightOffsets(input));
    assert.deepEqual(normalized({ ...written, graph: { ...written.graph!, doc_string: undefined } }), normalized(model));
  });

  test("when the filler would be more than its share of the kept weights, the model is written from scratch, byte for byte", async () => {
    const dir = folder();
    // The example GPT-2's nodes are a large part of its 1 MB: too much filler.
    const gpt2 = path.join(ROOT, "examples", "gpt2.onnx");
    const input = path.join(dir, "gpt2.onnx");
    writeFileSync(input, readFileSync(gpt2));
    const result = await compile({ source: readFileSync(path.join(ROOT, "examples", "seed3_two_pass.intv"), "utf8"), filename: "s.intv", model: input });
    assert.ok(result.model);
    const { scratch, out } = await writeBoth(dir, input, result.model);
    assert.deepEqual(readFileSync(out), readFileSync(scratch));
    assert.deepEqual(leftovers(dir), []);
    assert.ok(MAX_FILLER_SHARE < 1 / 8);
  });

  test("an edited weight whose old bytes are more than the filler's share is written from scratch, byte for byte", async () => {
    const dir = folder();
    const { input, model } = await compiled(dir);
    const edit = (m: ModelProto, name: string, bytes: number): ModelProto => ({
      ...m,
      graph: { ...m.graph!, initializer: m.graph!.initializer!.map((t): TensorProto => (t.name === name ? { ...t, dims: [BigInt(bytes / 4)], raw_data: new Uint8Array(bytes).fill(1) } : t)) },
    });
    // blocks.0's old bytes become filler: 64 KiB, a sixth of the weights.
    const big = edit(model, "blocks.0.weight", WIDTH * 4);
    const { scratch, out } = await writeBoth(dir, input, big);
    assert.deepEqual(readFileSync(out), readFileSync(scratch));
    assert.deepEqual(leftovers(dir), []);
  });

  test("a copy meant for another output, or an output with external data, is removed and the model written from scratch", async () => {
    const dir = folder();
    const { input, model } = await compiled(dir);
    const { scratch, out } = await writeBoth(dir, input, model, "other.onnx");
    assert.deepEqual(readFileSync(out), readFileSync(scratch));
    const external = path.join(dir, "ext.onnx");
    await writeModelFile(external, model, { copy: startBackgroundCopy(input, external, 0), externalData: "ext.onnx.data", externalDataThreshold: 1024 });
    assert.ok(statSync(external).size < 64 * 1024);
    assert.deepEqual(leftovers(dir), []);
  });

  test("an input changed while it was copied is an error, and nothing is left behind", async () => {
    const dir = folder();
    const { input, model } = await compiled(dir);
    const out = path.join(dir, "out.onnx");
    const copy = startBackgroundCopy(input, out, 0)!;
    appendFileSync(input, new Uint8Array(8));
    await assert.rejects(writeModelFile(out, model, { copy }), /the model file changed after it was read/);
    assert.deepEqual(readdirSync(dir).sort(), ["model.onnx"]);
  });

  test("an input replaced after the copy started, before it was read, is written from scratch", async () => {
    const dir = folder();
    const input = path.join(dir, "model.onnx");
    await writeModelFile(input, chainModel());
    const out = path.join(dir, "out.onnx");
    const copy = startBackgroundCopy(input, out, 0)!;
    // Another model renamed over it (as a download or an export finishing), then compiled.
    const other = path.join(dir, "other.onnx");
    await writeModelFile(other, chainModel("h"));
    renameSync(other, input);
    const result = await compile({ source: SCRIPT, filename: "s.intv", model: input });
    const scratch = path.join(dir, "scratch.onnx");
    await writeModelFile(scratch, result.model!);
    await writeModelFile(out, result.model!, { copy });
    assert.deepEqual(readFileSync(out), readFileSync(scratch));
    assert.deepEqual(leftovers(dir), []);
  });

  test("an initializer listed twice is written twice", async () => {
    const dir = folder();
    const { input, model } = await compiled(dir);
    const twice = model.graph!.initializer!.find((t) => t.raw_data instanceof FileRange)!;
    const doubled: ModelProto = { ...model, graph: { ...model.graph!, initializer: [...model.graph!.initializer!, twice] } };
    const out = path.join(dir, "out.onnx");
    await writeModelFile(out, doubled, { copy: startBackgroundCopy(input, out, 0) });
    const written = decodeModelFile(out).graph!.initializer!;
    assert.equal(written.length, doubled.graph!.initializer!.length);
    assert.equal(written.filter((t) => t.name === twice.name).length, 2);
    // The first where it was in the input (kept), the second in the tail.
    assert.equal((written.find((t) => t.name === twice.name)!.raw_data as FileRange).offset, weightOffsets(input).get(twice.name!));
  });

  test("a copy that cannot be made leaves the error to the ordinary write", async () => {
    const dir = folder();
    const { input, model } = await compiled(dir);
    const out = path.join(dir, "missing", "out.onnx");
    await assert.rejects(writeModelFile(out, model, { copy: startBackgroundCopy(input, out, 0) }), (e: NodeJS.ErrnoException) => e.code === "ENOENT");
    assert.deepEqual(readdirSync(dir).sort(), ["model.onnx"]);
  });

  test("startBackgroundCopy: none for a small file or a folder; discard removes the copy once it ends", async () => {
    const dir = folder();
    const { input } = await compiled(dir);
    assert.equal(startBackgroundCopy(input, path.join(dir, "o.onnx")), undefined); // under 64 MiB
    assert.equal(startBackgroundCopy(dir, path.join(dir, "o.onnx"), 0), undefined);
    assert.equal(startBackgroundCopy(path.join(dir, "nothing.onnx"), path.join(dir, "o.onnx"), 0), undefined);
    const copy = startBackgroundCopy(input, path.join(dir, "o.onnx"), 0)!;
    assert.ok(copy instanceof BackgroundCopy);
    const copied = await copy.finished();
    assert.ok(copied);
    assert.deepEqual(readFileSync(copy.tmp), readFileSync(input));
    await copy.discard();
    await copy.discard();
    assert.deepEqual(leftovers(dir), []);
  });
});

describe("temporary files left by a killed compile", () => {
  /** The number of a process that has ended. */
  const endedPid = (): number => {
    const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    return Number(child.stdout);
  };

  test("removeStaleTemporaries removes those of ended processes not written for a minute, and nothing else", () => {
    const dir = folder();
    const dead = endedPid();
    const old = new Date(Date.now() - 2 * STALE_TEMPORARY_MS);
    const files = {
      stale: `.intv-tmp-out.onnx-${dead}-0123abcd`,
      recent: `.intv-tmp-out.onnx-${dead}-89abcdef`,
      running: `.intv-tmp-out.onnx-${process.pid}-0123abcd`,
      other: `.intv-tmp-out.onnx-${dead}-notours`,
      model: "out.onnx",
    };
    for (const name of Object.values(files)) writeFileSync(path.join(dir, name), "x");
    for (const name of [files.stale, files.running, files.other, files.model]) utimesSync(path.join(dir, name), old, old);
    removeStaleTemporaries(dir);
    assert.deepEqual(readdirSync(dir).sort(), [files.recent, files.running, files.other, files.model].sort());
    removeStaleTemporaries(path.join(dir, "missing")); // not an error
  });

  test("intv compile removes them from its output's folder; a rejected compile leaves none of its own", async () => {
    const dir = folder();
    const { input } = await compiled(dir);
    const stale = path.join(dir, `.intv-tmp-out.onnx-${endedPid()}-0123abcd`);
    writeFileSync(stale, "x");
    const old = new Date(Date.now() - 2 * STALE_TEMPORARY_MS);
    utimesSync(stale, old, old);
    const script = path.join(dir, "bad.intv");
    writeFileSync(script, "save x = blocks[99].output\n");
    const io = { stdout: { write: () => true }, stderr: { write: () => true, isTTY: false } };
    assert.equal(await runCli(["compile", script, "--model", input, "-o", path.join(dir, "out.onnx")], io), 1);
    assert.deepEqual(readdirSync(dir).sort(), ["bad.intv", "model.onnx"]);
  });

  test("abandon removes the copy at once, without waiting for it", async () => {
    const dir = folder();
    const { input } = await compiled(dir);
    const copy = startBackgroundCopy(input, path.join(dir, "o.onnx"), 0)!;
    await new Promise((resolve) => setTimeout(resolve, 20)); // the copy has created its file
    copy.abandon();
    assert.deepEqual(leftovers(dir), []);
    await copy.discard(); // a no-op now
    assert.deepEqual(leftovers(dir), []);
  });
});

describe("filler fields", () => {
  test("cover every length exactly, with one field where one fits", () => {
    for (const tag of [Uint8Array.of(0x12), Uint8Array.of(0x52)]) {
      for (let length = 2; length < 20000; length++) {
        const headers = fillerHeaders(length, tag);
        // Parse the fields back: each is the tag, a varint length, that many bytes.
        const bytes = new Uint8Array(length);
        for (const [at, header] of headers) bytes.set(header, at);
        let pos = 0;
        let fields = 0;
        while (pos < length) {
          assert.equal(bytes[pos], tag[0], `length ${length}: a field starts at ${pos}`);
          pos++;
          let value = 0;
          let shift = 0;
          for (;;) {
            const b = bytes[pos++]!;
            value += (b & 0x7f) * 2 ** shift;
            shift += 7;
            if (b < 0x80) break;
          }
          pos += value;
          fields++;
        }
        assert.equal(pos, length, `length ${length}`);
        assert.equal(fields, headers.length);
        assert.ok(fields <= 2, `length ${length}: ${fields} fields`);
      }
    }
  });

  test("read back by the decoder as the last value of the field they pose as", () => {
    // A graph whose name field is a filler of zeros, then its real name.
    const filler = new Uint8Array(300);
    for (const [at, header] of fillerHeaders(filler.length, Uint8Array.of(0x12))) filler.set(header, at);
    const name = Uint8Array.of(0x12, 1, 0x67); // name: "g"
    const graph = new Uint8Array([...filler, ...name]);
    const model = new Uint8Array([0x08, 8, 0x3a, ...varint(graph.length), ...graph]);
    assert.equal(decodeModel(model).graph!.name, "g");
  });
});

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
