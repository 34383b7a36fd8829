// Files, through the command line: outputs are written atomically (a failed or interrupted write
// leaves what was there, and no half-written model); the input model and the script are never
// overwritten, whatever the spelling of the path; `load` and `import` read only inside the
// script's folder unless `--allow-path` grants another.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { decodeModel } from "../compiler/onnx/index.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = join(ROOT, "dist/cli/main.js");
const scratch = mkdtempSync(join(tmpdir(), "intv-files-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

let dirs = 0;
/** A fresh folder with the model and a script that compiles. */
function workspace(): { dir: string; model: string; script: string } {
  const dir = join(scratch, `w${++dirs}`);
  mkdirSync(dir);
  const model = join(dir, "model.onnx");
  copyFileSync(join(ROOT, "test/fixtures/gpt2/model.onnx"), model);
  const script = join(dir, "s.intv");
  writeFileSync(script, "save h = transformer.h[0].output\n");
  return { dir, model, script };
}

function intv(args: string[], options: { cwd?: string; node?: string[] } = {}): { status: number | null; signal: NodeJS.Signals | null; stderr: string } {
  const r = spawnSync(process.execPath, [...(options.node ?? []), MAIN, ...args], { cwd: options.cwd ?? ROOT, encoding: "utf8" });
  return { status: r.status, signal: r.signal, stderr: r.stderr };
}

const temporaries = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith(".intv-tmp"));
const MODEL_BYTES = readFileSync(join(ROOT, "test/fixtures/gpt2/model.onnx"));

describe("outputs are written atomically", () => {
  test("-o into a folder that does not exist: an error, nothing created", () => {
    const { dir, model, script } = workspace();
    const r = intv(["compile", script, "--model", model, "-o", join(dir, "nodir", "out.onnx")]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, `error: cannot write \`${join(dir, "nodir", "out.onnx")}\`: the folder \`${join(dir, "nodir")}\` does not exist\n`);
    assert.equal(existsSync(join(dir, "nodir")), false);
    assert.deepEqual(temporaries(dir), []);
  });

  test("-o naming a folder: an error, the folder untouched, no temporary file left", () => {
    const { dir, model, script } = workspace();
    mkdirSync(join(dir, "out"));
    const r = intv(["compile", script, "--model", model, "-o", join(dir, "out")]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^error: cannot write `.*out`: it is a folder\n$/);
    assert.deepEqual(readdirSync(join(dir, "out")), []);
    assert.deepEqual(temporaries(dir), []);
  });

  test("a read-only folder: an error, nothing written", (t) => {
    if (process.getuid?.() === 0) {
      t.skip("root writes into read-only folders; the other failures here cover the same path");
      return;
    }
    const { dir, model, script } = workspace();
    const ro = join(dir, "ro");
    mkdirSync(ro, { mode: 0o555 });
    const r = intv(["compile", script, "--model", model, "-o", join(ro, "out.onnx")]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /permission denied/);
    assert.deepEqual(readdirSync(ro), []);
  });

  test("an existing output is replaced only on success", () => {
    const { dir, model, script } = workspace();
    const out = join(dir, "out.onnx");
    writeFileSync(out, "OLD");
    // The script is rejected.
    const bad = join(dir, "bad.intv");
    writeFileSync(bad, "save h = transformer.h[99].output\n");
    assert.equal(intv(["compile", bad, "--model", model, "-o", out]).status, 1);
    assert.equal(readFileSync(out, "utf8"), "OLD");
    // The manifest cannot be written: the model is not written either.
    const r = intv(["compile", script, "--model", model, "-o", out, "--manifest", join(dir, "nodir", "m.json")]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^error: cannot write `.*m\.json`: the folder `.*nodir` does not exist\n$/);
    assert.equal(readFileSync(out, "utf8"), "OLD");
    // Success: a complete model in its place, with its manifest, and no temporary file.
    const ok = intv(["compile", script, "--model", model, "-o", out, "--manifest", join(dir, "m.json")]);
    assert.equal(ok.status, 0, ok.stderr);
    const manifest = JSON.parse(readFileSync(join(dir, "m.json"), "utf8")) as { saves: { name: string; output: string }[] };
    assert.equal(manifest.saves[0]!.name, "h");
    assert.equal(decodeModel(new Uint8Array(readFileSync(out))).graph?.output?.some((o) => o.name === manifest.saves[0]!.output), true);
    assert.deepEqual(temporaries(dir), []);
  });

  // The write itself fails or the process dies half-way: a preloaded module makes the first write
  // to a file (through a file handle, or fs.writeSync, which the model's writer uses: a file
  // descriptor above 2) write half its bytes, then throw (EIO) or kill the process where it stands.
  const preload = (mode: "fail" | "kill"): string => {
    const file = join(scratch, `preload-${mode}.mjs`);
    const failure = mode === "kill" ? 'process.kill(process.pid, "SIGKILL");' : 'throw Object.assign(new Error("i/o error"), { code: "EIO" });';
    writeFileSync(file, `
import fs from "node:fs";
import { open } from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
const probe = await open(join(tmpdir(), "intv-preload-probe-${process.pid}"), "w");
const proto = Object.getPrototypeOf(probe);
await probe.close();
const write = proto.write;
let calls = 0;
proto.write = async function (buffer, offset = 0, length = buffer.length - offset, ...rest) {
  if (++calls === 1) {
    await write.call(this, buffer, offset, Math.floor(length / 2), ...rest);
    ${failure}
  }
  return write.call(this, buffer, offset, length, ...rest);
};
const writeSync = fs.writeSync;
fs.writeSync = function (fd, buffer, offset = 0, length = buffer.length - offset, ...rest) {
  if (fd > 2 && typeof buffer !== "string" && ++calls === 1) {
    writeSync.call(fs, fd, buffer, offset, Math.floor(length / 2), ...rest);
    ${failure}
  }
  return writeSync.call(fs, fd, buffer, offset, length, ...rest);
};
syncBuiltinESMExports();
`);
    return pathToFileURL(file).href;
  };

  test("a write that fails half-way leaves the old output and no temporary file", () => {
    const { dir, model, script } = workspace();
    const out = join(dir, "out.onnx");
    writeFileSync(out, "OLD");
    const r = intv(["compile", script, "--model", model, "-o", out], { node: ["--import", preload("fail")] });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^error: cannot write `.*out\.onnx`: i\/o error\n$/);
    assert.equal(readFileSync(out, "utf8"), "OLD");
    assert.deepEqual(temporaries(dir), []);
  });

  test("a process killed half-way through the write leaves the old output (and only a temporary file)", () => {
    const { dir, model, script } = workspace();
    const out = join(dir, "out.onnx");
    writeFileSync(out, "OLD");
    const r = intv(["compile", script, "--model", model, "-o", out], { node: ["--import", preload("kill")] });
    assert.equal(r.signal, "SIGKILL", r.stderr);
    assert.equal(readFileSync(out, "utf8"), "OLD");
    assert.equal(temporaries(dir).length, 1, "the half-written model is under a temporary name, never under out.onnx");
    rmSync(join(tmpdir(), `intv-preload-probe-${process.pid}`), { force: true });
  });
});

