// The runtime against hand-made compiled models (test/fixtures/runtime, made by
// tools/fixtures/make_runtime_fixture.py): saves by name, params, input checks, run-time failures
// mapped to the script, plain models, external data, options.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  ModelLoadError, Runtime, RuntimeDiagnosticError, RuntimeInputError, halfToNumber, parseInsertedNodeName,
  readModelInfo, type Tensor,
} from "../runtime/index.js";

const FIXTURES = fileURLToPath(new URL("../../test/fixtures/runtime/", import.meta.url));
const fixture = (name: string): string => join(FIXTURES, name);

const inputs = { input_ids: [[1, 2, 3]], x: [[1, -2, 3, 4]], scale: [1, 2, 3, 4] };

/** The problems of the RuntimeInputError that `promise` rejects with. */
async function problems(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof RuntimeInputError, `expected a RuntimeInputError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail("expected the run to be rejected");
}

describe("a compiled model", async () => {
  const rt = await Runtime.load(fixture("compiled.onnx"));

  test("reads the manifest and the declared inputs", () => {
    assert.equal(rt.manifest?.script, "fixture.intv");
    assert.deepEqual(rt.saveNames, ["h[0]", "first.ids", "mask", "half"]);
    assert.deepEqual(rt.outputs.map((o) => o.name), ["y", "ids_sum"]);
    assert.deepEqual(rt.inputs, [
      { name: "input_ids", input: "input_ids", kind: "input", elemType: "int64", shape: ["batch", "seq"], optional: false },
      { name: "x", input: "x", kind: "input", elemType: "float32", shape: ["batch", 4], optional: false },
      { name: "scale", input: "scale", kind: "param", elemType: "float32", shape: [4], optional: false },
      { name: "bias", input: "bias", kind: "param", elemType: "float32", shape: [4], optional: true },
    ]);
  });

  test("one run gives the outputs by graph name and the saves by script name", async () => {
    const { outputs, saves } = await rt.run(inputs);
    assert.deepEqual([...outputs.keys()], ["y", "ids_sum"]);
    assert.deepEqual([...saves.keys()], ["h[0]", "first.ids", "mask", "half"]);
    // y = x * scale + bias, bias defaults to [0.5, -0.5, 1, 0]
    assert.deepEqual(outputs.get("y"), { type: "float32", dims: [1, 4], data: new Float32Array([1.5, -4.5, 10, 16]) });
    assert.deepEqual(outputs.get("ids_sum"), { type: "int64", dims: [], data: new BigInt64Array([6n]) });
    assert.deepEqual(saves.get("h[0]"), { type: "float32", dims: [1, 4], data: new Float32Array([1, -4, 9, 16]) });
    assert.deepEqual(saves.get("first.ids"), { type: "int64", dims: [1, 3], data: new BigInt64Array([1n, 2n, 3n]) });
    assert.deepEqual(saves.get("mask"), { type: "bool", dims: [1, 4], data: new Uint8Array([1, 0, 1, 1]) });
    const half = saves.get("half")!;
    assert.ok(half.data instanceof Uint16Array);
    assert.deepEqual([...half.data].map((b) => halfToNumber(b as number)), [1.5, -4.5, 10, 16]);
  });

  test("a param with a default may be given (onnxruntime-node cannot feed initializers; the runtime detaches them)", async () => {
    const a = await rt.run({ ...inputs, bias: [0, 0, 0, 0] });
    assert.deepEqual([...a.outputs.get("y")!.data], [1, -4, 9, 16]);
    const b = await rt.run({ ...inputs, bias: [1, 1, 1, 1] });
    assert.deepEqual([...b.outputs.get("y")!.data], [2, -3, 10, 17]);
    const c = await rt.run(inputs);
    assert.deepEqual([...c.outputs.get("y")!.data], [1.5, -4.5, 10, 16]);
  });

  test("tensors are accepted as inputs, and the symbolic dims may vary between runs", async () => {
    const ids: Tensor = { type: "int64", dims: [2, 1], data: new BigInt64Array([5n, 7n]) };
    const x: Tensor = { type: "float32", dims: [2, 4], data: new Float32Array(8).fill(1) };
    const { outputs } = await rt.run({ input_ids: ids, x, scale: [1, 1, 1, 1] });
    assert.deepEqual(outputs.get("y")!.dims, [2, 4]);
    assert.deepEqual(outputs.get("ids_sum")!.data, new BigInt64Array([12n]));
  });

  test("the same model loads from bytes", async () => {
    const fromBytes = await Runtime.load(readFileSync(fixture("compiled.onnx")));
    const { saves } = await fromBytes.run(inputs);
    assert.deepEqual([...saves.keys()], ["h[0]", "first.ids", "mask", "half"]);
    await fromBytes.release();
  });
});

describe("inputs are checked before running, each problem naming the input", async () => {
  const rt = await Runtime.load(fixture("compiled.onnx"));

  test("element type of a tensor", async () => {
    const x: Tensor = { type: "float64", dims: [1, 4], data: new Float64Array(4) };
    assert.deepEqual(await problems(rt.run({ ...inputs, x })), ["input `x`: expected float32, got float64"]);
  });

  test("rank, static dimensions and symbolic dimensions", async () => {
    assert.deepEqual(await problems(rt.run({ ...inputs, input_ids: [1, 2, 3] })), [
      "input `input_ids`: expected rank 2 (int64[batch, seq]), got rank 1 (int64[3])",
    ]);
    assert.deepEqual(await problems(rt.run({ ...inputs, x: [[1, 2, 3]] })), [
      "input `x`: dimension 1 must be 4 (float32[batch, 4]), got 3 (float32[1, 3])",
    ]);
    assert.deepEqual(await problems(rt.run({ ...inputs, x: [[1, 2, 3, 4], [5, 6, 7, 8]] })), [
      "input `x`: dimension 0 (`batch`) is 2, but `batch` is 1 in input `input_ids`",
    ]);
    assert.deepEqual(await problems(rt.run({ ...inputs, scale: [1, 2] })), [
      "param `scale`: dimension 0 must be 4 (float32[4]), got 2 (float32[2])",
    ]);
  });

  test("missing inputs and params, unknown names (all problems at once)", async () => {
    assert.deepEqual(await problems(rt.run({ x: [[1, 2, 3, 4]], scael: [1, 2, 3, 4] })), [
      "unknown input `scael` (did you mean `scale`?); the model takes inputs `input_ids`, `x` and params `scale`, `bias`",
      "missing input `input_ids` (int64[batch, seq])",
      "missing param `scale` (float32[4])",
    ]);
  });

  test("nested arrays are converted to the declared element type, strictly", async () => {
    assert.deepEqual(await problems(rt.run({ ...inputs, input_ids: [[1, 2.5]] })), [
      "input `input_ids`: element [0][1] is 2.5: expected an integer (int64)",
    ]);
    assert.deepEqual(await problems(rt.run({ ...inputs, x: [[1, 2, "a", 4]] })), [
      "input `x`: element [0][2] is \"a\": expected a number (float32)",
    ]);
    assert.deepEqual(await problems(rt.run({ ...inputs, input_ids: [[1, 2], [3]] })), [
      "input `input_ids`: ragged nested array: element [1] has 1 elements, expected 2",
    ]);
    // int64 beyond 2^53 as a string or bigint
    const { saves } = await rt.run({ ...inputs, input_ids: [["9007199254740993", 2n]] });
    assert.deepEqual(saves.get("first.ids")!.data, new BigInt64Array([9007199254740993n, 2n]));
  });

  test("a tensor whose data does not fit its dims", async () => {
    const x = { type: "float32", dims: [1, 4], data: new Float32Array(3) } as Tensor;
    assert.deepEqual(await problems(rt.run({ ...inputs, x })), ["input `x`: shape [1, 4] needs 4 elements, the data has 3"]);
  });

  test("unknown options are rejected by name", async () => {
    await assert.rejects(rt.run(inputs, { threads: 2 } as never), /unknown run option `threads`/);
    await assert.rejects(Runtime.load(fixture("compiled.onnx"), { threads: 2 } as never), /unknown runtime option `threads`/);
  });
});

describe("run-time failures", async () => {
  const rt = await Runtime.load(fixture("failing.onnx"));
  const ok = { a: [1, 2, 3], b: [1, 2, 3], c: [1, 2, 3], d: [1, 2, 3] };

  test("in an inserted node: E0601 at the script line that made it", async () => {
    await assert.rejects(rt.run({ ...ok, b: [1, 2] }), (e: unknown) => {
      assert.ok(e instanceof RuntimeDiagnosticError);
      assert.deepEqual(e.diagnostics, [{
        code: "E0601",
        severity: "error",
        message: "run-time failure in `Add` from this line: Attempting to broadcast an axis by a dimension other than 1. 2 by 3",
        span: { file: "x.intv", offset: 0, line: 3, col: 5, length: 1 },
        notes: ["in node `intv/x.intv:3:5/Add` of the compiled model"],
      }]);
      return true;
    });
  });

  test("with the script's source, the span is exact", async () => {
    const source = "param a: float32[n]\nparam b: float32[m]\nlet ab = a + b   # broadcast\n";
    const withSource = await Runtime.load(fixture("failing.onnx"), { sources: new Map([["x.intv", source]]) });
    await assert.rejects(withSource.run({ ...ok, a: [1, 2] }), (e: unknown) => {
      assert.ok(e instanceof RuntimeDiagnosticError);
      const span = e.diagnostics[0]!.span!;
      assert.equal(source.slice(span.offset, span.offset + span.length), "ab = a + b");
      return true;
    });
  });

  test("in the model's own node: E0602 naming the node", async () => {
    await assert.rejects(rt.run({ ...ok, d: [1, 2] }), (e: unknown) => {
      assert.ok(e instanceof RuntimeDiagnosticError);
      const d = e.diagnostics[0]!;
      assert.equal(d.code, "E0602");
      assert.equal(d.span, undefined);
      assert.match(d.message, /^model failure in node `\/layers\.0\/Add` \(Add\): Attempting to broadcast/);
      return true;
    });
  });

  test("inserted node names", () => {
    assert.deepEqual(parseInsertedNodeName("intv/steer.intv:7:1/Add_3"), { file: "steer.intv", line: 7, col: 1, op: "Add" });
    assert.deepEqual(parseInsertedNodeName("intv/dir/a:b.intv:12:30/mean/ReduceMean_2"), { file: "dir/a:b.intv", line: 12, col: 30, op: "ReduceMean" });
    assert.equal(parseInsertedNodeName("/transformer/h.0/Add"), null);
    assert.equal(parseInsertedNodeName("intv/no-location"), null);
  });
});

describe("models without a manifest, external data, loading errors", () => {
  test("a plain model runs with all its outputs and no saves", async () => {
    const rt = await Runtime.load(fixture("plain.onnx"));
    assert.equal(rt.manifest, null);
    const { outputs, saves } = await rt.run({ x: [[-1, 2, -3], [4, -5, 6]] });
    assert.deepEqual(outputs.get("y")!.data, new Float32Array([0, 2, 0, 4, 0, 6]));
    assert.equal(saves.size, 0);
  });

  test("external data is found next to a path, or in externalDataDir for bytes", async () => {
    const x = [[1, 0, 0], [0, 0, 1]];
    const byPath = await Runtime.load(fixture("external.onnx"));
    assert.deepEqual((await byPath.run({ x })).outputs.get("y")!.data, new Float32Array([0, 1, 2, 3, 8, 9, 10, 11]));
    const bytes = readFileSync(fixture("external.onnx"));
    const byBytes = await Runtime.load(bytes, { externalDataDir: FIXTURES });
    assert.deepEqual((await byBytes.run({ x })).outputs.get("y")!.data, new Float32Array([0, 1, 2, 3, 8, 9, 10, 11]));
  });

  test("session options pass through", async () => {
    const rt = await Runtime.load(fixture("plain.onnx"), {
      intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ["cpu"], graphOptimizationLevel: "disabled",
      extra: { session: { use_env_allocators: "0" } },
    });
    assert.equal((await rt.run({ x: [[1, 2, 3], [4, 5, 6]] })).outputs.get("y")!.data.length, 6);
  });

  test("a missing file, bytes that are not ONNX", async () => {
    await assert.rejects(Runtime.load(fixture("nope.onnx")), (e: unknown) =>
      e instanceof ModelLoadError && /^cannot read model `.*nope\.onnx`: no such file$/.test(e.message));
    await assert.rejects(Runtime.load(new TextEncoder().encode("hello, world")), ModelLoadError);
  });

  test("a bad manifest, and a manifest naming an output the graph lacks", async () => {
    const bytes = readFileSync(fixture("compiled.onnx"));
    // A later metadata entry with the same key wins in our reader; append one to the model.
    const withEntry = (value: string): Uint8Array => Buffer.concat([bytes, metadataEntry("intv.manifest", value)]);
    await assert.rejects(Runtime.load(withEntry("{")), /bad `intv\.manifest` entry/);
    await assert.rejects(Runtime.load(withEntry(JSON.stringify({ format: "other" }))), /not an intv manifest/);
    const manifest = JSON.parse(readModelInfo(bytes).metadata.get("intv.manifest")!) as { saves: { output: string }[] };
    manifest.saves[0]!.output = "gone";
    await assert.rejects(Runtime.load(withEntry(JSON.stringify(manifest))), /save `h\[0\]` as graph output `gone`, which the graph does not have/);
  });
});

/** ModelProto field 14 (metadata_props): StringStringEntryProto { key = 1; value = 2 }. */
function metadataEntry(key: string, value: string): Uint8Array {
  const field = (n: number, bytes: Uint8Array): number[] => [(n << 3) | 2, ...varint(bytes.length), ...bytes];
  const enc = new TextEncoder();
  const entry = [...field(1, enc.encode(key)), ...field(2, enc.encode(value))];
  return new Uint8Array(field(14, new Uint8Array(entry)));
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
