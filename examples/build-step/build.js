// The build step: compile an .intv script against an ONNX model with intv's API and write the
// instrumented model and its manifest. This is the only file that imports intv.
//
//   npm run build                              # steer.intv against ../gpt2.onnx
//   npm run build -- SCRIPT.intv [MODEL.onnx]  # another script or model
//
// Writes build/model.onnx (a standard ONNX file; the manifest is also in its metadata under
// `intv.manifest`) and build/manifest.json. On a rejected script it prints the compiler's
// diagnostics (file:line:col, the source line, a caret, help) and exits with status 1.

import { readFileSync, statSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { compileOrThrow, renderDiagnostics, startBackgroundCopy, writeModelFile, DiagnosticError, MANIFEST_KEY } from "intv";

const here = path.dirname(fileURLToPath(import.meta.url));
const [scriptArg = "steer.intv", modelArg = path.join("..", "gpt2.onnx")] = process.argv.slice(2);
const scriptPath = path.resolve(here, scriptArg);
const modelPath = path.resolve(here, modelArg);
const outDir = path.join(here, "build");

// Name the script relative to the working directory so diagnostics read `steer.intv:6:1: ...`.
const filename = path.relative(process.cwd(), scriptPath) || scriptPath;
const color = process.stderr.isTTY === true && !process.env.NO_COLOR;
const readSource = (file) => {
  try {
    return readFileSync(path.resolve(process.cwd(), file), "utf8");
  } catch {
    return undefined;
  }
};

/** Write a file through a temporary name so an interrupted build never leaves half a model. */
async function writeAtomic(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

async function main() {
  let source;
  try {
    source = await readFile(scriptPath, "utf8");
  } catch (e) {
    console.error(`error: cannot read the script ${filename}: ${e.message}`);
    return 1;
  }

  // A model of 64 MiB or more is copied by the kernel while it compiles, and writeModelFile
  // patches the compile's changes into the copy, as `intv compile` does (undefined for a smaller
  // one: it is written from scratch). The copy is removed if the model is not written.
  const modelOut = path.join(outDir, "model.onnx");
  await mkdir(outDir, { recursive: true });
  const copy = startBackgroundCopy(modelPath, modelOut);
  try {
    return await build(source, modelOut, copy);
  } finally {
    await copy?.discard();
  }
}

async function build(source, modelOut, copy) {
  let result;
  try {
    result = await compileOrThrow({ source, filename, model: modelPath });
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    process.stderr.write(`${renderDiagnostics(e.diagnostics, readSource, { color }).trimEnd()}\n`);
    const n = e.diagnostics.filter((d) => d.severity === "error").length;
    console.error(`build failed: ${n} error${n === 1 ? "" : "s"} in ${filename}`);
    return 1;
  }

  // Warnings (an unused param, a patch nothing reads, ...) do not stop the build.
  if (result.diagnostics.length > 0) {
    process.stderr.write(`${renderDiagnostics(result.diagnostics, result.sources, { color }).trimEnd()}\n`);
  }

  const { manifest } = result;
  // Streamed (the weights are copied from the input model, never held in memory) and atomic.
  await writeModelFile(modelOut, result.model, { copy });
  await writeAtomic(path.join(outDir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);

  const rel = (f) => path.relative(process.cwd(), path.join(outDir, f));
  console.log(`compiled ${filename} against ${path.relative(process.cwd(), modelPath)}`);
  console.log(`  wrote ${rel("model.onnx")} (${statSync(modelOut).size} bytes; manifest in its metadata under \`${MANIFEST_KEY}\`)`);
  console.log(`  wrote ${rel("manifest.json")}`);
  console.log(`  inputs: ${[...manifest.modelInputs.map((i) => i.name), ...manifest.params.map((p) => `${p.input} (param${p.hasDefault ? ", default fixed in the model" : ""})`)].join(", ")}`);
  console.log(`  saves:  ${manifest.saves.map((s) => `${s.name} → output \`${s.output}\``).join(", ")}`);
  return 0;
}

process.exitCode = await main();
