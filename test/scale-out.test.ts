// examples/scale-out: what can be checked without Ray, Spark, Triton or Python's onnxruntime.
// `intv compile --triton` writes Triton's repository layout, and its config.pbtxt — parsed here
// with a small parser of protobuf's text format — lists every input and output with its type and
// dimensions and every save by its name in the script; the Python files byte-compile; and, with
// /usr/bin/python3's `onnx` package, `intv_onnx.py describe` reads the manifest and
// `intv_onnx.py run` streams batches through a stand-in onnxruntime into intv's stacked layout.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { MANIFEST_KEY, parseManifest } from "../common/index.js";
import { readModelInfoFromFile, readNpy, writeNpy } from "../runtime/index.js";
import { runCli } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const EXAMPLE = join(ROOT, "examples/scale-out");
const PYTHON = "/usr/bin/python3";
const scratch = mkdtempSync(join(tmpdir(), "intv-scale-out-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

const intv = runCli;

// ---------------------------------------------------------------------------------------------
// Protobuf text format, as far as config.pbtxt uses it: `name: value`, `name { ... }`,
// `name [ {...}, {...} ]`, `name: [ 1, 2 ]`, strings, numbers, enum identifiers, # comments.

type PbValue = string | number | PbMessage | PbValue[];
interface PbMessage { [field: string]: PbValue[] }

export function parsePbtxt(text: string): PbMessage {
  const tokens = text.replace(/#[^\n]*/g, " ").match(/"(?:[^"\\]|\\.)*"|[{}[\]:,]|[^\s{}[\]:,"]+/g) ?? [];
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const next = (): string => {
    const t = tokens[i++];
    if (t === undefined) throw new Error("unexpected end of config.pbtxt");
    return t;
  };
  const scalar = (t: string): PbValue => {
    if (t.startsWith('"')) return JSON.parse(t) as string;
    if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
    if (/^[A-Za-z_][\w.]*$/.test(t)) return t; // an enum value or true/false
    throw new Error(`unexpected \`${t}\``);
  };
  const value = (): PbValue => {
    const t = next();
    if (t === "{") return message("}");
    if (t === "[") {
      const items: PbValue[] = [];
      while (peek() !== "]") {
        items.push(value());
        if (peek() === ",") next();
      }
      next();
      return items;
    }
    return scalar(t);
  };
  const message = (close: string | undefined): PbMessage => {
    const m: PbMessage = {};
    while (peek() !== close) {
      const name = next();
      if (!/^[A-Za-z_]\w*$/.test(name)) throw new Error(`expected a field name, got \`${name}\``);
      if (peek() === ":") next();
      const v = value();
      // `f: [a, b]` and `f [ {…}, {…} ]` are the repeated field f with each item.
      (m[name] ??= []).push(...(Array.isArray(v) ? v : [v]));
    }
    if (close !== undefined) next();
    return m;
  };
  return message(undefined);
}

const one = (m: PbMessage, field: string): PbValue => {
  const v = m[field];
  assert.ok(v && v.length === 1, `${field}: ${JSON.stringify(v)}`);
  return v[0]!;
};

describe("intv compile --triton", () => {
  test("writes DIR/NAME/config.pbtxt and DIR/NAME/1/model.onnx; the config lists every save with its type and shape", () => {
    const repo = join(scratch, "models");
    const plain = join(scratch, "plain.onnx");
    let r = intv("compile", "examples/save_mlps.intv", "--model", "examples/gpt2.onnx", "--triton", repo, "-o", plain);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(repo), ["save_mlps"]);
    assert.deepEqual(readdirSync(join(repo, "save_mlps")).sort(), ["1", "config.pbtxt"]);
    const model = join(repo, "save_mlps/1/model.onnx");
    assert.ok(readFileSync(model).equals(readFileSync(plain)), "the repository's model is what -o writes");

    const config = parsePbtxt(readFileSync(join(repo, "save_mlps/config.pbtxt"), "utf8"));
    assert.equal(one(config, "name"), "save_mlps");
    assert.equal(one(config, "platform"), "onnxruntime_onnx");
    assert.equal(one(config, "max_batch_size"), 64);
    assert.deepEqual(one(config, "dynamic_batching"), {});
    const info = readModelInfoFromFile(model);
    const manifest = parseManifest(info.metadata.get(MANIFEST_KEY)!);
    const types: Record<string, string> = { float32: "TYPE_FP32", int64: "TYPE_INT64" };
    const tensors = (field: string) => (config[field] as PbMessage[]).map((t) => ({ name: one(t, "name"), type: one(t, "data_type"), dims: t.dims }));
    // Without the batch dimension (Triton's max_batch_size > 0), symbolic dimensions as -1.
    const dims = (shape: (string | number | null)[]) => shape.slice(1).map((d) => (typeof d === "number" ? d : -1));
    assert.deepEqual(tensors("input"), info.inputs.map((v) => ({ name: v.name, type: types[v.elemType!], dims: dims(v.shape!) })));
    assert.deepEqual(tensors("output"), info.outputs.map((v) => ({ name: v.name, type: types[v.elemType!], dims: dims(v.shape!) })));
    assert.equal(manifest.saves.length, 14);
    const parameters = new Map((config.parameters as PbMessage[]).map((p) => [one(p, "key"), one(one(p, "value") as PbMessage, "string_value")]));
    for (const save of manifest.saves) {
      assert.equal(parameters.get(`intv.save.${save.name}`), save.output, save.name);
      const output = tensors("output").find((t) => t.name === save.output)!;
      assert.deepEqual(output, { name: save.output, type: types[save.elemType], dims: dims(save.shape!) });
    }
    assert.deepEqual(JSON.parse(parameters.get("intv.manifest") as string), manifest);

    // --triton alone: the model goes only into the repository; another name.
    r = intv("compile", "examples/steer.intv", "--model", "examples/gpt2.onnx", "--triton", repo, "--triton-name", "steer-v2");
    assert.equal(r.status, 0, r.stderr);
    const steer = parsePbtxt(readFileSync(join(repo, "steer-v2/config.pbtxt"), "utf8"));
    // `steer` has no batch axis, so the batch is not Triton's: max_batch_size 0, every dimension listed.
    assert.equal(one(steer, "max_batch_size"), 0);
    assert.equal(steer.dynamic_batching, undefined);
    assert.deepEqual(steer.input, [
      { name: ["input_ids"], data_type: ["TYPE_INT64"], dims: [-1, -1] },
      { name: ["steer"], data_type: ["TYPE_FP32"], dims: [32] },
      // a scalar param with a default: [1] reshaped to [], optional
      { name: ["alpha"], data_type: ["TYPE_FP32"], dims: [1], reshape: [{ shape: [] }], optional: ["true"] },
      // the `[:, -1, :]` patch's sequence window (generation without a cache): it has a default,
      // so a client need not send it
      { name: ["intv.prompt_length"], data_type: ["TYPE_INT64"], dims: [1], reshape: [{ shape: [] }], optional: ["true"] },
    ]);
  });

  test("the parser reads what Triton's documentation writes", () => {
    const doc = parsePbtxt(`name: "m"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 8\ninput [\n  {\n    name: "x"\n    data_type: TYPE_FP32\n    dims: [ 16 ]\n  }\n]\ninstance_group [ { count: 2 kind: KIND_CPU } ]\n`);
    assert.deepEqual(doc, {
      name: ["m"], platform: ["onnxruntime_onnx"], max_batch_size: [8],
      input: [{ name: ["x"], data_type: ["TYPE_FP32"], dims: [16] }],
      instance_group: [{ count: [2], kind: ["KIND_CPU"] }],
    });
  });

  test("--triton needs no -o; without either, a usage error", () => {
    const r = intv("compile", "examples/save_mlps.intv", "--model", "examples/gpt2.onnx");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /missing option `--output OUT\.onnx` \(or `--triton DIR`\)/);
  });
});

describe("examples/scale-out (Python)", () => {
  const python = spawnSync(PYTHON, ["-c", "import numpy"]).status === 0;
  const onnx = python && spawnSync(PYTHON, ["-c", "import onnx"]).status === 0;
  const files = readdirSync(EXAMPLE).filter((f) => f.endsWith(".py"));

  test("every Python file byte-compiles", { skip: !python && "no /usr/bin/python3" }, () => {
    assert.deepEqual(files.sort(), ["intv_onnx.py", "ray_job.py", "spark_job.py", "triton_client.py"]);
    for (const f of files) {
      const r = spawnSync(PYTHON, ["-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)", join(EXAMPLE, f), join(scratch, `${f}c`)], { encoding: "utf8" });
      assert.equal(r.status, 0, `${f}: ${r.stderr}`);
    }
  });

  test("intv_onnx.py describe reads the saves from the manifest (with the onnx package)", { skip: !onnx && "no onnx for /usr/bin/python3" }, () => {
    const model = join(scratch, "describe.onnx");
    assert.equal(intv("compile", "examples/save_mlps.intv", "--model", "examples/gpt2.onnx", "-o", model).status, 0);
    const r = spawnSync(PYTHON, [join(EXAMPLE, "intv_onnx.py"), "describe", model], { encoding: "utf8", env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { saves: { name: string; output: string; elemType: string; shape: unknown[] }[] };
    const manifest = parseManifest(readModelInfoFromFile(model).metadata.get(MANIFEST_KEY)!);
    assert.deepEqual(got.saves, manifest.saves.map((s) => ({ name: s.name, output: s.output, elemType: s.elemType, shape: s.shape })));
  });

  test("intv_onnx.py run streams batches into the stacked layout (a stand-in onnxruntime)", { skip: !onnx && "no onnx for /usr/bin/python3" }, async () => {
    const model = join(scratch, "run.onnx");
    assert.equal(intv("compile", "examples/save_mlps.intv", "--model", "examples/gpt2.onnx", "-o", model).status, 0);
    const ids = join(scratch, "ids.npy");
    const values = Array.from({ length: 7 * 5 }, (_, i) => BigInt((i * 13) % 96));
    await writeNpy(ids, { type: "int64", dims: [7, 5], data: BigInt64Array.from(values) });
    const out = join(scratch, "py-out");
    const r = spawnSync(PYTHON, [join(EXAMPLE, "intv_onnx.py"), "run", model, ids, out, "--batch-size", "3"], {
      encoding: "utf8", env: { ...process.env, PYTHONPATH: join(ROOT, "test/fixtures/dataset/fake_ort"), PYTHONDONTWRITEBYTECODE: "1" },
    });
    assert.equal(r.status, 0, r.stderr);
    const acts = await readNpy(join(out, "mlp.3.npy"));
    assert.deepEqual(acts.dims, [7, 5, 32]);
    // Element [row, position, k] is that row's token id at that position: every batch landed in place.
    for (const [row, pos] of [[0, 0], [3, 4], [6, 2]] as const) {
      assert.equal((acts.data as Float32Array)[(row * 5 + pos) * 32 + 7], Number(values[row * 5 + pos]));
    }
  });
});
