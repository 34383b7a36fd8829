// Models read from a file keep their weights in the file (issue 14): the decoder reads tags,
// lengths and small values through a window of positioned reads and leaves each large `raw_data`
// as a FileRange; a compile-time constant read loads its bytes on demand; writing copies the
// ranges from file to file. Checked here: the file path decodes exactly what the in-memory path
// does (every fixture, and corrupted files, error for error), weights are read when needed and
// only from the file as it was, writing streams them byte for byte (and to external data when
// asked), and a compile of a model larger than node's heap limit works in little memory.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { compile, prepareModel } from "../compiler/index.js";
import {
  DataType,
  FileRange,
  LAZY_MIN,
  OnnxFormatError,
  decodeModel,
  decodeModelFile,
  encodeModel,
  readModelFile,
  tensorRawData,
  writeModelFile,
  writeModelReference,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from "../compiler/onnx/index.js";
import { constantInts } from "../compiler/ir/index.js";
import { ROOT, scratchFolders } from "./helpers.js";

const FIXTURES = path.join(ROOT, "test", "fixtures");
const GPT2 = path.join(ROOT, "examples", "gpt2.onnx");

const { folder } = scratchFolders("intv-onnx-lazy-");

function onnxFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return onnxFiles(p);
    return e.isFile() && e.name.endsWith(".onnx") && !/bad|invalid|corrupt|truncated/i.test(e.name) ? [p] : [];
  });
}

/** Every FileRange in the model, with the tensor holding it. */
function ranges(model: ModelProto): Array<{ t: TensorProto; r: FileRange }> {
  const out: Array<{ t: TensorProto; r: FileRange }> = [];
  const visit = (x: unknown): void => {
    if (x === null || typeof x !== "object" || x instanceof Uint8Array) return;
    if (x instanceof FileRange) return;
    if (Array.isArray(x)) return x.forEach(visit);
    const o = x as Record<string, unknown>;
    if (o.raw_data instanceof FileRange) out.push({ t: o as TensorProto, r: o.raw_data });
    for (const v of Object.values(o)) visit(v);
  };
  visit(model);
  return out;
}

/** `model` with every FileRange read into memory (what decodeModel of the bytes gives). */
function materialized(model: ModelProto): ModelProto {
  const copy = (x: unknown): unknown => {
    if (x instanceof FileRange) return x.read();
    if (x === null || typeof x !== "object" || x instanceof Uint8Array) return x;
    if (Array.isArray(x)) return x.map(copy);
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, copy(v)]));
  };
  return copy(model) as ModelProto;
}

const i64 = (values: number[]): Uint8Array => {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return raw;
};

