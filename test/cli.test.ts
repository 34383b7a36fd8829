// The command line as a user meets it: `node dist/cli/main.js ...` in a child process, checking
// exit statuses, stdout, stderr and the files written. Uses the hand-made compiled models of
// test/fixtures/runtime (tools/fixtures/make_runtime_fixture.py).

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parseArgs, UsageError } from "../cli/args.js";
import { saveFileStem } from "../cli/commands/runModel.js";
import { formatNumber } from "../cli/summary.js";
import { readNpy, writeNpy, halfToNumber } from "../runtime/index.js";
import { runCli } from "./helpers.js";

const COMPILED = "test/fixtures/runtime/compiled.onnx";
const FAILING = "test/fixtures/runtime/failing.onnx";

const scratch = mkdtempSync(join(tmpdir(), "intv-cli-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const newDir = (): string => join(scratch, `out${++dirs}`);

const intv = runCli;

const good = ["--input", "input_ids=[[1,2,3]]", "--input", "x=[[1,-2,3,4]]", "--param", "scale=[1,2,3,4]"];

describe("help, version and usage errors", () => {
  test("`intv --help` lists the commands; `intv --version`", () => {
    const help = intv("--help");
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: intv COMMAND/);
    assert.match(help.stdout, /\n {2}run +compile and run a script/);
    const version = intv("--version");
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^intv \d+\.\d+\.\d+\n$/);
  });

  test("the process ends only after its output is written: 600 KB through a pipe arrive whole", () => {
    // cli/main.ts ends the process with process.exit once stdout has flushed; a pipe holds 64 KB.
    const r = intv("inspect", "examples/gpt2.onnx", "--tensors", "--all", "--json");
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.length > 256 * 1024, `${r.stdout.length} bytes`);
    assert.ok(Array.isArray(JSON.parse(r.stdout)));
  });

  test("`intv run --help` shows the usage and every option", () => {
    const r = intv("run", "--help");
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^usage: intv run SCRIPT\.intv --model MODEL\.onnx --input NAME=FILE\.npy \[--param NAME=FILE\.npy\] --out DIR\n {7}intv run COMPILED\.onnx/);
    for (const option of ["--model", "--input", "--param", "--inputs", "--out", "--json", "--threads", "--no-spin", "--help"]) {
      assert.ok(r.stdout.includes(option), option);
    }
  });

  const usageErrors: [string, string[], RegExp][] = [
    ["no command", [], /^usage: intv COMMAND/],
    ["unknown command", ["frobnicate"], /^intv: error: unknown command `frobnicate`/],
    ["missing positional", ["run", "--out", "d"], /^intv run: error: missing SCRIPT\.intv or COMPILED\.onnx\nusage: intv run /],
    ["unknown option", ["run", COMPILED, "--out", "d", "--bogus"], /^intv run: error: unknown option `--bogus`\nusage: intv run /],
    ["misspelt option", ["run", COMPILED, "--out", "d", "--mod", "m"], /unknown option `--mod` \(did you mean `--model`\?\)/],
    ["missing value", ["run", COMPILED, "--out"], /^intv run: error: option `--out` needs a value \(DIR\)/],
    ["missing --out", ["run", COMPILED], /missing option `--out DIR`/],
    ["value not NAME=VALUE", ["run", COMPILED, "--input", "ids.npy", "--out", "d"], /--input expects NAME=FILE\.npy or NAME=JSON, got `ids\.npy`/],
    ["script without --model", ["run", "s.intv", "--out", "d"], /missing option `--model MODEL\.onnx`/],
    ["compiled model with --model", ["run", COMPILED, "--model", "m.onnx", "--out", "d"], /is already compiled; --model is only for scripts/],
    ["bad --threads", ["run", COMPILED, "--out", "d", "--threads", "0"], /--threads expects a positive integer, got `0`/],
    ["extra positional", ["run", COMPILED, "other.onnx", "--out", "d"], /unexpected argument `other\.onnx`/],
    ["the same input twice", ["run", COMPILED, "--input", "x=[1]", "--input", "x=[2]", "--out", "d"], /`x` is given more than once/],
  ];
  for (const [name, args, message] of usageErrors) {
    test(`${name}: exit status 2`, () => {
      const r = intv(...args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, "");
    });
  }
});