describe("the input model and the script are never overwritten", () => {
  const refused = (args: string[], message: RegExp, cwd?: string): void => {
    const r = intv(args, { cwd });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, message);
  };

  test("-o equal to the model: same path, another spelling, a symlink, relative to another folder", () => {
    const { dir, model, script } = workspace();
    mkdirSync(join(dir, "x"));
    symlinkSync(model, join(dir, "link.onnx"));
    const spellings = [model, `${dir}/x/../model.onnx`, `${dir}/nox/../model.onnx`, `${dir}//./model.onnx`, join(dir, "link.onnx")];
    for (const out of spellings) refused(["compile", script, "--model", model, "-o", out], /-o `.*` is the input model; intv never overwrites it/);
    // Relative paths, from the model's folder and from elsewhere.
    refused(["compile", "s.intv", "--model", "model.onnx", "-o", "./x/../model.onnx"], /is the input model/, dir);
    refused(["compile", script, "--model", relative(ROOT, model), "-o", model], /is the input model/);
    // The model passed through a symlink, -o the real file.
    refused(["compile", script, "--model", join(dir, "link.onnx"), "-o", model], /is the input model/);
    assert.ok(readFileSync(model).equals(MODEL_BYTES));
    assert.deepEqual(readdirSync(dir).sort(), ["link.onnx", "model.onnx", "s.intv", "x"]);
  });

  test("-o, --manifest or --svg equal to the model or the script", () => {
    const { dir, model, script } = workspace();
    const out = join(dir, "out.onnx");
    refused(["compile", script, "--model", model, "-o", `${dir}/x/../s.intv`], /-o `.*` is the script/);
    refused(["compile", script, "--model", model, "-o", out, "--manifest", `${dir}/./model.onnx`], /--manifest `.*` is the input model/);
    refused(["compile", script, "--model", model, "-o", out, "--manifest", script], /--manifest `.*` is the script/);
    refused(["compile", script, "--model", model, "-o", out, "--manifest", out], /--manifest `.*` is the output model/);
    refused(["graph", script, "--model", model, "--svg", `${dir}/x/../model.onnx`], /--svg `.*` is the input model/);
    refused(["graph", script, "--model", model, "--svg", script], /--svg `.*` is the script/);
    assert.ok(readFileSync(model).equals(MODEL_BYTES));
    assert.equal(readFileSync(script, "utf8"), "save h = transformer.h[0].output\n");
    assert.equal(existsSync(out), false);
  });

  test("-o a hard link to the model: allowed, and the model keeps its bytes (the output is a new file)", () => {
    const { dir, model, script } = workspace();
    const hard = join(dir, "hard.onnx");
    linkSync(model, hard);
    const r = intv(["compile", script, "--model", model, "-o", hard]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(readFileSync(model).equals(MODEL_BYTES));
    assert.ok(!readFileSync(hard).equals(MODEL_BYTES));
  });
});

