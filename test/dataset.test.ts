// Dataset runs from the command line (`intv run ... --inputs`), in child processes: the files a
// batched run writes are byte for byte those of a per-line run (equal lengths, lengths grouped,
// lengths padded, with worker threads), each line is what a run of it alone gives and what
// PyTorch's hooks give (test/fixtures/dataset/expected), the ragged
// layout's offsets, NumPy reading both layouts with mmap, a run killed half-way (SIGKILL) or
// stopped with Ctrl-C (SIGINT) and resumed equals an uninterrupted one, and the refusals.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { compile, decodeModel, encodeModel } from "../compiler/index.js";
import type { Worker } from "node:worker_threads";
import { DatasetError, Runtime, WorkerPool, readNpy, writeNpy, type Tensor } from "../runtime/index.js";
import { withOnlyOutputs } from "../runtime/prune.js";
import { assertClose, CLI_MAIN, runCli } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = CLI_MAIN;
const GPT2 = join(ROOT, "examples/gpt2.onnx");
const SAVE_MLPS = join(ROOT, "examples/save_mlps.intv");
const MASKED = join(ROOT, "test/fixtures/dataset/gpt2_mask.onnx");
const TOKENS = join(ROOT, "test/fixtures/dataset/tokens.jsonl");
const EXPECTED = join(ROOT, "test/fixtures/dataset/expected");
const COMPILED = join(ROOT, "test/fixtures/runtime/compiled.onnx");

const scratch = mkdtempSync(join(tmpdir(), "intv-dataset-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const newDir = (): string => join(scratch, `out${++dirs}`);

const intv = runCli;

/** Deterministic token ids in [0, 96). */
function tokens(count: number, seed: number): bigint[] {
  let x = seed;
  return Array.from({ length: count }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return BigInt(x % 96);
  });
}

/** Every .npy file of two folders, byte for byte equal (and the same list of files). */
function assertSameFiles(a: string, b: string): void {
  const files = readdirSync(a).filter((f) => f.endsWith(".npy")).sort();
  assert.deepEqual(readdirSync(b).filter((f) => f.endsWith(".npy")).sort(), files);
  assert.ok(files.length > 0);
  for (const f of files) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `${f} differs between ${a} and ${b}`);
}

let ids: string; // int64[1200, 16]: 1,200 examples of 16 tokens
let mixed: string; // JSONL: 30 lines of 3 to 8 tokens
let compiledMlps: string;

before(async () => {
  ids = join(scratch, "ids.npy");
  await writeNpy(ids, { type: "int64", dims: [1200, 16], data: BigInt64Array.from(tokens(1200 * 16, 7)) });
  mixed = join(scratch, "mixed.jsonl");
  const lengths = [5, 5, 3, 8, 5, 3, 3, 8, 8, 5, 6, 5, 3, 5, 8, 4, 5, 5, 3, 8, 6, 6, 5, 3, 4, 5, 8, 5, 3, 5];
  writeFileSync(mixed, lengths.map((n, i) => JSON.stringify({ input_ids: [tokens(n, 100 + i).map(Number)] })).join("\n") + "\n");
  compiledMlps = join(scratch, "mlps.onnx");
  const { model } = await compile({ source: readFileSync(SAVE_MLPS, "utf8"), filename: SAVE_MLPS, model: GPT2 });
  writeFileSync(compiledMlps, encodeModel(model!));
});

/** One line's result from the runtime directly. */
async function runAlone(model: string, inputs: Record<string, Tensor>): Promise<Map<string, Tensor>> {
  const runtime = await Runtime.load(model);
  try {
    return (await runtime.run(inputs)).saves;
  } finally {
    await runtime.release();
  }
}