describe("decoding from a file reads the structure, not the weights", () => {
  const files = onnxFiles(FIXTURES);
  test("finds the fixtures, some with weights left in the file", () => {
    assert.ok(files.length > 20);
    assert.ok(ranges(decodeModelFile(GPT2)).length > 10);
  });
  for (const file of files) {
    test(`${path.relative(FIXTURES, file)}: the same model as decodeModel, and the same bytes again`, () => {
      const bytes = readFileSync(file);
      const lazy = decodeModelFile(file);
      for (const { r } of ranges(lazy)) assert.ok(r.length >= LAZY_MIN && r.file.path === file);
      assert.deepStrictEqual(materialized(lazy), decodeModel(bytes));
      assert.ok(Buffer.compare(encodeModel(lazy), bytes) === 0, "re-encoded bytes differ");
    });
  }

  test("a structure larger than the read window (30,000 nodes, fields across window edges)", () => {
    const node: NodeProto[] = Array.from({ length: 30_000 }, (_, i) => ({ op_type: "Identity", name: `n${i}`, input: [i === 0 ? "x" : `v${i - 1}`], output: [`v${i}`], doc_string: "é".repeat(i % 7) }));
    const big = new Uint8Array(100_000).map((_, i) => i % 251);
    const model: ModelProto = {
      ir_version: 8n,
      graph: { name: "g", node, initializer: [{ name: "w", data_type: DataType.UINT8, dims: [100_000n], raw_data: big }, { name: "s", data_type: DataType.UINT8, dims: [3n], raw_data: Uint8Array.of(1, 2, 3) }] },
    };
    const bytes = encodeModel(model);
    assert.ok(bytes.length > 4 * 64 * 1024);
    const file = path.join(folder(), "many.onnx");
    writeFileSync(file, bytes);
    const lazy = decodeModelFile(file);
    assert.deepStrictEqual(materialized(lazy), decodeModel(bytes));
    const [w, s] = lazy.graph!.initializer!;
    assert.ok(w!.raw_data instanceof FileRange);
    assert.ok(s!.raw_data instanceof Uint8Array);
    assert.deepStrictEqual(tensorRawData(w!), big);
  });

  test("a corrupted file fails exactly as its bytes do in memory (message and offset)", () => {
    const good = readFileSync(GPT2);
    const dir = folder();
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    let failures = 0;
    for (let k = 0; k < 150; k++) {
      const bytes = Buffer.from(good);
      const cut = k % 3 === 0 ? rand(bytes.length) : bytes.length;
      for (let j = 0; j < 1 + rand(4); j++) bytes[rand(cut)] = rand(256);
      const sample = bytes.subarray(0, cut);
      const file = path.join(dir, `c${k}.onnx`);
      writeFileSync(file, sample);
      let memory: unknown;
      let lazy: unknown;
      try {
        memory = encodeModel(decodeModel(sample));
      } catch (e) {
        memory = e;
      }
      try {
        lazy = encodeModel(decodeModelFile(file));
      } catch (e) {
        lazy = e;
      }
      if (memory instanceof Error) {
        failures++;
        assert.ok(lazy instanceof OnnxFormatError, `${file}: ${String(lazy)}`);
        assert.equal((lazy as OnnxFormatError).message, memory.message);
        assert.equal((lazy as OnnxFormatError).offset, (memory as OnnxFormatError).offset);
      } else {
        assert.ok(lazy instanceof Uint8Array && Buffer.compare(lazy, memory as Uint8Array) === 0, file);
      }
    }
    assert.ok(failures > 50, `only ${failures} of the corruptions were refused`);
  });
});

describe("skipping fields: a model's interface without its nodes", () => {
  test("skipped fields are absent; the rest is as decoded in full, from bytes and from the file", () => {
    const skip = ["onnx.GraphProto.node", "onnx.GraphProto.value_info"];
    const full = decodeModel(readFileSync(GPT2));
    const { node: _node, value_info: _info, ...graph } = full.graph!;
    const want = { ...full, graph };
    assert.deepStrictEqual(decodeModel(readFileSync(GPT2), { skip }), want);
    assert.deepStrictEqual(materialized(decodeModelFile(GPT2, { skip })), want);
    assert.throws(() => decodeModel(readFileSync(GPT2), { skip: ["onnx.GraphProto.nodes"] }), /no field `onnx.GraphProto.nodes` to skip/);
  });
});

describe("a weight's bytes are read when something needs them", () => {
  /** x: float32[1000] → Reshape(x, Slice(shapes, 0, 2)): the target shape is in a 600-entry weight. */
  function reshapeModel(): ModelProto {
    const shapes = [2, 500, ...Array.from({ length: 598 }, (_, i) => i)];
    const t = (name: string, values: number[]): TensorProto => ({ name, data_type: DataType.INT64, dims: [BigInt(values.length)], raw_data: i64(values) });
    return {
      ir_version: 8n,
      opset_import: [{ domain: "", version: 14n }],
      graph: {
        name: "g",
        node: [
          { op_type: "Slice", name: "slice", input: ["shapes", "zero", "two"], output: ["target"] },
          { op_type: "Reshape", name: "reshape", input: ["x", "target"], output: ["y"] },
        ],
        initializer: [t("shapes", shapes), t("zero", [0]), t("two", [2])],
        input: [{ name: "x", type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [{ dim_value: 1000n }] } } } }],
        output: [{ name: "y", type: { tensor_type: { elem_type: DataType.FLOAT } } }],
      },
    };
  }

  test("a compile-time constant read from a weight still in the file", async () => {
    const file = path.join(folder(), "reshape.onnx");
    writeFileSync(file, encodeModel(reshapeModel()));
    const { model } = await readModelFile(file);
    const shapes = model.graph!.initializer![0]!;
    assert.ok(shapes.raw_data instanceof FileRange, "a 4800-byte weight is left in the file");
    const { ir } = prepareModel(model);
    const y = ir.graph.values.get("y")!;
    assert.deepEqual(y.type?.shape, [2, 500]);
    assert.deepEqual(constantInts(ir.graph.values.get("shapes")!)!.slice(0, 3), [2, 500, 0]);
  });

  test("a model file changed after it was read: its weights are refused, not misread", async () => {
    const file = path.join(folder(), "reshape.onnx");
    writeFileSync(file, encodeModel(reshapeModel()));
    const { model } = await readModelFile(file);
    const range = model.graph!.initializer![0]!.raw_data as FileRange;
    writeFileSync(file, readFileSync(file)); // same bytes, but a new write
    const later = Date.now() + 20;
    while (Date.now() < later); // a later modification time on coarse clocks
    writeFileSync(file, readFileSync(file));
    assert.throws(() => range.read(), (e: unknown) => e instanceof OnnxFormatError && e.message.includes(`${file}: the model file changed after it was read (it was modified)`));
    await assert.rejects(writeModelFile(path.join(folder(), "out.onnx"), model), /the model file changed after it was read/);
    rmSync(file);
    assert.throws(() => range.read(), /the model file changed after it was read \(it cannot be opened any more: ENOENT\)/);
  });
});

