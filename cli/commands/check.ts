// `intv check`: every diagnostic of a script against a model, without writing anything.

import type { Command } from "../command.js";
import { COMPILE_OPTIONS, compileOptionsFrom } from "../compileOptions.js";
import { EXIT, printDiagnostics } from "../output.js";

export const checkCommand: Command = {
  name: "check",
  summary: "report every error and warning in a script, without writing anything",
  usage: ["intv check SCRIPT.intv --model MODEL.onnx [--json]"],
  description: "Exit status 0 when there are no errors (warnings allowed), 1 otherwise. --json prints the diagnostics as data (an array of {code, severity, message, span, labels, notes, help}) on stdout.",
  positionals: [{ name: "SCRIPT.intv" }],
  options: [...COMPILE_OPTIONS, { name: "json", description: "print the diagnostics as JSON on stdout" }],
  async run(args, io) {
    // Loaded here, so that `intv --help` and other commands do not pay for the compiler.
    const { checkScript, hasErrors } = await import("../../compiler/index.js");
    const result = await checkScript(await compileOptionsFrom(args));
    if (args.flag("json")) io.stdout.write(`${JSON.stringify(result.diagnostics, null, 2)}\n`);
    else {
      printDiagnostics(io, result.diagnostics, result.sources);
      const errors = result.diagnostics.filter((d) => d.severity === "error").length;
      const warnings = result.diagnostics.filter((d) => d.severity === "warning").length;
      io.stderr.write(errors === 0 ? `ok: no errors${warnings ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : ""}\n` : `${errors} error${errors === 1 ? "" : "s"}${warnings ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : ""}\n`);
    }
    return hasErrors(result.diagnostics) ? EXIT.rejected : EXIT.ok;
  },
};
