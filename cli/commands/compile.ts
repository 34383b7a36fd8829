// `intv compile`: write the instrumented model (atomically; never over the input model).

import { statSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { commitTemporary, removeStaleTemporaries, startBackgroundCopy, writeTemporary } from "../../common/index.js";
import type { Command } from "../command.js";
import { COMPILE_OPTIONS, compileOptionsFrom, scriptArgument } from "../compileOptions.js";
import { UsageError } from "../args.js";
import { sameFile, writeProblem } from "../files.js";
import { CliError, EXIT, printDiagnostics } from "../output.js";
import { TRITON_OPTIONS, tritonModelPath, writeTritonConfig } from "./compileTriton.js";

export { sameFile };

export const compileCommand: Command = {
  name: "compile",
  summary: "compile a script and a model into an instrumented ONNX model",
  usage: [
    "intv compile SCRIPT.intv --model MODEL.onnx -o OUT.onnx [--manifest OUT.json] [--external-data OUT.onnx.data]",
    "intv compile SCRIPT.intv --model MODEL.onnx --triton DIR [--triton-name NAME]",
  ],
  description: "The output is a standard ONNX model: the model's own outputs keep their names, each save is an extra output, each param an extra input. The manifest (saves, params, passes) is stored in the model's metadata under `intv.manifest`; --manifest also writes it as JSON. Files are written atomically, and the input model is never overwritten.",
  positionals: [{ name: "SCRIPT.intv" }],
  options: [
    ...COMPILE_OPTIONS,
    { name: "output", short: "o", value: "OUT.onnx", description: "where to write the compiled model" },
    { name: "manifest", value: "OUT.json", description: "also write the manifest as JSON" },
    { name: "external-data", value: "FILE", description: "write the weights to FILE (in OUT.onnx's folder) instead of into the model, as ONNX external data" },
    { name: "fsync", description: "flush the written files to disk before they replace anything, so that they survive a power failure (as cp, intv leaves that to the system by default)" },
    ...TRITON_OPTIONS,
  ],
  async run(args, io) {
    // Every check of the arguments that needs neither the compiler nor the script's text comes
    // first, so that the copy below can start before the compiler is loaded (60 ms of a compile,
    // which the copy then runs beside) and a usage error never waits for a copy.
    const script = scriptArgument(args);
    const modelPath = args.string("model")!;
    const triton = args.string("triton");
    if (triton === undefined && args.string("output") === undefined) throw new UsageError("missing option `--output OUT.onnx` (or `--triton DIR`)");
    // --triton's folder is made only once the script has been read (a missing script makes nothing).
    const tritonOptions = triton === undefined ? undefined : await compileOptionsFrom(args);
    const out = args.string("output") ?? (await tritonModelPath(triton!, args, script));
    const manifestPath = args.string("manifest");
    const externalData = args.string("external-data");
    if (sameFile(out, modelPath)) throw new UsageError(`-o \`${out}\` is the input model; intv never overwrites it`);
    if (sameFile(out, script)) throw new UsageError(`-o \`${out}\` is the script`);
    // --manifest could name the input model or the script too (found by test/reliability-files.test.ts).
    if (manifestPath !== undefined) {
      for (const [file, what] of [[modelPath, "the input model"], [script, "the script"], [out, "the output model"]] as const) {
        if (sameFile(manifestPath, file)) throw new UsageError(`--manifest \`${manifestPath}\` is ${what}; intv never overwrites it`);
      }
    }
    if (externalData !== undefined) {
      for (const [file, what] of [[modelPath, "the input model"], [script, "the script"], [out, "the output model"], [manifestPath, "the manifest"]] as const) {
        if (file !== undefined && sameFile(externalData, file)) throw new UsageError(`--external-data \`${externalData}\` is ${what}; intv never overwrites it`);
      }
    }
    const dataLocation = externalData === undefined ? undefined : externalDataLocation(externalData, out);
    const sync = args.flag("fsync");
    // A large model's output starts as a copy of it, made by the kernel on another thread while
    // the compile runs (common/backgroundCopy.ts); writeModelFile patches it into the compiled
    // model, or removes it. Not with --fsync: writing from scratch flushes as it writes
    // (compiler/onnx/stream.ts), and a copy would be flushed whole at the end, which measured
    // slower (BENCHMARKS.md). Not when the script is not a file: that error comes at once
    // (compileOptionsFrom). A copy left by a compile killed before (Ctrl-C) goes first.
    removeStaleTemporaries(path.dirname(path.resolve(out)));
    const copy = externalData === undefined && !sync && isFile(script) ? startBackgroundCopy(modelPath, out) : undefined;
    try {
      // Loaded here, so that `intv --help` and other commands do not pay for the compiler.
      const { compile, hasErrors, writeModelFile, OnnxFormatError } = await import("../../compiler/index.js");
      const options = tritonOptions ?? (await compileOptionsFrom(args));
      const result = await compile(options);
      printDiagnostics(io, result.diagnostics, result.sources);
      if (hasErrors(result.diagnostics) || !result.model || !result.manifest) return EXIT.rejected;
      // The manifest is written to a temporary file first, so that when it cannot be written the model
      // is not either (a manifest in a missing folder used to fail after the model was in place).
      let manifestTmp: string | undefined;
      if (manifestPath !== undefined) {
        try {
          manifestTmp = await writeTemporary(manifestPath, `${JSON.stringify(result.manifest, null, 2)}\n`, { sync });
        } catch (e) {
          throw new CliError(writeProblem(manifestPath, e));
        }
      }
      try {
        await writeModelFile(out, result.model, { sourceDir: path.dirname(path.resolve(modelPath)), sync, copy, ...(dataLocation === undefined ? {} : { externalData: dataLocation }) });
      } catch (e) {
        if (manifestTmp) await rm(manifestTmp, { force: true });
        throw new CliError(e instanceof OnnxFormatError ? e.message : writeProblem(out, e));
      }
      if (manifestPath !== undefined && manifestTmp) {
        try {
          await commitTemporary(manifestTmp, manifestPath, { sync });
        } catch (e) {
          throw new CliError(writeProblem(manifestPath, e));
        }
      }
      if (triton !== undefined) {
        const tritonModel = await tritonModelPath(triton, args, options.filename);
        if (tritonModel !== out) await writeModelFile(tritonModel, result.model, { sourceDir: path.dirname(path.resolve(modelPath)), sync });
        io.stderr.write(`wrote ${await writeTritonConfig(tritonModel, args.positiveInt("triton-max-batch"))}\n`);
      }
      const m = result.manifest;
      io.stderr.write(`wrote ${out}: ${m.saves.length} save${m.saves.length === 1 ? "" : "s"}, ${m.params.length} param${m.params.length === 1 ? "" : "s"}, ${m.passes.length} pass${m.passes.length === 1 ? "" : "es"}\n`);
      return EXIT.ok;
    } finally {
      // Not written (rejected, or failed): removed at once, the process is about to exit.
      copy?.abandon();
    }
  },
};

function isFile(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** `--external-data FILE` as a location relative to the output's folder (it must be inside it). */
function externalDataLocation(file: string, out: string): string {
  const location = path.relative(path.dirname(path.resolve(out)), path.resolve(file));
  if (location === "" || location.split(path.sep).includes("..") || path.isAbsolute(location)) {
    throw new UsageError(`--external-data \`${file}\` must be in the folder of -o \`${out}\` (or below it): the model refers to it by a relative path`);
  }
  return location.split(path.sep).join("/");
}