describe("`load` and `import` read only inside the script's folder unless --allow-path grants more", () => {
  const setup = (): { dir: string; scripts: string; outside: string; model: string } => {
    const { dir, model } = workspace();
    const scripts = join(dir, "scripts");
    const outside = join(dir, "outside");
    mkdirSync(scripts);
    mkdirSync(outside);
    copyFileSync(join(ROOT, "examples/steer.npy"), join(outside, "v.npy"));
    copyFileSync(join(ROOT, "examples/steer.npy"), join(scripts, "inside.npy"));
    copyFileSync(model, join(outside, "m.onnx"));
    symlinkSync(join(outside, "v.npy"), join(scripts, "link.npy"));
    symlinkSync(outside, join(scripts, "linked-folder"));
    return { dir, scripts, outside, model };
  };
  const use = (path: string): string => `let v = load("${path}")\ntransformer.h[0].output[:, -1, :] += v\nsave h = transformer.h[0].output\n`;

  test("load: a path going out, an absolute path, a symlink, a symlinked folder", () => {
    const { scripts, outside, model } = setup();
    const cases: [string, string][] = [
      ["out", "../outside/v.npy"],
      ["absolute", join(outside, "v.npy")],
      ["symlink", "link.npy"],
      ["symlinked-folder", "linked-folder/v.npy"],
    ];
    for (const [name, path] of cases) {
      const script = join(scripts, `${name}.intv`);
      writeFileSync(script, use(path));
      const r = intv(["check", script, "--model", model]);
      assert.equal(r.status, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`error\\[E0402\\]: \`${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\` is outside the script's folder`), name);
      assert.match(r.stderr, /help: scripts read only files inside their own folder; allow another folder with `--allow-path DIR`/, name);
      const allowed = intv(["check", script, "--model", model, "--allow-path", outside]);
      assert.equal(allowed.status, 0, `${name} with --allow-path: ${allowed.stderr}`);
    }
    // Inside the folder: fine without a flag.
    const inside = join(scripts, "inside.intv");
    writeFileSync(inside, use("inside.npy"));
    assert.equal(intv(["check", inside, "--model", model]).status, 0);
  });

  test("--allow-path is relative to the working folder, and grants that folder only", () => {
    const { dir, scripts, model } = setup();
    const script = join(scripts, "s.intv");
    writeFileSync(script, use("../outside/v.npy"));
    assert.equal(intv(["check", script, "--model", model, "--allow-path", "outside"], { cwd: dir }).status, 0);
    const sibling = join(dir, "sibling");
    mkdirSync(sibling);
    const r = intv(["check", script, "--model", model, "--allow-path", sibling]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is outside the script's folder/);
  });

  test("import: outside refused, allowed with --allow-path; also through `run`", () => {
    const { scripts, outside, model } = setup();
    const script = join(scripts, "imp.intv");
    writeFileSync(script, 'import "../outside/m.onnx" as m\nsave logits = m(model.inputs["input_ids"])\n');
    const r = intv(["check", script, "--model", model]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /error\[E0402\]: `\.\.\/outside\/m\.onnx` is outside the script's folder/);
    assert.match(r.stderr, /--allow-path DIR/);
    assert.equal(intv(["check", script, "--model", model, "--allow-path", outside]).status, 0);
    const out = join(scripts, "run-out");
    const run = intv(["run", script, "--model", model, "--input", "input_ids=[[1,2,3]]", "--out", out]);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /is outside the script's folder/);
    assert.equal(existsSync(out), false);
  });
});

describe("scripts that are not text", () => {
  test("non-UTF-8 bytes, NUL, a byte-order mark: one message each, exit status 1 (the BOM is fine)", () => {
    const { dir, model } = workspace();
    const cases: [string, Uint8Array, number, RegExp][] = [
      ["latin1.intv", Buffer.from([0x73, 0x61, 0x76, 0x65, 0x20, 0x68, 0xe9, 0x20, 0x3d, 0x20, 0x31, 0x0a]), 1, /^error: .*latin1\.intv: not UTF-8 text\n$/],
      ["png.intv", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00]), 1, /^error: .*png\.intv: not UTF-8 text\n$/],
      ["nul.intv", Buffer.from("save h\0 = transformer.h[0].output\n"), 1, /error\[E0001\]: unexpected control character U\+0000/],
      ["bom.intv", Buffer.from("\uFEFFsave h = transformer.h[0].output\n"), 0, /^ok: no errors\n$/],
    ];
    for (const [name, bytes, status, message] of cases) {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      const r = intv(["check", file, "--model", model]);
      assert.equal(r.status, status, `${name}: ${r.stderr}`);
      assert.match(r.stderr, message, name);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, name);
    }
  });
});
