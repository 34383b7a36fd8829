// The pieces of a dataset run, each against hand-made values: .npy files written a piece at a time
// and read a few rows at a time, boxes of tensors (concatenating, padding, cutting), the batch
// plan's reading of symbolic shapes and its refusals, and the writer's two layouts.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { DatasetError, packBatch, planBatches, unpackBatch, type ResultSpec } from "../runtime/batching.js";
import type { InputSpec } from "../runtime/inputs.js";
import { NpyAppender, NpyRows, encodeNpy, readNpy, reservedHeaderBytes, writeNpy, type Tensor } from "../common/index.js";
import { DatasetWriter, STATE_FILE } from "../runtime/streamWriter.js";
import { concatPadded, copyBox, cutBox } from "../runtime/tensorBox.js";
import { progressLine } from "../cli/commands/runDataset.js";

const scratch = mkdtempSync(join(tmpdir(), "intv-dataset-units-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

const f32 = (dims: number[], values?: number[]): Tensor => ({
  type: "float32", dims, data: Float32Array.from(values ?? Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => i)),
});

describe("NpyAppender and NpyRows", () => {
  test("a file appended to is a valid .npy file at every header update, and reads back row by row", async () => {
    const path = join(scratch, "a.npy");
    const header = reservedHeaderBytes("float32", [[2, 3]]);
    assert.equal(header % 64, 0);
    const file = await NpyAppender.create(path, "float32", [0, 2, 3], header);
    assert.deepEqual(await readNpy(path), { type: "float32", dims: [0, 2, 3], data: new Float32Array() });
    await file.append(new Float32Array([0, 1, 2, 3, 4, 5]));
    await file.setShape([1, 2, 3]);
    assert.deepEqual((await readNpy(path)).dims, [1, 2, 3]);
    await file.append(new Float32Array([6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]));
    await file.setShape([3, 2, 3]);
    await file.close();
    const whole = await readNpy(path);
    assert.deepEqual([...whole.data], Array.from({ length: 18 }, (_, i) => i));
    // Only the header's padding differs from np.save's (encodeNpy's) bytes.
    const bytes = readFileSync(path);
    assert.deepEqual(bytes.subarray(header), Buffer.from(encodeNpy(whole).subarray(encodeNpy(whole).length - 72)));

    const rows = await NpyRows.open(path);
    assert.equal(rows.rows, 3);
    assert.deepEqual(rows.rowDims, [2, 3]);
    assert.deepEqual(await rows.read(1, 2), f32([2, 2, 3], [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]));
    await rows.close();
  });

  test("reopen cuts the data back to the checkpoint's length", async () => {
    const path = join(scratch, "b.npy");
    const header = reservedHeaderBytes("int64", [[]]);
    const file = await NpyAppender.create(path, "int64", [0], header);
    await file.append(new BigInt64Array([1n, 2n, 3n]));
    await file.setShape([3]);
    await file.append(new BigInt64Array([4n])); // an interrupted batch's data
    await file.close();
    const again = await NpyAppender.reopen(path, "int64", header, 3 * 8);
    await again.append(new BigInt64Array([5n]));
    await again.setShape([4]);
    await again.close();
    assert.deepEqual([...(await readNpy(path)).data], [1n, 2n, 3n, 5n]);
  });

  test("NpyRows refuses Fortran order and a scalar", async () => {
    const path = join(scratch, "f.npy");
    const bytes = encodeNpy(f32([2, 2]));
    const text = Buffer.from(bytes).toString("latin1").replace("'fortran_order': False", "'fortran_order': True ");
    writeFileSync(path, Buffer.from(text, "latin1"));
    await assert.rejects(NpyRows.open(path), /Fortran order.*np\.ascontiguousarray/);
    await writeNpy(path, f32([]));
    await assert.rejects(NpyRows.open(path), /a scalar has no rows/);
  });
});

describe("tensor boxes", () => {
  test("copyBox copies a box between tensors of different shapes", () => {
    const src = f32([3, 4]);
    const dst = new Float32Array(12);
    copyBox(src.data, [3, 4], [1, 1], dst, [2, 6], [0, 2], [2, 2]);
    assert.deepEqual([...dst], [0, 0, 5, 6, 0, 0, 0, 0, 9, 10, 0, 0]);
  });

  test("concatPadded pads every part to the longest along the other axes", () => {
    const a = f32([1, 2], [1, 2]);
    const b = f32([1, 3], [3, 4, 5]);
    assert.deepEqual(concatPadded([a, b], 0, [1, 3]), f32([2, 3], [1, 2, 0, 3, 4, 5]));
    // along axis 1 (a batch axis that is not the first)
    assert.deepEqual(concatPadded([f32([2, 1], [1, 2]), f32([2, 1], [3, 4])], 1, [2, 1]), f32([2, 2], [1, 3, 2, 4]));
  });

  test("cutBox returns a view for a contiguous box and a copy otherwise", () => {
    const t = f32([4, 2, 3]);
    const rows = cutBox(t, [1, 0, 0], [2, 2, 3]);
    assert.equal(rows.data.buffer, t.data.buffer);
    assert.deepEqual([...rows.data], Array.from({ length: 12 }, (_, i) => i + 6));
    const cut = cutBox(t, [1, 0, 0], [1, 1, 3]);
    assert.deepEqual([...cut.data], [6, 7, 8]);
    const inner = cutBox(t, [0, 0, 1], [2, 2, 2]);
    assert.notEqual(inner.data.buffer, t.data.buffer);
    assert.deepEqual([...inner.data], [1, 2, 4, 5, 7, 8, 10, 11]);
  });
});

describe("the batch plan", () => {
  const spec = (name: string, shape: (number | string)[], kind: "input" | "param" = "input", elemType = "int64"): InputSpec =>
    ({ name, input: name, kind, elemType, shape, optional: false });
  const ids = spec("input_ids", ["batch", "seq"]);
  const mask = spec("attention_mask", ["batch", "seq"]);
  const save = (name: string, shape: (number | string | null)[] | null): ResultSpec => ({ kind: "save", name, elemType: "float32", shape });

  test("reads the batch axis of every input and result off the symbols", () => {
    const plan = planBatches([ids, spec("steer", [4], "param", "float32")], [save("a", ["batch", "seq", 4]), save("t", ["seq", "batch", 4])], new Set(["input_ids"]), { pad: false });
    assert.equal(plan.batchSymbol, "batch");
    assert.deepEqual([...plan.inputAxes], [["input_ids", 0], ["steer", -1]]);
    assert.deepEqual([...plan.resultAxes], [["save:a", 0], ["save:t", 1]]);
  });

  test("refuses results that cannot be split into lines, naming each", () => {
    assert.throws(() => planBatches([ids], [save("sum", []), save("u", null), save("ok", ["batch", 2])], new Set(["input_ids"]), { pad: false }), (e: Error) => {
      assert.ok(e instanceof DatasetError);
      assert.match(e.message, /save `sum` \(float32\[\]\): it has no `batch` axis/);
      assert.match(e.message, /save `u` \(float32\[\.\.\.\]\): its shape is not known/);
      assert.doesNotMatch(e.message, /`ok`/);
      return true;
    });
    assert.throws(() => planBatches([spec("x", [1, "seq"])], [], new Set(["x"]), { pad: false }), /same named first \(batch\) dimension/);
  });

  test("padding needs an attention mask given per line, and every result to have the padded axis", () => {
    assert.throws(() => planBatches([ids], [save("a", ["batch", "seq", 4])], new Set(["input_ids"]), { pad: true }), /needs a model input `attention_mask`/);
    assert.throws(() => planBatches([ids, mask], [save("a", ["batch", "seq", 4])], new Set(["input_ids"]), { pad: true }), /`attention_mask` given per line/);
    assert.throws(() => planBatches([ids, mask], [save("last", ["batch", 4]), save("q", ["batch", "seq", null])], new Set(["input_ids", "attention_mask"]), { pad: true }), (e: Error) => {
      assert.match(e.message, /save `last` \(float32\[batch, 4\]\) has no `seq` axis, so it may have been computed from the padding/);
      assert.match(e.message, /save `q` \(float32\[batch, seq, \?\]\): a dimension is not known/);
      return true;
    });
  });

  test("packs lines padded with zeros and cuts each line's results back to its length", () => {
    const plan = planBatches([ids, mask], [save("h", ["batch", "seq", 2]), save("att", ["batch", "seq", "seq"])], new Set(["input_ids", "attention_mask"]), { pad: true });
    const line = (tokens: number[]) => new Map<string, Tensor>([
      ["input_ids", { type: "int64", dims: [1, tokens.length], data: BigInt64Array.from(tokens.map(BigInt)) }],
      ["attention_mask", { type: "int64", dims: [1, tokens.length], data: BigInt64Array.from(tokens.map(() => 1n)) }],
    ]);
    const lines = [line([5, 6]), line([7, 8, 9])];
    const { feeds, padded } = packBatch(plan, lines);
    assert.equal(padded, true);
    assert.deepEqual([...feeds.get("input_ids")!.data], [5n, 6n, 0n, 7n, 8n, 9n]);
    assert.deepEqual([...feeds.get("attention_mask")!.data], [1n, 1n, 0n, 1n, 1n, 1n]);
    const h = f32([2, 3, 2]);
    const att = f32([2, 3, 3]);
    const [a, b] = unpackBatch(plan, [save("h", ["batch", "seq", 2]), save("att", ["batch", "seq", "seq"])], lines, { saves: new Map([["h", h], ["att", att]]), outputs: new Map() });
    assert.deepEqual(a!.saves.get("h"), f32([1, 2, 2], [0, 1, 2, 3]));
    assert.deepEqual(a!.saves.get("att"), f32([1, 2, 2], [0, 1, 3, 4]));
    assert.deepEqual(b!.saves.get("h"), f32([1, 3, 2], [6, 7, 8, 9, 10, 11]));
    assert.deepEqual([...b!.saves.get("att")!.data], Array.from({ length: 9 }, (_, i) => 9 + i));
  });
});

describe("DatasetWriter", () => {
  const results: ResultSpec[] = [
    { kind: "save", name: "h[0]", elemType: "float32", shape: ["batch", "seq", 2] },
    { kind: "output", name: "n", elemType: "float32", shape: ["batch"] },
  ];
  const axes = new Map([["save:h[0]", 0], ["output:n", 0]]);
  const line = (seq: number, base: number) => ({
    where: `line ${base}`,
    result: { saves: new Map([["h[0]", f32([1, seq, 2], Array.from({ length: seq * 2 }, (_, i) => base + i))]]), outputs: new Map([["n", f32([1], [base])]]) },
  });

  test("stacks equal shapes, switches to the ragged layout with offsets when a length differs", async () => {
    const dir = join(scratch, "w1");
    const { writer } = await DatasetWriter.open(dir, results, axes, { model: "m" }, false);
    await writer.write([line(2, 0), line(2, 10)]);
    await writer.checkpoint({ line: 2 });
    assert.deepEqual((await readNpy(join(dir, "h.0.npy"))).dims, [2, 1, 2, 2]);
    await writer.write([line(3, 20)]);
    await writer.checkpoint({ line: 3 }, true);
    await writer.close();
    assert.deepEqual(await readNpy(join(dir, "h.0.npy")), f32([7, 2], [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23, 24, 25]));
    assert.deepEqual(await readNpy(join(dir, "h.0.offsets.npy")), { type: "int64", dims: [4], data: new BigInt64Array([0n, 2n, 4n, 7n]) });
    assert.deepEqual(await readNpy(join(dir, "output.n.npy")), f32([3, 1], [0, 10, 20]));
    const state = JSON.parse(readFileSync(join(dir, STATE_FILE), "utf8")) as { lines: number; complete: boolean };
    assert.deepEqual([state.lines, state.complete], [3, true]);
    assert.deepEqual(writer.results().map((r) => [r.name, r.layout, r.dims]), [["h[0]", "ragged", [7, 2]], ["n", "stacked", [3, 1]]]);
  });

  test("refuses lines that differ elsewhere than the first axis after the batch axis", async () => {
    const { writer } = await DatasetWriter.open(join(scratch, "w2"), results, axes, {}, false);
    await writer.write([line(2, 0)]);
    const other = { where: "x.jsonl:2", result: { saves: new Map([["h[0]", f32([2, 2, 2])]]), outputs: new Map([["n", f32([1])]]) } };
    await assert.rejects(writer.write([other]), /line 2 \(x\.jsonl:2\): save `h\[0\]` is float32\[2, 2, 2\], but float32\[1, 2, 2\] on line 1; lines may differ only in the first axis after the batch axis/);
    await writer.close();
  });

  test("an interrupted run is refused without --resume, resumed with it, and not with other inputs", async () => {
    const dir = join(scratch, "w3");
    const { writer } = await DatasetWriter.open(dir, results, axes, { model: "m" }, false);
    await writer.write([line(2, 0)]);
    await writer.checkpoint({ line: 1 });
    await writer.write([line(2, 10)]); // not checkpointed
    await writer.close();
    await assert.rejects(DatasetWriter.open(dir, results, axes, { model: "m" }, false), /holds an interrupted run \(1 lines written\); add --resume/);
    await assert.rejects(DatasetWriter.open(dir, results, axes, { model: "other" }, true), /was made with another model/);
    const resumed = await DatasetWriter.open(dir, results, axes, { model: "m" }, true);
    assert.deepEqual(resumed.cursor, { line: 1 });
    await resumed.writer.write([line(2, 30)]);
    await resumed.writer.checkpoint({ line: 2 }, true);
    await resumed.writer.close();
    assert.deepEqual([...(await readNpy(join(dir, "output.n.npy"))).data], [0, 30]);
  });
});

test("the progress line: lines, rate, ETA and bytes", () => {
  let line = progressLine();
  line({ lines: 100, linesThisRun: 0, total: 1000, fraction: 0.1, bytes: 0, elapsedMs: 0 });
  const text = line({ lines: 200, linesThisRun: 100, total: 1000, fraction: 0.2, bytes: 3 * 2 ** 30, elapsedMs: 10_000 });
  assert.equal(text, "200/1,000 lines · 10.0 lines/s · ETA 1m20s · 3.0 GiB written");
  line = progressLine();
  line({ lines: 0, linesThisRun: 0, total: null, fraction: 0, bytes: 0, elapsedMs: 0 });
  const jsonl = line({ lines: 50, linesThisRun: 50, total: null, fraction: 0.25, bytes: 2048, elapsedMs: 5_000 });
  assert.equal(jsonl, "50 lines · 10.0 lines/s · ETA 15s · 2.0 KiB written");
});
