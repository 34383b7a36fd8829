// Malformed and hostile models, through the command line as a user meets them
// (`node dist/cli/main.js check|compile|inspect|run`): each ends with exit status 1 and one clear
// message — no stack trace, no internal error, nothing written — or, where the model is valid for
// intv but not for onnxruntime, `run` says so in one message. The models are built here from the
// GPT-2 fixture by editing its decoded ModelProto.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { compile, prepareModel } from "../compiler/index.js";
import { decodeModel, encodeModel, OnnxFormatError, readModelFile, tensorRawData, type ModelProto, type TensorProto } from "../compiler/onnx/index.js";
import { Rand } from "../tools/fuzz/generate.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = join(ROOT, "dist/cli/main.js");
const GPT2 = readFileSync(join(ROOT, "test/fixtures/gpt2/model.onnx"));
const fresh = (): ModelProto => decodeModel(new Uint8Array(GPT2));

const dir = mkdtempSync(join(tmpdir(), "intv-models-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const SCRIPT = join(dir, "s.intv");
writeFileSync(SCRIPT, "save h = transformer.h[0].output\n");

interface Run {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** The command line in a child process; `heapMb` caps its memory (a huge allocation would crash it). */
function intv(args: string[], heapMb = 512): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, MAIN, ...args], { cwd: dir });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

const commands = (model: string, name: string): Record<string, string[]> => ({
  inspect: ["inspect", model],
  check: ["check", SCRIPT, "--model", model],
  compile: ["compile", SCRIPT, "--model", model, "-o", join(dir, `out-${name}.onnx`)],
  run: ["run", SCRIPT, "--model", model, "--input", "input_ids=[[1,2,3]]", "--out", join(dir, `run-${name}`)],
});

/** Exit status 1, one `error` line (check adds its count line), no stack trace, nothing written. */
function assertOneMessage(r: Run, command: string, name: string, message: RegExp): void {
  const what = `${command} ${name}: ${JSON.stringify(r.stderr)}`;
  assert.equal(r.signal, null, what);
  assert.equal(r.status, 1, what);
  assert.doesNotMatch(r.stderr, /internal error|this is a bug|\n\s+at |node:internal|Error:/, what);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  const errors = lines.filter((l) => /^error/.test(l));
  assert.equal(errors.length, 1, what);
  assert.equal(lines.length, command === "check" ? 2 : 1, what);
  assert.match(errors[0]!, message, what);
  assert.equal(existsSync(join(dir, `out-${name}.onnx`)), false, `${what}: compile wrote its output`);
  assert.equal(existsSync(join(dir, `run-${name}`)), false, `${what}: run created its output folder`);
}

function write(name: string, bytes: Uint8Array): string {
  const file = join(dir, `${name}.onnx`);
  writeFileSync(file, bytes);
  return file;
}

/** The first initializer holding more than 64 bytes inline (GPT-2's token embedding). */
const bigInitializer = (m: ModelProto): TensorProto => m.graph!.initializer!.find((t) => (t.raw_data?.length ?? 0) > 64)!;

/** `m` with one initializer's bytes moved to external data at `location` (`place` writes the file). */
function withExternal(location: string, place?: (data: Uint8Array) => void, length?: string): Uint8Array {
  const m = fresh();
  const t = bigInitializer(m);
  const data = tensorRawData(t)!;
  delete t.raw_data;
  t.data_location = 1;
  t.external_data = [{ key: "location", value: location }, { key: "offset", value: "0" }, { key: "length", value: length ?? String(data.length) }];
  place?.(new Uint8Array(data));
  return encodeModel(m);
}

const edited = (edit: (m: ModelProto) => void): Uint8Array => {
  const m = fresh();
  edit(m);
  return encodeModel(m);
};

// name → [bytes, commands to try, what the message must say]
const rejected: [string, () => Uint8Array, string[], RegExp][] = [
  ["truncated", () => GPT2.subarray(0, GPT2.length >> 1), ["inspect", "check", "compile", "run"], /not a valid ONNX model: truncated or corrupt data/],
  ["truncated-to-1-byte", () => GPT2.subarray(0, 1), ["inspect", "check"], /not a valid ONNX model/],
  ["flipped-header", () => {
    const b = Buffer.from(GPT2);
    for (let i = 0; i < 48; i += 3) b[i]! ^= 0xff;
    return b;
  }, ["inspect", "check", "compile", "run"], /not a valid ONNX model/],
  ["png", () => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]), ["inspect", "check", "run"], /not a valid ONNX model/],
  ["text", () => Buffer.from("hello, this is not a model\n"), ["inspect", "check", "run"], /not a valid ONNX model/],
  ["zip", () => Buffer.concat([Buffer.from("PK\x03\x04"), Buffer.alloc(200, 0)]), ["inspect", "check"], /not a valid ONNX model/],
  ["empty", () => new Uint8Array(0), ["inspect", "check", "run"], /not an ONNX model \(no graph\)/],
  ["duplicate-node-output", () => edited((m) => (m.graph!.node![1]!.output = [...m.graph!.node![0]!.output!])), ["inspect", "check", "compile", "run"], /tensor `\/transformer\/Shape_output_0` is defined twice in graph/],
  ["duplicate-initializer", () => edited((m) => m.graph!.initializer!.push({ ...m.graph!.initializer![0]! })), ["inspect", "check", "run"], /initializer `[^`]+` is defined twice in graph/],
  ["duplicate-input", () => edited((m) => m.graph!.input!.push({ ...m.graph!.input![0]! })), ["inspect", "check"], /input `input_ids` is defined twice in graph/],
  ["cyclic", () => edited((m) => {
    const nodes = m.graph!.node!;
    nodes[0]!.input = [nodes[nodes.length - 1]!.output![0]!];
  }), ["inspect", "check", "compile", "run"], /the graph has a cycle: node `[^`]+` depends on its own output/],
  ["external-missing", () => withExternal("weights.bin"), ["inspect", "check", "compile", "run"], /external data `weights\.bin` does not exist/],
  ["external-short", () => withExternal("short.bin", (d) => writeFileSync(join(dir, "short.bin"), d.subarray(0, 10))), ["inspect", "check", "compile", "run"], /external data `short\.bin` is too short: offset 0 \+ length \d+ = \d+ but the file has 10 bytes/],
  ["external-absolute", () => withExternal("/etc/passwd"), ["inspect", "check", "compile", "run"], /external data `\/etc\/passwd` is an absolute path/],
  ["external-dotdot", () => withExternal("../weights.bin", (d) => writeFileSync(join(dir, "..", `intv-weights-${process.pid}.bin`), d)), ["inspect", "check", "compile", "run"], /external data `\.\.\/weights\.bin` has a `\.\.` segment/],
  ["external-symlink", () => withExternal("link.bin", (d) => {
    const target = join(dir, "elsewhere", "target.bin");
    mkdirSync(join(dir, "elsewhere"), { recursive: true });
    writeFileSync(target, d);
    symlinkSync(target, join(dir, "link.bin"));
  }), ["inspect", "check", "compile", "run"], /external data `link\.bin` goes through a symlink/],
  ["external-huge-length", () => withExternal("big.bin", () => writeFileSync(join(dir, "big.bin"), Buffer.alloc(100)), String(2 ** 42)), ["inspect", "check", "run"], /external data `big\.bin` is too short: offset 0 \+ length 4398046511104/],
];

