// `intv compile`: write the instrumented model (atomically; never over the input model).

import { realpathSync } from "node:fs";
import { writeFile, rename, unlink } from "node:fs/promises";
import path from "node:path";
import type { Command } from "../command.js";
import { COMPILE_OPTIONS, compileOptionsFrom } from "../compileOptions.js";
import { UsageError } from "../args.js";
import { CliError, EXIT, printDiagnostics } from "../output.js";

/** True when `a` and `b` name the same file, whatever the spelling or symlinks. */
export function sameFile(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      try {
        return path.join(realpathSync(path.dirname(path.resolve(p))), path.basename(p));
      } catch {
        return path.resolve(p);
      }
    }
  };
  return real(a) === real(b);
}

export const compileCommand: Command = {
  name: "compile",
  summary: "compile a script and a model into an instrumented ONNX model",
  usage: ["intv compile SCRIPT.intv --model MODEL.onnx -o OUT.onnx [--manifest OUT.json]"],
  description: "The output is a standard ONNX model: the model's own outputs keep their names, each save is an extra output, each param an extra input. The manifest (saves, params, passes) is stored in the model's metadata under `intv.manifest`; --manifest also writes it as JSON. Files are written atomically, and the input model is never overwritten.",
  positionals: [{ name: "SCRIPT.intv" }],
  options: [
    ...COMPILE_OPTIONS,
    { name: "output", short: "o", value: "OUT.onnx", required: true, description: "where to write the compiled model" },
    { name: "manifest", value: "OUT.json", description: "also write the manifest as JSON" },
  ],
  async run(args, io) {
    // Loaded here, so that `intv --help` and other commands do not pay for the compiler.
    const { compile, hasErrors, writeModelFile } = await import("../../compiler/index.js");
    const options = await compileOptionsFrom(args);
    const out = args.string("output")!;
    const modelPath = options.model as string;
    if (sameFile(out, modelPath)) throw new UsageError(`-o \`${out}\` is the input model; intv never overwrites it`);
    if (sameFile(out, options.filename)) throw new UsageError(`-o \`${out}\` is the script`);
    const result = await compile(options);
    printDiagnostics(io, result.diagnostics, result.sources);
    if (hasErrors(result.diagnostics) || !result.model || !result.manifest) return EXIT.rejected;
    try {
      await writeModelFile(out, result.model, { sourceDir: path.dirname(path.resolve(modelPath)) });
      const manifestPath = args.string("manifest");
      if (manifestPath) {
        const tmp = `${manifestPath}.intv-tmp-${process.pid}`;
        try {
          await writeFile(tmp, `${JSON.stringify(result.manifest, null, 2)}\n`);
          await rename(tmp, manifestPath);
        } catch (e) {
          await unlink(tmp).catch(() => undefined);
          throw e;
        }
      }
    } catch (e) {
      throw new CliError(`cannot write \`${out}\`: ${(e as Error).message}`);
    }
    const m = result.manifest;
    io.stderr.write(`wrote ${out}: ${m.saves.length} save${m.saves.length === 1 ? "" : "s"}, ${m.params.length} param${m.params.length === 1 ? "" : "s"}, ${m.passes.length} pass${m.passes.length === 1 ? "" : "es"}\n`);
    return EXIT.ok;
  },
};