describe("writing streams the weights from the file they were read from", () => {
  test("every fixture written again is the same file", async () => {
    const out = path.join(folder(), "out.onnx");
    for (const file of onnxFiles(FIXTURES)) {
      const { model, dir } = await readModelFile(file);
      await writeModelFile(out, model, { sourceDir: dir });
      assert.ok(Buffer.compare(readFileSync(out), readFileSync(file)) === 0, file);
    }
  });

  test("a patch of a weight: the compiled model holds the weights byte for byte", async () => {
    const source = "transformer.h[1].mlp.c_fc.weight *= 0.5\nsave h = transformer.h[1].mlp.output\n";
    const result = await compile({ source, filename: path.join(folder(), "s.intv"), model: GPT2 });
    assert.deepEqual(result.diagnostics.filter((d) => d.severity === "error"), []);
    const out = path.join(folder(), "patched.onnx");
    await writeModelFile(out, result.model!);
    const inputs = new Map(decodeModel(readFileSync(GPT2)).graph!.initializer!.map((t) => [t.name, t.raw_data]));
    const written = decodeModel(readFileSync(out));
    let checked = 0;
    for (const t of written.graph!.initializer!) {
      if (!inputs.has(t.name)) continue;
      assert.deepStrictEqual(t.raw_data, inputs.get(t.name), t.name);
      checked++;
    }
    assert.equal(checked, inputs.size);
    assert.ok(written.graph!.node!.some((n) => n.op_type === "Mul" && n.input!.includes("transformer.h.1.mlp.c_fc.weight")));
  });
});

