// The compiler's limits: each has its own diagnostic, is reached before time or memory run out,
// and is raised by its option (API `limits`) and its flag (command line). Also the limits that
// protect the stack and cannot be raised (E0003).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { compile, DEFAULT_LIMITS, type CompileOptions, type Diagnostic } from "../compiler/index.js";
import { decodeModel } from "../compiler/onnx/index.js";
import { MAX_EXPR_DEPTH, MAX_NESTING } from "../grammar/index.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = join(ROOT, "dist/cli/main.js");
const GPT2 = join(ROOT, "test/fixtures/gpt2/model.onnx");
const model = decodeModel(new Uint8Array(readFileSync(GPT2)));
const scratch = mkdtempSync(join(tmpdir(), "intv-limits-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

async function diagnose(source: string, limits: CompileOptions["limits"] = {}): Promise<Diagnostic[]> {
  const r = await compile({ source, filename: join(scratch, "s.intv"), model, limits });
  return r.diagnostics.filter((d) => d.severity === "error");
}

const codes = (ds: Diagnostic[]): string[] => ds.map((d) => d.code);

function intv(...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, encoding: "utf8" });
  return { status: r.status, stderr: r.stderr };
}

describe("limits through the API: each has its diagnostic and is raised by its option", () => {
  test("statements after unrolling (E0401)", async () => {
    // Known before unrolling: the loop's size.
    let ds = await diagnose("for l in 0..10 { let y = l }", { maxStatements: 5 });
    assert.deepEqual(codes(ds), ["E0401"]);
    assert.match(ds[0]!.message, /^the loop would unroll to 10 statements, more than the limit of 5$/);
    assert.match(ds[0]!.help!, /--max-statements N/);
    // Known only while unrolling: nested loops, each small.
    ds = await diagnose("for i in 0..3 { for j in 0..3 { let y = j } }", { maxStatements: 8 });
    assert.deepEqual(codes(ds), ["E0401"]);
    assert.equal(ds[0]!.message, "the script unrolls to more than 8 statements");
    // Calls of a `def` are inlined and count: doubling 30 times would be 2^30 calls in one statement.
    const doubling = `def f0(x) = x\n${Array.from({ length: 30 }, (_, i) => `def f${i + 1}(x) = f${i}(x) + f${i}(x)`).join("\n")}\nlet y = f30(1)`;
    ds = await diagnose(doubling);
    assert.deepEqual(codes(ds), ["E0401"]);
    assert.match(ds[0]!.help!, /each call of a `def` counts as a statement/);
    // Raised: the same scripts compile.
    assert.deepEqual(await diagnose("for l in 0..10 { let y = l }", { maxStatements: 11 }), []);
    assert.deepEqual(await diagnose("for i in 0..3 { for j in 0..3 { let y = j } }", { maxStatements: 13 }), []);
  });

  test("nesting of loops, passes and calls (E0404)", async () => {
    const loops = "for a in 0..1 { for b in 0..1 { for c in 0..1 { let y = c } } }";
    let ds = await diagnose(loops, { maxDepth: 2 });
    assert.deepEqual(codes(ds), ["E0404"]);
    assert.equal(ds[0]!.message, "loops, passes and calls nest deeper than 2");
    assert.deepEqual(await diagnose(loops, { maxDepth: 3 }), []);
    ds = await diagnose("def f(x) = f(x)\nlet y = f(1)");
    assert.deepEqual(codes(ds), ["E0404"]);
    assert.equal(ds[0]!.message, `function calls nest deeper than ${DEFAULT_LIMITS.maxDepth}`);
  });

  test("nodes created (E0404), counted as each node is added", async () => {
    const saves = "for l in 0..12 { save s[l] = transformer.h[l].mlp.output * 2 }";
    let ds = await diagnose(saves, { maxNodes: 5 });
    assert.deepEqual(codes(ds), ["E0404"], "reported once, not once per statement");
    assert.equal(ds[0]!.message, "the script adds more than 5 nodes");
    assert.match(ds[0]!.help!, /--max-nodes N/);
    assert.deepEqual(await diagnose(saves, { maxNodes: 1000 }), []);
    // One statement adding many nodes: unbind of a long axis.
    ds = await diagnose("param p: float32[100000]\nlet xs = unbind(p)\nsave s = xs[0]", { maxNodes: 1000 });
    assert.deepEqual(codes(ds), ["E0404"]);
    // Thousands of passes, each patching layer 0 (so each copies the model from there on).
    ds = await diagnose(Array.from({ length: 500 }, (_, i) => `pass p${i} { transformer.h[0].output *= 2 }`).join("\n"), { maxNodes: 20_000 });
    assert.deepEqual(codes(ds), ["E0404"]);
    // Nodes lowered into the branches of an If count too.
    const branchy = (await compile({ source: "for l in 0..50 { pre.output *= 3 }", filename: join(scratch, "s.intv"), model: join(ROOT, "test/fixtures/compiler/branchy.onnx"), limits: { maxNodes: 10 } })).diagnostics;
    assert.deepEqual(codes(branchy), ["E0404"]);
    // A list doubled by each statement.
    ds = await diagnose(`let a = [1]\n${"a = a + a\n".repeat(64)}`, { maxNodes: 1000 });
    assert.deepEqual(codes(ds), ["E0404"]);
    assert.equal(ds[0]!.message, "the list would have 1024 items, more than the limit of 1000");
  });

  test("script size (E0405), checked before parsing", async () => {
    const source = `# ${"x".repeat(1000)}\nsave h = transformer.h[0].output\n`;
    const ds = await diagnose(source, { maxSourceBytes: 1000 });
    assert.deepEqual(codes(ds), ["E0405"]);
    assert.match(ds[0]!.message, /^the script `.*s\.intv` is larger than the limit of 1000 bytes$/);
    assert.equal(ds[0]!.span, undefined);
    assert.deepEqual(await diagnose(source, { maxSourceBytes: 2000 }), []);
    // Bytes, not characters: 400 three-byte characters are 1200 bytes.
    assert.deepEqual(codes(await diagnose(`# ${"€".repeat(400)}\n`, { maxSourceBytes: 1000 })), ["E0405"]);
    assert.equal(DEFAULT_LIMITS.maxSourceBytes, 1 << 20);
  });

  test("a number default filling too many elements (E0501), instead of allocating gigabytes", async () => {
    const ds = await diagnose("param p: float32[1000000000] = 1.5\nsave s = p");
    assert.deepEqual(codes(ds), ["E0501"]);
    assert.match(ds[0]!.message, /would fill 1000000000 elements, more than 16777216/);
  });

  test("nesting the parser cannot take (E0003), not raisable: it protects the stack", async () => {
    const X = "transformer.h[0].output";
    let ds = await diagnose(`save x = ${"(".repeat(10_000)}${X}${")".repeat(10_000)}`);
    assert.deepEqual(codes(ds), ["E0003"]);
    assert.equal(ds[0]!.message, "brackets nest too deeply to parse");
    assert.equal(ds[0]!.span!.col, 10 + MAX_NESTING);
    ds = await diagnose(`save x = ${X}${" + 1".repeat(MAX_EXPR_DEPTH + 10)}`);
    assert.deepEqual(codes(ds), ["E0003"]);
    assert.equal(ds[0]!.message, "this expression nests too deeply to parse");
    ds = await diagnose(`save x = ${X}${" ** 1".repeat(20_000)}`);
    assert.deepEqual(codes(ds), ["E0003"]);
    // Within the limits, the same shapes compile.
    assert.deepEqual(await diagnose(`save x = ${"(".repeat(MAX_NESTING - 1)}${X}${")".repeat(MAX_NESTING - 1)}`), []);
    assert.deepEqual(await diagnose(`save x = ${X}${" + 1".repeat(MAX_EXPR_DEPTH - 10)}`), []);
    // Thousands of bad lines: the first 100 errors, then E0003, not a stack overflow.
    ds = await diagnose(") ] } = = + , ; . ..\n".repeat(5000));
    assert.equal(ds.length, 101);
    assert.equal(ds[100]!.code, "E0003");
    assert.match(ds[100]!.message, /^too many syntax errors \(\d+\) to go on$/);
  });

  test("an unknown limit is refused", async () => {
    await assert.rejects(compile({ source: "", filename: "s.intv", model, limits: { maxThings: 1 } as never }), /unknown limit `maxThings`/);
  });
});