describe("batched runs write the per-line run's files, byte for byte", () => {
  test("equal lengths: --batch-size 8, 7 (a partial last batch) and 7 over two worker threads", async () => {
    const first = ids.slice(0, -4) + "-40.npy";
    const all = await readNpy(ids);
    await writeNpy(first, { type: "int64", dims: [40, 16], data: (all.data as BigInt64Array).slice(0, 40 * 16) });
    const perLine = newDir();
    let r = intv("run", compiledMlps, "--inputs", `input_ids=${first}`, "--out", perLine);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /^name +shape +type +mean +std +min +max\nmlp\[0\] +\[40, 1, 16, 32\] +float32/);
    for (const args of [["--batch-size", "8"], ["--batch-size", "7"], ["--batch-size", "7", "--workers", "2"], ["--batch-size", "8", "--no-spin"]]) {
      const out = newDir();
      r = intv("run", compiledMlps, "--inputs", first, "--out", out, ...args);
      assert.equal(r.status, 0, r.stderr);
      assertSameFiles(perLine, out);
    }
    // --saves-only loads the model without its outputs: the same saves.
    const savesOnly = newDir();
    r = intv("run", compiledMlps, "--inputs", first, "--out", savesOnly, "--batch-size", "8", "--saves-only");
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!readdirSync(savesOnly).includes("output.logits.npy"));
    for (const f of readdirSync(savesOnly).filter((f) => f.endsWith(".npy"))) {
      assert.ok(readFileSync(join(savesOnly, f)).equals(readFileSync(join(perLine, f))), f);
    }
    // Line 13 is what a run of it alone gives.
    const alone = await runAlone(compiledMlps, { input_ids: { type: "int64", dims: [1, 16], data: (all.data as BigInt64Array).slice(13 * 16, 14 * 16) } });
    const file = await readNpy(join(perLine, "mlp.3.npy"));
    const line = (file.data as Float32Array).subarray(13 * 16 * 32, 14 * 16 * 32);
    assert.deepEqual(line, alone.get("mlp[3]")!.data);
  });

  test("lengths grouped: the ragged layout, with offsets, and each line as run alone", async () => {
    const perLine = newDir();
    let r = intv("run", SAVE_MLPS, "--model", GPT2, "--inputs", mixed, "--out", perLine);
    assert.equal(r.status, 0, r.stderr);
    // 155 tokens in all: each line's rows, concatenated.
    assert.match(r.stdout, /\nmlp\[0\] +\[155, 32\] ragged +float32/);
    assert.match(r.stdout, /\noutput\.logits +\[155, 96\] ragged +float32/);
    const batched = newDir();
    r = intv("run", SAVE_MLPS, "--model", GPT2, "--inputs", mixed, "--out", batched, "--batch-size", "4");
    assert.equal(r.status, 0, r.stderr);
    assertSameFiles(perLine, batched);

    const offsets = await readNpy(join(perLine, "mlp.5.offsets.npy"));
    assert.equal(offsets.type, "int64");
    const lines = readFileSync(mixed, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { input_ids: number[][] }).input_ids[0]!);
    let at = 0;
    assert.deepEqual([...offsets.data], [0n, ...lines.map((l) => BigInt((at += l.length)))]);
    const data = await readNpy(join(perLine, "mlp.5.npy"));
    for (const k of [0, 3, 29]) {
      const alone = await runAlone(compiledMlps, { input_ids: { type: "int64", dims: [1, lines[k]!.length], data: BigInt64Array.from(lines[k]!.map(BigInt)) } });
      const [from, to] = [Number(offsets.data[k]), Number(offsets.data[k + 1])];
      assert.deepEqual((data.data as Float32Array).subarray(from * 32, to * 32), alone.get("mlp[5]")!.data, `line ${k + 1}`);
    }
  });

  test("lengths padded (--pad, with the model's attention_mask): the padding never reaches a file", () => {
    const script = join(scratch, "masked.intv");
    writeFileSync(script, "for l in 0..len(transformer.h) { save mlp[l] = transformer.h[l].mlp.output }\nsave attn = transformer.h[1].attn.output\n");
    const perLine = newDir();
    let r = intv("run", script, "--model", MASKED, "--inputs", TOKENS, "--out", perLine);
    assert.equal(r.status, 0, r.stderr);
    for (const args of [["--batch-size", "8", "--pad"], ["--batch-size", "16", "--pad", "--workers", "2"]]) {
      const out = newDir();
      r = intv("run", script, "--model", MASKED, "--inputs", TOKENS, "--out", out, ...args);
      assert.equal(r.status, 0, r.stderr);
      assertSameFiles(perLine, out);
    }
  });

  test("the files hold PyTorch's numbers: its hooks on each line alone, in the ragged layout (tools/fixtures/make_dataset_fixture.py)", async () => {
    const script = join(scratch, "masked-torch.intv");
    writeFileSync(script, "for l in 0..len(transformer.h) { save mlp[l] = transformer.h[l].mlp.output }\nsave attn = transformer.h[1].attn.output\n");
    const out = newDir();
    const r = intv("run", script, "--model", MASKED, "--inputs", TOKENS, "--out", out, "--batch-size", "8", "--pad");
    assert.equal(r.status, 0, r.stderr);
    for (const name of ["mlp.0", "mlp.1", "attn", "output.logits"]) {
      const expected = (file: string) => readNpy(join(EXPECTED, file));
      assert.deepEqual(await readNpy(join(out, `${name}.offsets.npy`)), await expected(`${name}.offsets.npy`), `${name}.offsets`);
      assertClose(await readNpy(join(out, `${name}.npy`)), await expected(`${name}.npy`), 1e-4, 1e-4, name);
    }
  });
});