describe("models intv cannot read: one message, exit status 1, nothing written", { concurrency: 4 }, () => {
  after(() => rmSync(join(dir, "..", `intv-weights-${process.pid}.bin`), { force: true }));
  for (const [name, bytes, which, message] of rejected) {
    test(name, async () => {
      const file = write(name, bytes());
      const all = commands(file, name);
      const runs = await Promise.all(which.map((c) => intv(all[c]!)));
      runs.forEach((r, i) => assertOneMessage(r, which[i]!, name, message));
    });
  }

  test("no such file, a folder", async () => {
    for (const [model, message] of [[join(dir, "nope.onnx"), /no such file/], [dir, /not a file/]] as const) {
      const r = await intv(["inspect", model]);
      assertOneMessage(r, "inspect", "missing", message);
      assertOneMessage(await intv(["check", SCRIPT, "--model", model]), "check", "missing", message);
    }
  });
});

describe("models intv reads but onnxruntime cannot run: `run` says why in one message", { concurrency: 3 }, () => {
  const cases: [string, () => Uint8Array, RegExp][] = [
    ["newer-ir-version", () => edited((m) => (m.ir_version = 99n)), /^error: cannot load model .* in onnxruntime: Unsupported model IR version: 99, max supported IR version: \d+$/],
    ["unknown-domain", () => edited((m) => {
      const add = m.graph!.node!.find((n) => n.op_type === "Add" && n.name?.includes("h.0"))!;
      add.domain = "com.example.unknown";
    }), /^error: cannot load model .* in onnxruntime: .*com\.example\.unknown/],
    ["unknown-op-in-known-domain", () => edited((m) => {
      m.opset_import!.push({ domain: "com.example.unknown", version: 1n });
      const add = m.graph!.node!.find((n) => n.op_type === "Add" && n.name?.includes("h.0"))!;
      add.domain = "com.example.unknown";
      add.op_type = "Frobnicate";
    }), /^error: cannot load model .* in onnxruntime: .*Frobnicate/],
  ];
  for (const [name, bytes, message] of cases) {
    test(name, async () => {
      const file = write(name, bytes());
      const all = commands(file, name);
      const [check, run] = await Promise.all([intv(all.check!), intv(all.run!)]);
      assert.equal(check.status, 0, check.stderr);
      assertOneMessage(run, "run", name, message);
      // The compiled model carries the problem along; running it says the same.
      const compiled = join(dir, `compiled-${name}.onnx`);
      const c = await intv(["compile", SCRIPT, "--model", file, "-o", compiled]);
      assert.equal(c.status, 0, c.stderr);
      const r = await intv(["run", compiled, "--input", "input_ids=[[1,2,3]]", "--out", join(dir, `run-${name}`)]);
      assertOneMessage(r, "run", name, message);
    });
  }
});