describe("intv run COMPILED.onnx", () => {
  test("writes every save and output as .npy and prints the summary table", async () => {
    const out = newDir();
    const r = intv("run", COMPILED, ...good, "--out", out);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.deepEqual(readdirSync(out).sort(), [
      "first.ids.npy", "h.0.npy", "half.npy", "mask.npy", "output.ids_sum.npy", "output.y.npy",
    ]);
    assert.deepEqual(await readNpy(join(out, "h.0.npy")), { type: "float32", dims: [1, 4], data: new Float32Array([1, -4, 9, 16]) });
    assert.deepEqual(await readNpy(join(out, "first.ids.npy")), { type: "int64", dims: [1, 3], data: new BigInt64Array([1n, 2n, 3n]) });
    assert.deepEqual(await readNpy(join(out, "mask.npy")), { type: "bool", dims: [1, 4], data: new Uint8Array([1, 0, 1, 1]) });
    assert.deepEqual([...(await readNpy(join(out, "half.npy"))).data].map((b) => halfToNumber(b as number)), [1.5, -4.5, 10, 16]);
    assert.deepEqual(await readNpy(join(out, "output.ids_sum.npy")), { type: "int64", dims: [], data: new BigInt64Array([6n]) });
    assert.equal(r.stdout, [
      "name            shape   type     mean      std   min  max",
      "h[0]            [1, 4]  float32   5.5   7.6322    -4   16",
      "first.ids       [1, 3]  int64       2   0.8165     1    3",
      "mask            [1, 4]  bool     0.75  0.43301     0    1",
      "half            [1, 4]  float16  5.75   7.8462  -4.5   16",
      "output.y        [1, 4]  float32  5.75   7.8462  -4.5   16",
      "output.ids_sum  []      int64       6        0     6    6",
      "",
    ].join("\n"));
  });

  test("--json prints the summary as data; .npy inputs; --threads", async () => {
    const ids = join(scratch, "ids.npy");
    await writeNpy(ids, { type: "int64", dims: [2, 2], data: new BigInt64Array([1n, 2n, 3n, 4n]) });
    const out = newDir();
    const r = intv("run", COMPILED, "--input", `input_ids=${ids}`, "--input", "x=[[1,1,1,1],[2,2,2,2]]", "--param", "scale=[1,1,1,1]",
      "--param", "bias=[0,0,0,0]", "--out", out, "--json", "--threads", "1");
    assert.equal(r.status, 0, r.stderr);
    const data = JSON.parse(r.stdout) as { out: string; tensors: { kind: string; name: string; file: string; shape: number[]; type: string; mean: number; min: number; max: number }[] };
    assert.equal(data.out, out);
    const y = data.tensors.find((t) => t.kind === "output" && t.name === "y")!;
    assert.deepEqual({ ...y, std: undefined }, { kind: "output", name: "y", file: join(out, "output.y.npy"), shape: [2, 4], type: "float32", mean: 1.5, std: undefined, min: 1, max: 2 });
    assert.deepEqual(data.tensors.map((t) => t.name), ["h[0]", "first.ids", "mask", "half", "y", "ids_sum"]);
  });

  test("--inputs FILE.jsonl runs once per line and stacks along a new first axis (test/dataset.test.ts has the rest)", async () => {
    const jsonl = join(scratch, "runs.jsonl");
    writeFileSync(jsonl, '{"input_ids": [[1, 2]], "x": [[1, 1, 1, 1]]}\n\n{"input_ids": [[3, 4]], "x": [[2, 2, 2, 2]]}\n');
    const out = newDir();
    const r = intv("run", COMPILED, "--param", "scale=[1,1,1,1]", "--inputs", jsonl, "--out", out);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(await readNpy(join(out, "first.ids.npy")), { type: "int64", dims: [2, 1, 2], data: new BigInt64Array([1n, 2n, 3n, 4n]) });
    assert.deepEqual((await readNpy(join(out, "output.ids_sum.npy"))).dims, [2]);
    assert.deepEqual((await readNpy(join(out, "h.0.npy"))).data, new Float32Array([1, 1, 1, 1, 2, 2, 2, 2]));
  });

  test("--inputs: errors name the line; results that cannot be stacked", () => {
    const jsonl = join(scratch, "bad.jsonl");
    writeFileSync(jsonl, '{"input_ids": [[1]], "x": [[1, 1, 1, 1]]}\n{"input_ids": [[1.5]], "x": [[1, 1, 1, 1]]}\n');
    let r = intv("run", COMPILED, "--param", "scale=[1,1,1,1]", "--inputs", jsonl, "--out", newDir());
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `error: ${jsonl}:2: input \`input_ids\`: element [0][0] is 1.5: expected an integer (int64)\n`);
    writeFileSync(jsonl, '{"input_ids": [[1]], "x": [[1, 1, 1, 1]]}\n[1, 2]\n');
    r = intv("run", COMPILED, "--param", "scale=[1,1,1,1]", "--inputs", jsonl, "--out", newDir());
    assert.match(r.stderr, /^error: .*bad\.jsonl:2: expected a JSON object of inputs/);
    // Two examples on line 2: its results have 2 rows along the batch axis, so they can be neither
    // stacked with line 1's nor written in the ragged layout (which drops a batch axis of size 1).
    writeFileSync(jsonl, '{"input_ids": [[1]], "x": [[1, 1, 1, 1]]}\n{"input_ids": [[1], [2]], "x": [[1, 1, 1, 1], [2, 2, 2, 2]]}\n');
    r = intv("run", COMPILED, "--param", "scale=[1,1,1,1]", "--inputs", jsonl, "--out", newDir());
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: line 2 \(.*bad\.jsonl:2\): save `h\[0\]` is float32\[2, 4\], but float32\[1, 4\] on line 1; lines may differ only in the first axis after the batch axis \(of size 1\), where they are written in the ragged layout\n$/);
  });
});