describe("reading the files", () => {
  const numpy = spawnSync("/usr/bin/python3", ["-c", "import numpy"]).status === 0;

  test("NumPy reads both layouts with mmap_mode='r' (when /usr/bin/python3 has NumPy)", { skip: !numpy && "no NumPy" }, async () => {
    const out = newDir();
    const r = intv("run", SAVE_MLPS, "--model", GPT2, "--inputs", mixed, "--out", out, "--batch-size", "4");
    assert.equal(r.status, 0, r.stderr);
    const stacked = newDir();
    assert.equal(intv("run", compiledMlps, "--inputs", ids, "--out", stacked, "--batch-size", "64", "--saves-only").status, 0);
    // The README's recipes, verbatim in spirit: line i of each layout.
    const py = [
      "import numpy as np, sys, json",
      "ragged, stacked = sys.argv[1], sys.argv[2]",
      "data = np.load(ragged + '/mlp.5.npy', mmap_mode='r')",
      "offsets = np.load(ragged + '/mlp.5.offsets.npy')",
      "line3 = data[offsets[3]:offsets[4]]",
      "acts = np.load(stacked + '/mlp.5.npy', mmap_mode='r')",
      "print(json.dumps({'ragged': list(data.shape), 'offsets': len(offsets), 'line3': list(line3.shape), 'first': float(line3[0, 0]),",
      "  'stacked': list(acts.shape), 'row': float(acts[1199, 0, 15, 31])}))",
    ].join("\n");
    const p = spawnSync("/usr/bin/python3", ["-c", py, out, stacked], { encoding: "utf8" });
    assert.equal(p.status, 0, p.stderr);
    const got = JSON.parse(p.stdout) as { ragged: number[]; offsets: number; line3: number[]; first: number; stacked: number[]; row: number };
    const data = await readNpy(join(out, "mlp.5.npy"));
    const offsets = await readNpy(join(out, "mlp.5.offsets.npy"));
    assert.deepEqual(got.ragged, data.dims);
    assert.equal(got.offsets, 31);
    assert.deepEqual(got.line3, [8, 32]);
    assert.equal(got.first, (data.data as Float32Array)[Number(offsets.data[3]) * 32]);
    assert.deepEqual(got.stacked, [1200, 1, 16, 32]);
    const acts = await readNpy(join(stacked, "mlp.5.npy"));
    assert.equal(got.row, (acts.data as Float32Array)[acts.data.length - 1]);
  });

  test("--inputs DIR (one .npy per line, in name order) and two inputs read in step", async () => {
    const folder = join(scratch, "lines");
    mkdirSync(folder);
    const all = await readNpy(ids);
    for (const k of [0, 1, 2, 10]) {
      // Stored without the batch axis: [16] for input_ids int64[batch, seq].
      await writeNpy(join(folder, `line${k}.npy`), { type: "int64", dims: [16], data: (all.data as BigInt64Array).slice(k * 16, (k + 1) * 16) });
    }
    const out = newDir();
    const r = intv("run", compiledMlps, "--inputs", folder, "--out", out, "--batch-size", "2");
    assert.equal(r.status, 0, r.stderr);
    const file = await readNpy(join(out, "mlp.0.npy"));
    assert.deepEqual(file.dims, [4, 1, 16, 32]);
    const alone = await runAlone(compiledMlps, { input_ids: { type: "int64", dims: [1, 16], data: (all.data as BigInt64Array).slice(10 * 16, 11 * 16) } });
    assert.deepEqual((file.data as Float32Array).subarray(3 * 16 * 32), alone.get("mlp[0]")!.data); // line10 after line2

    const masks = join(scratch, "masks.npy");
    await writeNpy(masks, { type: "int64", dims: [1200, 16], data: new BigInt64Array(1200 * 16).fill(1n) });
    const two = newDir();
    const script = join(scratch, "masked1.intv");
    writeFileSync(script, "save mlp = transformer.h[0].mlp.output\n");
    const r2 = intv("run", script, "--model", MASKED, "--inputs", `input_ids=${ids}`, "--inputs", `attention_mask=${masks}`, "--out", two, "--batch-size", "300", "--saves-only");
    assert.equal(r2.status, 0, r2.stderr);
    assert.deepEqual((await readNpy(join(two, "mlp.npy"))).dims, [1200, 1, 16, 32]);
  });
});

