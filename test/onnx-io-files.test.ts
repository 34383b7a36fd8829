// Model files and external data: reading refuses what is not a usable model (with the path first
// in the message), external references are checked for safety, a written model still finds its
// data, and writes are atomic.

import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { open } from "node:fs/promises";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  FileRange,
  LAZY_MIN,
  OnnxFormatError,
  decodeModel,
  tensorRawData,
  encodeModel,
  loadExternalTensorData,
  readModelFile,
  writeModelFile,
  type ModelProto,
  type TensorProto,
} from "../compiler/onnx/index.js";
import { COPY_BLOCK, YIELD_EVERY } from "../compiler/onnx/stream.js";
import { scratchFolders } from "./helpers.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const FIXTURES = path.join(ROOT, "test", "fixtures", "onnx-io");
const TINY = path.join(FIXTURES, "tiny.onnx");
const EXT = path.join(FIXTURES, "helper_ext.onnx");
const EXT_DATA = readFileSync(path.join(FIXTURES, "helper_ext.bin"));

const { root: scratch, folder } = scratchFolders("intv-onnx-io-");

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof OnnxFormatError, `expected an OnnxFormatError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

/** helper_ext.onnx with its `bias` tensor's location (and maybe offset/length) replaced, saved in `dir`. */
function externalModel(dir: string, entries: Record<string, string>): string {
  const model = decodeModel(readFileSync(EXT));
  const bias = model.graph!.initializer![0]!;
  const merged = { ...Object.fromEntries(bias.external_data!.map((e) => [e.key!, e.value!])), ...entries };
  bias.external_data = Object.entries(merged).map(([key, value]) => ({ key, value }));
  const file = path.join(dir, "model.onnx");
  writeFileSync(file, encodeModel(model));
  return file;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("readModelFile", () => {
  test("reads a model: weights of LAZY_MIN bytes or more stay in the file, the rest is as decodeModel gives it", async () => {
    const { model, dir } = await readModelFile(TINY);
    assert.equal(dir, FIXTURES);
    const bytes = readFileSync(TINY);
    const inMemory = decodeModel(bytes);
    const lazy = model.graph!.initializer!.filter((t) => t.raw_data instanceof FileRange);
    assert.ok(lazy.length > 0);
    model.graph!.initializer!.forEach((t, i) => {
      const m = inMemory.graph!.initializer![i]!;
      if (t.raw_data instanceof FileRange) {
        assert.ok(t.raw_data.length >= LAZY_MIN);
        assert.deepStrictEqual(t.raw_data.read(), m.raw_data);
        assert.deepStrictEqual({ ...t, raw_data: undefined }, { ...m, raw_data: undefined });
      } else {
        assert.deepStrictEqual(t, m);
      }
    });
    assert.deepStrictEqual(Buffer.from(encodeModel(model)), bytes);
  });

  test("a missing file", async () => {
    const file = path.join(scratch, "nope.onnx");
    await rejects(readModelFile(file), new RegExp(`^${esc(file)}: no such file$`));
  });

  test("a folder", async () => {
    const dir = folder();
    await rejects(readModelFile(dir), new RegExp(`^${esc(dir)}: not a file$`));
  });

  test("not ONNX: text, an empty file, random bytes, a truncated model", async () => {
    const dir = folder();
    const text = path.join(dir, "notes.onnx");
    writeFileSync(text, "hello, world\n");
    await rejects(readModelFile(text), new RegExp(`^${esc(text)}: not a valid ONNX model: unknown field 13 \\(wire type 0\\) in onnx\\.ModelProto at byte 0$`));
    const empty = path.join(dir, "empty.onnx");
    writeFileSync(empty, "");
    await rejects(readModelFile(empty), new RegExp(`^${esc(empty)}: not an ONNX model \\(no graph\\)$`));
    const truncated = path.join(dir, "truncated.onnx");
    const tiny = readFileSync(TINY);
    writeFileSync(truncated, tiny.subarray(0, tiny.length >> 1));
    await rejects(readModelFile(truncated), new RegExp(`^${esc(truncated)}: not a valid ONNX model: truncated or corrupt data: .* at byte \\d+$`));
    // A protobuf that is not a ModelProto (a TensorProto's fields clash with ModelProto's).
    const other = path.join(dir, "tensor.onnx");
    writeFileSync(other, Uint8Array.from([0x08, 0x02, 0x08, 0x03, 0x10, 0x01, 0x42, 0x01, 0x77]));
    await rejects(readModelFile(other), new RegExp(`^${esc(other)}: not (a valid|an) ONNX model`));
  });

  test("a model with external data is read without loading the data", async () => {
    const { model, dir } = await readModelFile(EXT);
    const bias = model.graph!.initializer![0]!;
    assert.equal(bias.raw_data, undefined);
    const data = await loadExternalTensorData(bias, dir);
    assert.deepStrictEqual(Buffer.from(data), EXT_DATA);
  });
});

describe("external data locations are checked", () => {
  const cases: [string, Record<string, string>, RegExp, ((dir: string) => void)?][] = [
    ["an absolute path", { location: "/etc/passwd" }, /external data `\/etc\/passwd` is an absolute path/],
    ["a Windows absolute path", { location: "C:\\weights.bin" }, /is an absolute path/],
    ["a `..` segment", { location: "../helper_ext.bin" }, /external data `\.\.\/helper_ext\.bin` has a `\.\.` segment/],
    ["a hidden `..` segment", { location: "sub/../../x.bin" }, /has a `\.\.` segment/],
    ["a missing file", { location: "missing.bin" }, /external data `missing\.bin` does not exist/],
    ["a symlink", { location: "link.bin" }, /external data `link\.bin` goes through a symlink/, (dir) => symlinkSync(path.join(dir, "real.bin"), path.join(dir, "link.bin"))],
    [
      "a symlinked folder",
      { location: "linked/helper_ext.bin" },
      /goes through a symlink .*linked\)/,
      (dir) => {
        const elsewhere = folder();
        writeFileSync(path.join(elsewhere, "helper_ext.bin"), EXT_DATA);
        symlinkSync(elsewhere, path.join(dir, "linked"));
      },
    ],
    ["a folder", { location: "sub" }, /external data `sub` is not a regular file/, (dir) => mkdirSync(path.join(dir, "sub"))],
    ["a short file", { length: "129" }, /external data `helper_ext\.bin` is too short: offset 0 \+ length 129 = 129 but the file has 128 bytes/],
    ["an offset past the end", { offset: "4096", length: "1" }, /is too short/],
    ["a bad offset", { offset: "-1" }, /has offset `-1`, not a non-negative integer/],
    ["an empty location", { location: "" }, /is empty/],
  ];
  for (const [what, entries, pattern, prepare] of cases) {
    test(`refuses ${what}, naming the tensor and the location`, async () => {
      const dir = folder();
      writeFileSync(path.join(dir, "helper_ext.bin"), EXT_DATA);
      writeFileSync(path.join(dir, "real.bin"), EXT_DATA);
      prepare?.(dir);
      const file = externalModel(dir, entries);
      await rejects(readModelFile(file), new RegExp(`^${esc(file)}: tensor \`bias\`: (.*)${pattern.source}`));
    });
  }

  test("a location in a subfolder is fine", async () => {
    const dir = folder();
    mkdirSync(path.join(dir, "weights"));
    writeFileSync(path.join(dir, "weights", "w.bin"), EXT_DATA);
    const file = externalModel(dir, { location: "weights/w.bin" });
    const { model } = await readModelFile(file);
    assert.deepStrictEqual(Buffer.from(await loadExternalTensorData(model.graph!.initializer![0]!, dir)), EXT_DATA);
  });

  test("EXTERNAL without a location", async () => {
    const dir = folder();
    const model = decodeModel(readFileSync(EXT));
    model.graph!.initializer![0]!.external_data = [{ key: "offset", value: "0" }];
    const file = path.join(dir, "m.onnx");
    writeFileSync(file, encodeModel(model));
    await rejects(readModelFile(file), /tensor `bias`: data_location is EXTERNAL but external_data has no `location`/);
  });

  test("loadExternalTensorData reads offset and length, and refuses non-external tensors", async () => {
    const dir = folder();
    writeFileSync(path.join(dir, "helper_ext.bin"), EXT_DATA);
    const tensor: TensorProto = { name: "slice", data_location: 1, external_data: [{ key: "location", value: "helper_ext.bin" }, { key: "offset", value: "100" }] };
    assert.deepStrictEqual(Buffer.from(await loadExternalTensorData(tensor, dir)), EXT_DATA.subarray(100));
    await rejects(loadExternalTensorData({ name: "inline", raw_data: new Uint8Array(4) }, dir), /tensor `inline`: its data is not external/);
  });
});