describe("intv run: rejected inputs and failures end with one message and exit status 1", () => {
  const cases: [string, string[], RegExp][] = [
    ["missing input", ["--input", "input_ids=[[1]]", "--param", "scale=[1,2,3,4]"], /^error: missing input `x` \(float32\[batch, 4\]\)\n$/],
    ["missing param", ["--input", "input_ids=[[1]]", "--input", "x=[[1,2,3,4]]"], /^error: missing param `scale` \(float32\[4\]\)\n$/],
    ["wrong shape", [...good.slice(0, 2), "--input", "x=[[1,2,3]]", ...good.slice(4)], /^error: input `x`: dimension 1 must be 4 \(float32\[batch, 4\]\), got 3 \(float32\[1, 3\]\)\n$/],
    ["unknown input", [...good, "--input", "y=[1]"], /^error: unknown input `y`/],
    ["not a param", [...good, "--param", "x2=[1]"], /^error: `x2` is not a param of this script; its params are `scale`, `bias`\n$/],
    ["bad JSON", [...good.slice(2), "--input", "input_ids=[[1,2"], /^error: input `input_ids`: `\[\[1,2` is not valid JSON/],
    ["missing .npy", [...good.slice(2), "--input", "input_ids=nope.npy"], /^error: input `input_ids`: nope\.npy: cannot read file \(no such file or directory\)\n$/],
  ];
  for (const [name, args, message] of cases) {
    test(name, () => {
      const r = intv("run", COMPILED, ...args, "--out", newDir());
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, "");
    });
  }

  test("wrong element type from a .npy file; a file that is not .npy", async () => {
    const f = join(scratch, "ids_f32.npy");
    await writeNpy(f, { type: "float32", dims: [1, 2], data: new Float32Array([1, 2]) });
    let r = intv("run", COMPILED, ...good.slice(2), "--input", `input_ids=${f}`, "--out", newDir());
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "error: input `input_ids`: expected int64, got float32\n");
    const bad = join(scratch, "bad.npy");
    writeFileSync(bad, "not numpy");
    r = intv("run", COMPILED, ...good.slice(2), "--input", `input_ids=${bad}`, "--out", newDir());
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: input `input_ids`: .*bad\.npy: not a NumPy \.npy file \(bad magic string\)\n$/);
  });

  test("a missing model or script", () => {
    let r = intv("run", "nope.onnx", "--out", newDir());
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "error: cannot read model `nope.onnx`: no such file\n");
    r = intv("run", "nope.intv", "--model", COMPILED, "--out", newDir());
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "error: nope.intv: no such file\n");
  });

  test("a run-time failure in an inserted node is reported at the script line", () => {
    const out = newDir();
    const r = intv("run", FAILING, "--param", "a=[1,2,3]", "--param", "b=[1,2]", "--input", "c=[1]", "--input", "d=[1]", "--out", out);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^x\.intv:3:5: error\[E0601\]: run-time failure in `Add` from this line: Attempting to broadcast an axis by a dimension other than 1\. 2 by 3\n/);
    assert.equal(existsSync(out), false);
  });

  test("a run-time failure in the model's own node names the node", () => {
    const r = intv("run", FAILING, "--param", "a=[1]", "--param", "b=[1]", "--input", "c=[1,2,3]", "--input", "d=[1,2]", "--out", newDir());
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error\[E0602\]: model failure in node `\/layers\.0\/Add` \(Add\)/);
  });
});