describe("progress", () => {
  const pty = spawnSync("script", ["--version"]).status === 0;

  test("on a terminal: one line on stderr, redrawn, with lines, lines/s, ETA and bytes written; cleared before the summary", { skip: !pty && "no script(1) to give the run a terminal" }, () => {
    const out = newDir();
    // 1,200 lines one at a time: long enough (seconds) for the progress line's first second.
    const command = [process.execPath, MAIN, "run", compiledMlps, "--inputs", ids, "--out", out].map((a) => `'${a}'`).join(" ");
    // script(1) runs the command on a pseudo-terminal (stdout and stderr both go to it).
    const r = spawnSync("script", ["-qfec", command, "/dev/null"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout);
    const draws = r.stdout.split("\r\x1b[K").slice(1);
    const progress = draws.filter((d) => /^[\d,]+\/1,200 lines/.test(d));
    assert.ok(progress.length > 0, `no progress line in ${JSON.stringify(r.stdout.slice(0, 400))}`);
    for (const d of progress.slice(0, -1)) assert.match(d, /^[\d,]+\/1,200 lines · [\d.]+ lines\/s( · ETA \w+)? · [\d.]+ (B|KiB|MiB) written \([\d.]+ s\)$/);
    assert.ok(progress.some((d) => / · ETA \d+(s|m\d\ds)/.test(d)), "an ETA");
    // Redrawn at most every 100 ms (and by the 250 ms timer), not once per line.
    const seconds = Number(/\(([\d.]+) s\)$/.exec(progress.at(-2) ?? progress[0]!)![1]);
    assert.ok(progress.length <= 15 * seconds + 5, `${progress.length} draws in ${seconds} s`);
    // The last draw is cleared, and the summary follows on lines of its own.
    assert.match(draws.at(-1)!, /^name +shape +type/);
  });

  test("not on a terminal: nothing on stderr, the summary on stdout", () => {
    const out = newDir();
    const r = intv("run", compiledMlps, "--inputs", join(ROOT, "examples/dataset/ids.npy"), "--out", out);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /^name +shape +type/);
  });
});

