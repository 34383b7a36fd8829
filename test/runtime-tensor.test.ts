// Half-precision conversion, nested-array conversion, param defaults stored in the typed
// TensorProto fields, malformed inputs, and the CLI's progress line.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Progress } from "../cli/output.js";
import { Runtime, RuntimeInputError, fromNested, halfToNumber, numberToHalf } from "../runtime/index.js";

describe("float16", () => {
  test("every half value survives half → number → half", () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const x = halfToNumber(bits);
      if (Number.isNaN(x)) assert.equal(numberToHalf(x) & 0x7c00, 0x7c00);
      else assert.equal(numberToHalf(x), bits, `bits 0x${bits.toString(16)} (${x})`);
    }
  });

  test("rounding to nearest even, overflow, underflow", () => {
    assert.equal(numberToHalf(1 + 2 ** -11), 0x3c00); // a tie: down to even
    assert.equal(numberToHalf(1 + 3 * 2 ** -11), 0x3c02); // a tie: up to even
    assert.equal(numberToHalf(65519.99), 0x7bff);
    assert.equal(numberToHalf(65520), 0x7c00);
    assert.equal(numberToHalf(-1e9), 0xfc00);
    assert.equal(numberToHalf(2 ** -25), 0); // a tie with zero
    assert.equal(numberToHalf(2 ** -25 * 1.5), 1);
    assert.equal(numberToHalf(-0), 0x8000);
    assert.equal(numberToHalf(NaN), 0x7e00);
  });

  const PYTHON = "/usr/bin/python3";
  const hasNumpy = spawnSync(PYTHON, ["-c", "import numpy"], { stdio: "ignore" }).status === 0;
  test("agrees with NumPy on random doubles", { skip: hasNumpy ? false : "needs /usr/bin/python3 with numpy" }, () => {
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const values = Array.from({ length: 4000 }, () => (random() - 0.5) * 2 ** Math.floor(random() * 44 - 28));
    const run = spawnSync(PYTHON, ["-c", "import json,sys,numpy as np; print(json.dumps(np.array(json.load(sys.stdin), dtype=np.float64).astype(np.float16).view(np.uint16).tolist()))"],
      { input: JSON.stringify(values), encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const want = JSON.parse(run.stdout) as number[];
    values.forEach((v, i) => assert.equal(numberToHalf(v), want[i], `${v}`));
  });
});

describe("nested arrays", () => {
  test("shape from the nesting; scalars; empty arrays", () => {
    assert.deepEqual(fromNested("int32", [[1, 2], [3, 4]]), { type: "int32", dims: [2, 2], data: new Int32Array([1, 2, 3, 4]) });
    assert.deepEqual(fromNested("float64", 2.5), { type: "float64", dims: [], data: new Float64Array([2.5]) });
    assert.deepEqual(fromNested("float32", []), { type: "float32", dims: [0], data: new Float32Array([]) });
    assert.deepEqual(fromNested("bool", [true, 0, 1]), { type: "bool", dims: [3], data: new Uint8Array([1, 0, 1]) });
    assert.deepEqual(fromNested("float32", ["nan", "-inf"]).data, new Float32Array([NaN, -Infinity]));
  });

  test("range and integer checks", () => {
    assert.throws(() => fromNested("uint8", [256]), /element \[0\] is 256: out of range for uint8/);
    assert.throws(() => fromNested("int8", [[1], [-129]]), /element \[1\]\[0\] is -129: out of range for int8/);
    assert.throws(() => fromNested("int64", ["12x"]), /expected an integer \(int64\)/);
    assert.throws(() => fromNested("uint64", [-1]), /out of range for uint64/);
    assert.throws(() => fromNested("bool", [2]), /expected true, false, 0 or 1 \(bool\)/);
    assert.throws(() => fromNested("float32", [[1, 2], 3]), /ragged nested array: element \[1\] is not an array/);
  });
});

describe("param defaults in the typed TensorProto fields", async () => {
  const rt = await Runtime.load(join(fileURLToPath(new URL("../../test/fixtures/runtime/", import.meta.url)), "defaults.onnx"));

  test("are fed when not given", async () => {
    const { saves } = await rt.run({});
    assert.deepEqual(saves.get("f"), { type: "float32", dims: [2], data: new Float32Array([1.5, -2]) });
    assert.deepEqual(saves.get("i"), { type: "int64", dims: [], data: new BigInt64Array([-(2n ** 40n)]) });
    assert.deepEqual(saves.get("h"), { type: "float16", dims: [2], data: new Uint16Array([0x3c00, 0xc000]) });
    assert.deepEqual(saves.get("b"), { type: "bool", dims: [3], data: new Uint8Array([1, 0, 1]) });
  });

  test("a malformed input is named with what was expected", async () => {
    // `{ type, shape, data }` is a natural slip for `{ type, dims, data }`; it failed with "Do not
    // know how to serialize a BigInt".
    await assert.rejects(rt.run({ i: { type: "int64", shape: [], data: new BigInt64Array([1n]) } as never }), (e: Error) => {
      assert.ok(e instanceof RuntimeInputError, String(e));
      assert.equal(e.message, "param `i`: expected a tensor `{ type, dims, data }`, a nested array or a number, got an object with `type`, `shape`, `data` (a tensor's shape is its `dims`)");
      return true;
    });
    await assert.rejects(rt.run({ f: new Float32Array([1, 2]) as never }), /param `f`: expected a tensor `\{ type, dims, data \}`, a nested array or a number, got a Float32Array/);
    await assert.rejects(rt.run({ i: [{ n: 1n }] as never }), /param `i`: element \[0\] is \{"n":"1n"\}: expected an integer \(int64\)/);
  });

  test("and can be overridden", async () => {
    const { saves } = await rt.run({ i: 5, b: [false, false, true], h: [0.5, 2] });
    assert.deepEqual(saves.get("i")!.data, new BigInt64Array([5n]));
    assert.deepEqual(saves.get("b")!.data, new Uint8Array([0, 0, 1]));
    assert.deepEqual(saves.get("h")!.data, new Uint16Array([0x3800, 0x4000]));
    assert.deepEqual(saves.get("f")!.data, new Float32Array([1.5, -2]));
  });
});

describe("progress line", () => {
  const capture = (isTTY: boolean): { io: { stdout: { write(s: string): void }; stderr: { write(s: string): void; isTTY: boolean } }; text: () => string } => {
    let text = "";
    const stream = { write: (s: string) => void (text += s), isTTY };
    return { io: { stdout: stream, stderr: stream }, text: () => text };
  };

  test("only on a terminal, only after the delay, and cleared at the end", () => {
    const quiet = capture(false);
    const p1 = new Progress(quiet.io, 0);
    p1.update("running");
    p1.done();
    assert.equal(quiet.text(), "");

    const early = capture(true);
    const p2 = new Progress(early.io, 60_000);
    p2.update("running");
    p2.done();
    assert.equal(early.text(), "");

    const late = capture(true);
    const p3 = new Progress(late.io, 0);
    p3.update("running line 2 (2 of 5)");
    p3.done();
    const clear = "\r\u001b[K";
    assert.ok(late.text().startsWith(`${clear}running line 2 (2 of 5) (`), JSON.stringify(late.text()));
    assert.ok(late.text().endsWith(` s)${clear}`), JSON.stringify(late.text()));
  });
});