describe("intv run SCRIPT.intv", () => {
  test("a run-time failure in the script is shown at its line, compiled here or beforehand", () => {
    const script = join(scratch, "rtfail.intv");
    writeFileSync(script, "# a param whose size is only known at run time\nparam v: float32[n]\ntransformer.h[0].output += v\nsave h0 = transformer.h[0].output\n");
    const args = ["--input", "input_ids=examples/input_ids.npy", "--param", "v=[1,2,3,4,5]", "--out", newDir()];
    const first = `${script}:3:1: error[E0601]: run-time failure in \`Add\` from this line: Attempting to broadcast an axis by a dimension other than 1. 5 by 32\n`;
    let r = intv("run", script, "--model", "examples/gpt2.onnx", ...args);
    assert.equal(r.status, 1);
    assert.ok(r.stderr.startsWith(first), r.stderr);
    assert.ok(r.stderr.includes("transformer.h[0].output += v"), r.stderr);

    const compiled = join(scratch, "rtfail.onnx");
    r = intv("compile", script, "--model", "examples/gpt2.onnx", "-o", compiled);
    assert.equal(r.status, 0, r.stderr);
    r = intv("run", compiled, ...args);
    assert.equal(r.status, 1);
    assert.ok(r.stderr.startsWith(first), r.stderr);
    assert.ok(r.stderr.includes("transformer.h[0].output += v"), r.stderr);
  });
});

describe("pieces", () => {
  test("save names to file names", () => {
    assert.equal(saveFileStem("attn[3]"), "attn.3");
    assert.equal(saveFileStem("first.mlp8"), "first.mlp8");
    assert.equal(saveFileStem("first.h[2][-1]"), "first.h.2.-1");
    assert.equal(saveFileStem("/a/b:c"), "_a_b_c");
  });

  test("numbers in the table", () => {
    assert.deepEqual([0, -4, 0.1234567, 1e-7, 123456789, NaN, -Infinity, null].map(formatNumber),
      ["0", "-4", "0.12346", "1e-7", "1.2346e+8", "nan", "-inf", "-"]);
  });

  test("the argument parser", () => {
    const options = [
      { name: "out", short: "o", value: "DIR", description: "" },
      { name: "input", value: "X", repeat: true, description: "" },
      { name: "json", description: "" },
    ];
    const r = parseArgs(["a", "-o", "d", "--input=1", "--input", "-2", "--json", "--", "--b"], options, [{ name: "A" }, { name: "B" }]);
    assert.equal(r.help, false);
    if (r.help) return;
    assert.deepEqual(r.args.positionals, ["a", "--b"]);
    assert.equal(r.args.string("out"), "d");
    assert.deepEqual(r.args.strings("input"), ["1", "-2"]);
    assert.equal(r.args.flag("json"), true);
    assert.deepEqual(parseArgs(["x", "--help"], options, []), { help: true });
    assert.throws(() => parseArgs(["--json=1"], options, []), (e: unknown) => e instanceof UsageError && /takes no value/.test(e.message));
    assert.throws(() => parseArgs(["-o", "a", "-o", "b"], options, []), /given more than once/);
  });
});