describe("enormous declared sizes are not allocated", { concurrency: 3 }, () => {
  // Each command runs with a 200 MB heap: allocating what the model declares would crash it.
  const cases: [string, () => Uint8Array, RegExp][] = [
    ["initializer-dims-2^40", () => edited((m) => (bigInitializer(m).dims = [1n << 40n])), /declares a size of 4398046511104 bytes/],
    ["initializer-dims-2^60", () => edited((m) => (bigInitializer(m).dims = [1n << 20n, 1n << 20n, 1n << 20n])), /in onnxruntime: /],
    ["input-dims-2^40", () => edited((m) => (m.graph!.input![0]!.type!.tensor_type!.shape!.dim = [{ dim_value: 1n << 40n }, { dim_value: 1n << 40n }])), /in onnxruntime: /],
  ];
  for (const [name, bytes, message] of cases) {
    test(name, async () => {
      const file = write(name, bytes());
      const all = commands(file, name);
      const [inspect, check, run] = await Promise.all([intv(all.inspect!, 200), intv(all.check!, 200), intv(all.run!, 200)]);
      assert.equal(inspect.status, 0, inspect.stderr);
      assert.equal(check.status, 0, check.stderr);
      assertOneMessage(run, "run", name, message);
    });
  }
});

describe("corrupted bytes, through the API", () => {
  let good: ModelProto;
  before(() => {
    good = fresh();
  });

  test("random flips, truncations and splices of the model's bytes: a valid model or an OnnxFormatError", async (t) => {
    const r = new Rand(42);
    let valid = 0;
    let rejectedCount = 0;
    const count = Number(process.env.INTV_FUZZ_MODEL_COUNT ?? 60);
    for (let i = 0; i < count; i++) {
      const b = Buffer.from(GPT2);
      let bytes: Uint8Array = b;
      const kind = r.int(5);
      if (kind === 0) for (let k = r.range(1, 20); k > 0; k--) b[r.int(b.length)] = r.int(256);
      else if (kind === 1) bytes = b.subarray(0, r.int(b.length));
      else if (kind === 2) for (let k = r.range(1, 5); k > 0; k--) b[r.int(2048)] = r.int(256); // the structure, not the weights
      else if (kind === 3) {
        // One letter for another: names change, the bytes stay valid protobuf and UTF-8.
        for (let k = r.range(1, 3); k > 0; k--) {
          let at = r.int(b.length);
          while (at < b.length && !/[a-z]/.test(String.fromCharCode(b[at]!))) at++;
          if (at < b.length) b[at] = 0x61 + r.int(26);
        }
      } else {
        const at = r.int(b.length);
        bytes = Buffer.concat([b.subarray(0, at), b.subarray(r.int(b.length))]);
      }
      const file = join(dir, "corrupt.onnx");
      writeFileSync(file, bytes);
      let model: ModelProto;
      try {
        model = (await readModelFile(file)).model;
        prepareModel(model);
        valid++;
      } catch (e) {
        assert.ok(e instanceof OnnxFormatError, `case ${i}: ${(e as Error).stack}`);
        assert.doesNotMatch(e.message, /\n|undefined|NaN|\[object /, `case ${i}: ${e.message}`);
        rejectedCount++;
        continue;
      }
      const result = await compile({ source: "save h = transformer.h[0].output", filename: join(dir, "s.intv"), model: file });
      for (const d of result.diagnostics) {
        assert.doesNotMatch(d.message, /Cannot read prop|is not a function|is not iterable|undefined|internal error/, `case ${i}: ${d.message}`);
      }
    }
    assert.equal(valid + rejectedCount, count);
    t.diagnostic(`corrupted models: ${count} tried, ${valid} still valid (compiled), ${rejectedCount} rejected`);
    assert.ok(rejectedCount > 0 && valid > 0, `${valid} valid, ${rejectedCount} rejected`);
  });

  test("the compiler does not change the ModelProto it is given", async () => {
    const before = Buffer.from(encodeModel(good));
    for (const source of ["save h = transformer.h[0].output", "transformer.h[1].mlp.c_fc.weight *= 0.5", "pass a { save m = transformer.h[8].mlp.output }\npass b { transformer.h[2].mlp.output = a.m }"]) {
      const r = await compile({ source, filename: join(dir, "s.intv"), model: good });
      assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error"), []);
    }
    assert.ok(Buffer.from(encodeModel(good)).equals(before));
  });
});