describe("limits through the command line: each flag raises its limit", () => {
  const script = (name: string, text: string): string => {
    const file = join(scratch, name);
    writeFileSync(file, text);
    return file;
  };
  const cases: [string, string, string, string, string][] = [
    // flag, too low, high enough, script, code
    ["--max-statements", "5", "100", "for l in 0..10 { let y = l }\n", "E0401"],
    ["--max-depth", "2", "3", "for a in 0..1 { for b in 0..1 { for c in 0..1 { let y = c } } }\n", "E0404"],
    ["--max-nodes", "5", "1000", "for l in 0..12 { save s[l] = transformer.h[l].mlp.output * 2 }\n", "E0404"],
    ["--max-source-bytes", "100", "100000", `# ${"x".repeat(200)}\nsave h = transformer.h[0].output\n`, "E0405"],
  ];
  for (const [flag, low, high, text, code] of cases) {
    test(`${flag}`, () => {
      const file = script(`${flag.slice(2)}.intv`, text);
      const refused = intv("check", file, "--model", GPT2, flag, low);
      assert.equal(refused.status, 1, refused.stderr);
      assert.match(refused.stderr, new RegExp(`error\\[${code}\\]: .*\\b${low}\\b`));
      assert.match(refused.stderr, new RegExp(`help: raise the limit with \`${flag} N\``));
      assert.doesNotMatch(refused.stderr, /\n\s+at /, "no stack trace");
      const raised = intv("check", file, "--model", GPT2, flag, high);
      assert.equal(raised.status, 0, raised.stderr);
    });
  }

  test("a limit flag takes a positive whole number (usage error, exit 2)", () => {
    const file = script("ok.intv", "save h = transformer.h[0].output\n");
    for (const bad of ["0", "-1", "ten", "1.5"]) {
      const r = intv("check", file, "--model", GPT2, "--max-nodes", bad);
      assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /--max-nodes/);
    }
  });

  test("a script larger than the limit is not read to its end (a device never ends)", () => {
    const r = spawnSync(process.execPath, [MAIN, "check", "/dev/zero", "--model", GPT2], { cwd: ROOT, encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^error\[E0405\]: the script `\/dev\/zero` is larger than the limit of 1048576 bytes\n/);
  });
});