describe("examples/dataset", () => {
  const readme = readFileSync(join(ROOT, "examples/dataset/README.md"), "utf8");
  const commands = [...readme.matchAll(/^(npx intv|python3) (.+)$/gm)].map((m) => ({ tool: m[1]!, args: m[2]!.split(/\s+/) }));
  const numpy = spawnSync("/usr/bin/python3", ["-c", "import numpy"]).status === 0;

  test("the README's commands run as it says: stacked, ragged, --workers 2 equal to one session, and read back", { skip: !numpy && "no NumPy for read_acts.py" }, async () => {
    assert.equal(commands.filter((c) => c.tool === "npx intv").length, 3);
    const at = newDir();
    mkdirSync(at);
    // Each `--out NAME` and read_acts.py's folder are made to point into the scratch folder.
    const inScratch = (a: string) => (/^(acts2?|ragged)$/.test(a) ? join(at, a) : a);
    const printed: string[] = [];
    for (const { tool, args } of commands) {
      const r = tool === "npx intv" ? intv(...args.map(inScratch)) : spawnSync("/usr/bin/python3", args.map(inScratch), { cwd: ROOT, encoding: "utf8" });
      assert.equal(r.status, 0, `${tool} ${args.join(" ")}: ${r.stderr}`);
      if (tool === "python3") printed.push(r.stdout.trim());
    }
    assert.deepEqual((await readNpy(join(at, "acts/mlp.3.npy"))).dims, [64, 1, 16, 32]);
    assertSameFiles(join(at, "acts"), join(at, "acts2"));
    const offsets = await readNpy(join(at, "ragged/mlp.3.offsets.npy"));
    const lengths = readFileSync(join(ROOT, "examples/dataset/prompts.jsonl"), "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { input_ids: number[][] }).input_ids[0]!.length);
    let sum = 0;
    assert.deepEqual([...offsets.data], [0n, ...lengths.map((n) => BigInt((sum += n)))]);
    assert.deepEqual((await readNpy(join(at, "ragged/mlp.3.npy"))).dims, [sum, 32]);
    const [stacked, ragged] = printed.map((p) => JSON.parse(p) as { layout: string; shape: number[]; lines: number; line1_shape: number[] });
    assert.deepEqual([stacked!.layout, stacked!.shape, stacked!.lines, stacked!.line1_shape], ["stacked", [64, 1, 16, 32], 64, [1, 16, 32]]);
    assert.deepEqual([ragged!.layout, ragged!.shape, ragged!.lines, ragged!.line1_shape], ["ragged", [sum, 32], 24, [lengths[1], 32]]);
  });
});

describe("interrupted runs", () => {
  /** Start a run, wait for its first checkpoint, send `signal`; resolves to the exit status and output. */
  function interrupt(out: string, signal: NodeJS.Signals, args: string[]): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [MAIN, "run", compiledMlps, "--inputs", ids, "--out", out, ...args], { cwd: ROOT });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const state = join(out, ".intv-run.json");
      const poll = setInterval(() => {
        if (!existsSync(state)) return;
        clearInterval(poll);
        child.kill(signal);
      }, 5);
      child.on("error", reject);
      child.on("close", (status, sig) => {
        clearInterval(poll);
        resolve({ status, signal: sig, stdout, stderr });
      });
    });
  }

  let whole: string;
  before(() => {
    whole = newDir();
    const r = intv("run", compiledMlps, "--inputs", ids, "--out", whole, "--batch-size", "4", "--saves-only");
    assert.equal(r.status, 0, r.stderr);
  });

  test("killed half-way (SIGKILL): the files hold the checkpoint's lines; --resume finishes them equal to an uninterrupted run", async () => {
    const out = newDir();
    const killed = await interrupt(out, "SIGKILL", ["--batch-size", "4", "--saves-only"]);
    assert.equal(killed.signal, "SIGKILL");
    const state = JSON.parse(readFileSync(join(out, ".intv-run.json"), "utf8")) as { lines: number; complete: boolean };
    assert.equal(state.complete, false, "the run finished before it was killed: make the dataset longer");
    assert.ok(state.lines > 0 && state.lines < 1200, `${state.lines} lines`);
    // What is on disk is a valid .npy file of at least the checkpoint's lines.
    assert.ok((await readNpy(join(out, "mlp.0.npy"))).dims[0]! >= state.lines);

    let r = intv("run", compiledMlps, "--inputs", ids, "--out", out, "--batch-size", "4", "--saves-only");
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^error: \`${out}\` holds an interrupted run \\(${state.lines} lines written\\); add --resume to continue it`));
    // Resumed with another batch size: the files do not depend on it.
    r = intv("run", compiledMlps, "--inputs", ids, "--out", out, "--batch-size", "16", "--saves-only", "--resume");
    assert.equal(r.status, 0, r.stderr);
    assertSameFiles(whole, out);
    // Resuming a finished run does nothing and prints the summary again.
    r = intv("run", compiledMlps, "--inputs", ids, "--out", out, "--saves-only", "--resume", "--json");
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { lines: number; complete: boolean }).lines, 1200);
    assertSameFiles(whole, out);
  });

  test("Ctrl-C (SIGINT) stops at a batch boundary, exit status 130; --resume finishes", async () => {
    const out = newDir();
    const stopped = await interrupt(out, "SIGINT", ["--batch-size", "4", "--saves-only"]);
    assert.equal(stopped.status, 130, stopped.stderr);
    assert.match(stopped.stderr, /stopping after the running batch/);
    assert.match(stopped.stderr, /interrupted after \d+ lines, all written and checkpointed; continue with the same command and --resume\n$/);
    const state = JSON.parse(readFileSync(join(out, ".intv-run.json"), "utf8")) as { lines: number; complete: boolean };
    assert.equal(state.complete, false);
    assert.equal((await readNpy(join(out, "mlp.0.npy"))).dims[0], state.lines, "at a batch boundary the file holds exactly the checkpoint's lines");
    const r = intv("run", compiledMlps, "--inputs", ids, "--out", out, "--batch-size", "4", "--saves-only", "--resume");
    assert.equal(r.status, 0, r.stderr);
    assertSameFiles(whole, out);
  });

  test("a resumed run must read the same data", async () => {
    const out = newDir();
    await interrupt(out, "SIGKILL", ["--batch-size", "4", "--saves-only"]);
    const r = intv("run", compiledMlps, "--inputs", mixed, "--out", out, "--saves-only", "--resume");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /was made with other inputs; it cannot be resumed with these/);
  });
});