describe("external data", () => {
  test("--external-data: the weights go to a data file of their own, aligned, and read back the same", async () => {
    const dir = folder();
    const out = path.join(dir, "out.onnx");
    const { model } = await readModelFile(GPT2);
    await writeModelFile(out, model, { externalData: "weights/out.data", sourceDir: path.dirname(GPT2) });
    const written = decodeModel(readFileSync(out));
    const data = readFileSync(path.join(dir, "weights", "out.data"));
    const original = decodeModel(readFileSync(GPT2));
    let moved = 0;
    written.graph!.initializer!.forEach((t, i) => {
      const want = original.graph!.initializer![i]!;
      if (t.data_location !== 1) {
        assert.deepStrictEqual(t, want);
        assert.ok((want.raw_data?.length ?? 0) < 1024);
        return;
      }
      moved++;
      const entries = Object.fromEntries(t.external_data!.map((e) => [e.key, e.value]));
      assert.equal(entries.location, "weights/out.data");
      assert.equal(Number(entries.offset) % 4096, 0);
      assert.equal(t.raw_data, undefined);
      assert.deepStrictEqual(new Uint8Array(data.subarray(Number(entries.offset), Number(entries.offset) + Number(entries.length))), want.raw_data);
    });
    assert.ok(moved > 10);
    // Read back with its data: the same model as the original, once the data is loaded.
    const back = await readModelFile(out);
    assert.equal(back.model.graph!.initializer!.length, original.graph!.initializer!.length);
    // The caller's model is not changed by writing it.
    assert.ok(model.graph!.initializer!.every((t) => t.data_location === undefined));
  });

  test("an external-data model compiled elsewhere: data moved to a new file, or referenced from an ancestor folder", async () => {
    // First make an external-data model (its data in `data/`), then write it three ways.
    const src = folder();
    const ext = path.join(src, "model.onnx");
    const { model } = await readModelFile(GPT2);
    await writeModelFile(ext, model, { externalData: "data/model.onnx.data", sourceDir: path.dirname(GPT2) });
    const { model: extModel, dir } = await readModelFile(ext);

    // 1. Moved into a data file of the output's own.
    const out1 = path.join(folder(), "moved.onnx");
    await writeModelFile(out1, extModel, { sourceDir: dir, externalData: "moved.data" });
    assert.ok(Buffer.compare(readFileSync(path.join(path.dirname(out1), "moved.data")), readFileSync(path.join(src, "data", "model.onnx.data"))) === 0);
    const m1 = decodeModel(readFileSync(out1));
    assert.ok(m1.graph!.initializer!.filter((t) => t.data_location === 1).every((t) => t.external_data![0]!.value === "moved.data"));

    // 2. Output in an ancestor folder: the location is rewritten, nothing is copied or linked.
    const out2 = path.join(path.dirname(src), `up-${path.basename(src)}.onnx`);
    await writeModelFile(out2, extModel, { sourceDir: dir });
    const rel = `${path.basename(src)}/data/model.onnx.data`;
    const m2 = decodeModel(readFileSync(out2));
    assert.ok(m2.graph!.initializer!.filter((t) => t.data_location === 1).every((t) => t.external_data![0]!.value === rel));
    await readModelFile(out2); // its references check out from there
    rmSync(out2);

    // 3. A data file that is the input's own data is refused (it would be replaced under the input).
    await assert.rejects(writeModelFile(path.join(src, "again.onnx"), extModel, { sourceDir: dir, externalData: "data/model.onnx.data" }), /is a file the model's weights are read from/);
  });

  test("the data file of a compiled model runs in onnxruntime as the inline model does", { skip: !hasOrt() }, async () => {
    const { Runtime } = await import("../runtime/index.js");
    const source = "save h = transformer.h[0].mlp.output\n";
    const result = await compile({ source, filename: path.join(folder(), "s.intv"), model: GPT2 });
    const dir = folder();
    await writeModelFile(path.join(dir, "inline.onnx"), result.model!);
    await writeModelFile(path.join(dir, "split.onnx"), result.model!, { externalData: "split.onnx.data" });
    const ids = [[5, 17, 42, 3]];
    const run = async (file: string) => {
      const rt = await Runtime.load(file);
      try {
        return await rt.run({ input_ids: ids });
      } finally {
        await rt.release();
      }
    };
    const [a, b] = [await run(path.join(dir, "inline.onnx")), await run(path.join(dir, "split.onnx"))];
    assert.deepStrictEqual(b.saves.get("h")!.data, a.saves.get("h")!.data);
    // What `intv run SCRIPT` hands to onnxruntime: the weights as references into the model file.
    const reference = await writeModelReference(result.model!, path.dirname(GPT2));
    try {
      assert.ok(statSync(reference).size < statSync(GPT2).size / 2); // weights under LAZY_MIN bytes stay inline
      const refs = decodeModel(readFileSync(reference)).graph!.initializer!.filter((t) => t.data_location === 1);
      assert.ok(refs.length > 10 && refs.every((t) => t.external_data![0]!.value === "gpt2.onnx"));
      const c = await run(reference);
      assert.deepStrictEqual(c.saves.get("h")!.data, a.saves.get("h")!.data);
    } finally {
      rmSync(reference);
    }
  });
});

function hasOrt(): boolean {
  try {
    return statSync(path.join(ROOT, "node_modules", "onnxruntime-node", "package.json")).isFile();
  } catch {
    return false;
  }
}

describe("a model larger than node's heap limit", () => {
  test("compiles (and inspects, and checks) in a process whose heap is a fraction of the model, copying its weights exactly", async () => {
    const dir = folder();
    const blocks = 5;
    const width = 12 << 20; // floats per weight: 48 MiB each, 240 MiB in all
    const model: ModelProto = {
      ir_version: 8n,
      opset_import: [{ domain: "", version: 14n }],
      graph: {
        name: "g",
        node: Array.from({ length: blocks }, (_, i) => ({ op_type: "Add", name: `/blocks/blocks.${i}/Add`, input: [i === 0 ? "x" : `/blocks/blocks.${i - 1}/Add_output_0`, `blocks.${i}.weight`], output: [`/blocks/blocks.${i}/Add_output_0`] })),
        initializer: Array.from({ length: blocks }, (_, i) => {
          const raw = new Uint8Array(width * 4);
          new Uint32Array(raw.buffer).fill(0x3f800000 + i); // a different float in each
          return { name: `blocks.${i}.weight`, data_type: DataType.FLOAT, dims: [BigInt(width)], raw_data: raw };
        }),
        input: [{ name: "x", type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [{ dim_value: BigInt(width) }] } } } }],
        output: [{ name: `/blocks/blocks.${blocks - 1}/Add_output_0`, type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [{ dim_value: BigInt(width) }] } } } }],
      },
    };
    const file = path.join(dir, "big.onnx");
    await writeModelFile(file, model);
    const size = statSync(file).size;
    assert.ok(size > 240e6);
    const script = path.join(dir, "s.intv");
    writeFileSync(script, "save b = blocks[2].output\nblocks[3].output *= 0.5\n");
    const out = path.join(dir, "out.onnx");
    const heapMb = 64;
    // The command line, as a user runs it, with a heap limit of a quarter of the model and its peak
    // memory reported: VmHWM of the process's own memory (resourceUsage().maxRSS would include what
    // the forked test runner had resident before the exec).
    const report = "import { readFileSync } from 'node:fs'; process.on('exit', () => { let m = '0'; try { m = /VmHWM:\\s*(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]; } catch {} process.stderr.write('maxrss ' + m + '\\n'); });";
    const r = spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, "--import", `data:text/javascript,${encodeURIComponent(report)}`, path.join(ROOT, "dist", "cli", "main.js"), "compile", script, "--model", file, "-o", out], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const rssBytes = Number(/maxrss (\d+)/.exec(r.stderr)![1]) * 1024;
    assert.ok(heapMb * 2 ** 20 < size / 3);
    if (rssBytes > 0) assert.ok(rssBytes < size / 2, `peak RSS ${rssBytes} for a ${size}-byte model`); // 0: no /proc
    // The weights in the output are the input's, byte for byte.
    const written = decodeModelFile(out);
    for (let i = 0; i < blocks; i++) {
      const t = written.graph!.initializer!.find((x) => x.name === `blocks.${i}.weight`)!;
      const bytes = tensorRawData(t)!;
      assert.equal(bytes.length, width * 4);
      const words = new Uint32Array(bytes.buffer, bytes.byteOffset, width);
      assert.ok(words.every((w) => w === 0x3f800000 + i), `blocks.${i}.weight`);
    }
    assert.ok(written.graph!.output!.some((o) => o.name !== model.graph!.output![0]!.name), "the save is an output");
    // Written over a copy of the input made while compiling (compiler/onnx/patchCopy.ts): every
    // weight where it was in the input, and no temporary file left.
    const offsets = (m: ModelProto) => m.graph!.initializer!.filter((t) => t.raw_data instanceof FileRange).map((t) => [t.name, (t.raw_data as FileRange).offset]);
    assert.deepEqual(offsets(written), offsets(decodeModelFile(file)));
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(".intv-tmp")), []);
    // `intv inspect` and `intv check` under the same limit: neither reads a weight.
    for (const args of [["inspect", file, "--depth", "1"], ["check", script, "--model", file]]) {
      const c = spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, "--import", `data:text/javascript,${encodeURIComponent(report)}`, path.join(ROOT, "dist", "cli", "main.js"), ...args], { encoding: "utf8" });
      assert.equal(c.status, 0, `intv ${args[0]}: ${c.stderr}`);
      const rss = Number(/maxrss (\d+)/.exec(c.stderr)![1]) * 1024;
      if (rss > 0) assert.ok(rss < size / 2, `intv ${args[0]}: peak RSS ${rss} for a ${size}-byte model`);
      if (args[0] === "inspect") assert.match(c.stdout, /blocks/);
    }
  });
});