describe("writeModelFile", () => {
  test("writes atomically and leaves no temp files", async () => {
    const dir = folder();
    const { model } = await readModelFile(TINY);
    const out = path.join(dir, "out.onnx");
    writeFileSync(out, "old content");
    await writeModelFile(out, model);
    assert.deepStrictEqual(readFileSync(out), readFileSync(TINY));
    assert.deepEqual(readdirSync(dir), ["out.onnx"]);
  });

  test("a failed write removes its temp file and keeps what was there", async () => {
    const dir = folder();
    const { model } = await readModelFile(TINY);
    const target = path.join(dir, "taken.onnx");
    mkdirSync(target); // rename onto a folder fails after the temp file is written
    await assert.rejects(writeModelFile(target, model));
    assert.deepEqual(readdirSync(dir), ["taken.onnx"]);
    await assert.rejects(writeModelFile(path.join(dir, "no", "such", "dir.onnx"), model));
    assert.deepEqual(readdirSync(dir), ["taken.onnx"]);
  });

  test("an unknown option is an error", async () => {
    await assert.rejects(writeModelFile(path.join(folder(), "x.onnx"), {}, { sourcedir: "." } as never), /unknown option `sourcedir`/);
  });

  test("a model written to another folder still finds its external data (hard link)", async () => {
    const src = folder();
    copyFileSync(EXT, path.join(src, "helper_ext.onnx"));
    copyFileSync(path.join(FIXTURES, "helper_ext.bin"), path.join(src, "helper_ext.bin"));
    const { model, dir } = await readModelFile(path.join(src, "helper_ext.onnx"));
    const dst = folder();
    const out = path.join(dst, "copy.onnx");
    await writeModelFile(out, model, { sourceDir: dir });
    assert.equal(statSync(path.join(dst, "helper_ext.bin")).ino, statSync(path.join(src, "helper_ext.bin")).ino);
    const again = await readModelFile(out);
    assert.deepStrictEqual(Buffer.from(await loadExternalTensorData(again.model.graph!.initializer![0]!, again.dir)), EXT_DATA);
    // Writing again finds the identical file already there and keeps it.
    await writeModelFile(out, model, { sourceDir: dir });
  });

  test("copies when a hard link is impossible (another file system)", { skip: !crossDevice() }, async () => {
    const { model, dir } = await readModelFile(EXT);
    const dst = mkdtempSync(path.join("/dev/shm", "intv-onnx-io-"));
    try {
      await writeModelFile(path.join(dst, "m.onnx"), model, { sourceDir: dir });
      assert.deepStrictEqual(readFileSync(path.join(dst, "helper_ext.bin")), EXT_DATA);
      await readModelFile(path.join(dst, "m.onnx"));
    } finally {
      rmSync(dst, { recursive: true, force: true });
    }
  });

  test("never overwrites a different file in the way", async () => {
    const { model, dir } = await readModelFile(EXT);
    const dst = folder();
    writeFileSync(path.join(dst, "helper_ext.bin"), Buffer.alloc(128, 7));
    const out = path.join(dst, "m.onnx");
    await rejects(writeModelFile(out, model, { sourceDir: dir }), /^.*m\.onnx: tensor `bias`: external data `helper_ext\.bin` cannot be placed next to the written model: .* already exists with different content$/);
    assert.equal(existsSync(out), false);
    assert.deepStrictEqual(readFileSync(path.join(dst, "helper_ext.bin")), Buffer.alloc(128, 7));
  });

  test("without sourceDir, the output folder must already hold the data", async () => {
    const { model } = await readModelFile(EXT);
    const dst = folder();
    const out = path.join(dst, "m.onnx");
    await rejects(writeModelFile(out, model), /m\.onnx: tensor `bias`: external data `helper_ext\.bin` does not exist/);
    assert.equal(existsSync(out), false);
  });

  test("copies weights from the file they are in, in blocks, and flushes to disk only when asked (sync)", async () => {
    // A weight of several copy blocks and an odd length, read back from a file: a FileRange.
    const big = new Uint8Array(COPY_BLOCK * 3 + 12345).map((_, i) => (i * 31) & 255);
    const model: ModelProto = { ir_version: 10n, graph: { name: "g", initializer: [{ name: "w", data_type: 2, dims: [BigInt(big.length)], raw_data: big }] } };
    const dir = folder();
    const first = path.join(dir, "first.onnx");
    await writeModelFile(first, model);
    const { model: fromFile } = await readModelFile(first);
    assert.ok(fromFile.graph!.initializer![0]!.raw_data instanceof FileRange);
    // Count fsyncs of written files: none by default, one per file (and its folder) with sync.
    const probe = await open(first, "r");
    const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
    await probe.close();
    const realSync = proto.sync;
    let syncs = 0;
    proto.sync = function (this: unknown) {
      syncs++;
      return realSync.call(this);
    };
    try {
      await writeModelFile(path.join(dir, "plain.onnx"), fromFile);
      assert.equal(syncs, 0);
      await writeModelFile(path.join(dir, "synced.onnx"), fromFile, { sync: true });
      assert.equal(syncs, 2, "the file, then its folder after the rename");
    } finally {
      proto.sync = realSync;
    }
    for (const name of ["plain.onnx", "synced.onnx"]) assert.deepStrictEqual(readFileSync(path.join(dir, name)), readFileSync(first));
    await assert.rejects(writeModelFile(path.join(dir, "x.onnx"), fromFile, { sync: "yes" } as never), /`sync` must be true or false/);
  });

  test("bytes in memory larger than a slice are written whole", async () => {
    const big = new Uint8Array(YIELD_EVERY + 4099).map((_, i) => (i * 13) & 255);
    const model: ModelProto = { ir_version: 10n, graph: { name: "g", initializer: [{ name: "w", data_type: 2, dims: [BigInt(big.length)], raw_data: big }] } };
    const out = path.join(folder(), "sliced.onnx");
    await writeModelFile(out, model);
    assert.deepStrictEqual(readFileSync(out), Buffer.from(encodeModel(model)));
  });

  test("writes large weights without changing them", async () => {
    const big = new Uint8Array(3 << 20).map((_, i) => i * 7);
    const model: ModelProto = { ir_version: 10n, graph: { name: "g", initializer: [{ name: "w", data_type: 2, dims: [BigInt(big.length)], raw_data: big }] } };
    const out = path.join(folder(), "big.onnx");
    await writeModelFile(out, model);
    const { model: back } = await readModelFile(out);
    assert.deepStrictEqual(tensorRawData(back.graph!.initializer![0]!), big);
  });
});

function crossDevice(): boolean {
  try {
    return statSync("/dev/shm").dev !== statSync(os.tmpdir()).dev;
  } catch {
    return false;
  }
}