describe("--saves-only", () => {
  test("the model is loaded without what only its outputs need (GPT-2's lm_head and ln_f), and the saves are the same, byte for byte", async () => {
    const script = join(scratch, "mlps-only.intv");
    writeFileSync(script, "for l in 0..len(transformer.h) { save mlp[l] = transformer.h[l].mlp.output }\n");
    const { model } = await compile({ source: readFileSync(script, "utf8"), filename: script, model: GPT2 });
    const bytes = encodeModel(model!);
    const saves = new Set(model!.graph!.output!.map((o) => o.name!).filter((n) => n.startsWith("intv.save.")));
    const pruned = decodeModel(withOnlyOutputs(bytes, saves));
    const names = (m: typeof pruned) => m.graph!.node!.map((n) => n.name ?? "");
    assert.ok(names(model!).some((n) => n.includes("lm_head")), "the compiled model has lm_head");
    assert.deepEqual(names(pruned).filter((n) => /lm_head|ln_f/.test(n)), []);
    assert.deepEqual(pruned.graph!.initializer!.map((t) => t.name).filter((n) => /lm_head|ln_f/.test(n ?? "")), []);
    assert.deepEqual(pruned.graph!.output!.map((o) => o.name).sort(), [...saves].sort());
    // Every layer's MLP is still computed, and gives what the whole model gives.
    const input_ids: Tensor = { type: "int64", dims: [2, 5], data: BigInt64Array.from(tokens(10, 3)) };
    const [whole, only] = [await Runtime.load(bytes), await Runtime.load(bytes, { savesOnly: true })];
    try {
      const [a, b] = [await whole.run({ input_ids }), await only.run({ input_ids })];
      assert.equal(b.outputs.size, 0);
      assert.deepEqual([...b.saves.keys()], [...a.saves.keys()]);
      for (const [name, t] of a.saves) assert.deepEqual(b.saves.get(name), t, name);
    } finally {
      await whole.release();
      await only.release();
    }
  });
});

