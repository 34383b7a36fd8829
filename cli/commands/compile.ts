// `intv compile`: write the instrumented model (atomically; never over the input model).

import { rm } from "node:fs/promises";
import path from "node:path";
import { BackgroundCopy, commitTemporary, writeTemporary, type StartedCopy } from "../../common/index.js";
import type { CompileOptions } from "../../compiler/index.js";
import type { Command } from "../command.js";
import { COMPILE_OPTIONS, compileOptionsFrom } from "../compileOptions.js";
import { compileTargets, copiesModel, type CompileTargets } from "../compileTargets.js";
import { startModelCopy, takeEarlyCopy } from "../earlyCopy.js";
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
    // The arguments are checked before anything is read (compileTargets.ts), so that the copy
    // below starts before the compiler is loaded (60 ms, which the copy then runs beside) and a
    // usage error never waits for a copy. With --triton, the output's folder is made only once the
    // script has been read (a missing script makes nothing), and checked again with it.
    // The installed `intv` may have started the copy below already, before it loaded this
    // (cli/earlyCopy.ts): taken first, so that an error on the way does not leave it behind.
    const early = takeEarlyCopy();
    let targets: CompileTargets;
    let tritonOptions: CompileOptions | undefined;
    const triton = args.string("triton");
    try {
      targets = compileTargets(args);
      tritonOptions = triton === undefined ? undefined : await compileOptionsFrom(args);
      if (triton !== undefined && targets.out === undefined) targets = compileTargets(args, await tritonModelPath(triton, args, targets.script));
    } catch (e) {
      if (early !== undefined) BackgroundCopy.adopt(early).abandon();
      throw e;
    }
    const { model: modelPath, manifest: manifestPath, dataLocation, sync } = targets;
    const out = targets.out!;
    // A large model's output starts as a copy of it, made by the kernel on another thread while
    // the compile runs (common/backgroundCopy.ts); writeModelFile patches it into the compiled
    // model, or removes it.
    const copy = modelCopy(targets, early);
    try {
      // Loaded here, so that `intv --help` and other commands do not pay for the compiler.
      const { compileForWrite, hasErrors, writeModelFile, OnnxFormatError } = await import("../../compiler/index.js");
      const options = tritonOptions ?? (await compileOptionsFrom(args));
      // The model is written and nothing in it edited: its unchanged nodes need not be frozen.
      const result = await compileForWrite(options);
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

/**
 * The copy of the model to write the output over, when the compile wants one (compileTargets.ts):
 * the one the launcher started for these very files, else one started here. A copy the launcher
 * started for other files (it read the arguments differently) is abandoned.
 */
function modelCopy(targets: CompileTargets, early: StartedCopy | undefined): BackgroundCopy | undefined {
  const wanted = copiesModel(targets);
  if (early !== undefined) {
    const copy = BackgroundCopy.adopt(early);
    if (wanted && early.input === path.resolve(targets.model) && early.output === path.resolve(targets.out)) return copy;
    copy.abandon();
  }
  if (!wanted) return undefined;
  const started = startModelCopy(targets);
  return started === undefined ? undefined : BackgroundCopy.adopt(started);
}