describe("worker threads", () => {
  test("a worker that dies fails its batch with a DatasetError (not a run waiting for ever)", async () => {
    const pool = await WorkerPool.start(compiledMlps, 1);
    try {
      const input_ids: Tensor = { type: "int64", dims: [1, 4], data: BigInt64Array.from([1n, 2n, 3n, 4n]) };
      const pending = pool.run(new Map([["input_ids", input_ids]]));
      // What node:worker_threads reports when a thread ends under a running batch.
      (pool as unknown as { slots: { worker: Worker }[] }).slots[0]!.worker.emit("exit", 134);
      await assert.rejects(pending, (e: Error) => e instanceof DatasetError && e.message === "a worker thread stopped (exit code 134)");
    } finally {
      await pool.release();
    }
  });
});

describe("refusals", () => {
  const cases: [string, string[], number, RegExp][] = [
    ["a result without a batch axis", [COMPILED, "--param", "scale=[1,1,1,1]", "--batch-size", "2"], 1,
      /^error: lines cannot be batched:\nerror: {3}output `ids_sum` \(int64\[\]\): it has no `batch` axis, so a batch's value cannot be split into its lines\nerror: run without --batch-size \(or with --saves-only/],
    ["--pad without an attention mask", [SAVE_MLPS, "--model", GPT2, "--batch-size", "2", "--pad"], 1, /^error: padding needs a model input `attention_mask`/],
    ["--pad without --batch-size", [SAVE_MLPS, "--model", GPT2, "--pad"], 2, /--pad pads the lines of a batch: give --batch-size N too/],
    ["--batch-size without --inputs", [SAVE_MLPS, "--model", GPT2, "--input", "input_ids=[[1]]", "--batch-size", "2"], 2, /--batch-size is for dataset runs: give --inputs too/],
  ];
  for (const [name, args, status, message] of cases) {
    test(name, () => {
      const jsonl = join(scratch, "two.jsonl");
      writeFileSync(jsonl, '{"input_ids": [[1, 2]], "x": [[1, 1, 1, 1]]}\n{"input_ids": [[3, 4]], "x": [[2, 2, 2, 2]]}\n');
      const data = args.includes("--input") ? [] : ["--inputs", args[0] === COMPILED ? jsonl : mixed];
      const r = intv("run", ...args, ...data, "--out", newDir());
      assert.equal(r.status, status, r.stderr);
      assert.match(r.stderr, message);
    });
  }

  test("the first batch is checked against per-line runs: a script that mixes the lines of a batch is stopped", () => {
    const script = join(scratch, "mix.intv");
    writeFileSync(script, "transformer.h[0].output = transformer.h[0].output + transformer.h[0].output[0]\nsave mlp = transformer.h[1].mlp.output\n");
    const r = intv("run", script, "--model", GPT2, "--inputs", ids, "--out", newDir(), "--batch-size", "4", "--saves-only");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /\[1\]: save `mlp` differs between the batched run and a run of the line alone \(element 0: .* alone, .* batched\): the model or the script does not treat the lines of a batch independently \(it mixes the examples of a batch\); run without --batch-size\n$/);
  });
});
