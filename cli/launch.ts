#!/usr/bin/env node
// The installed `intv` (package.json's `bin`: dist/bundle/intv.js, built by tools/bundle.ts).
// A command (`intv check ...`) runs from the CLI's one-file bundle next to it, cli.cjs, with V8's
// code cache of that command (cli/codeCache.ts says why and how). Anything else — `--help`,
// `--version`, a mistyped command — runs from the CLI's ES modules (cli.js and the chunks it
// imports, 80 KB): the bundle's 1.3 MB would take longer to read and compile than the help takes.
// INTV_COMMANDS, the command names, is written in when the bundle is built, so that choosing needs
// nothing of the CLI.

import path from "node:path";
import { fileURLToPath } from "node:url";
import type { OptionSpec, PositionalSpec } from "./args.js";
import { runCached } from "./codeCache.js";
import { startEarlyCopy } from "./earlyCopy.js";

declare const INTV_COMMANDS: readonly string[];
/** `intv compile`'s options and positionals (names and values only), written in as INTV_COMMANDS is. */
declare const INTV_COMPILE_ARGS: { options: readonly OptionSpec[]; positionals: readonly PositionalSpec[] };

const argv = process.argv.slice(2);
if (argv[0] !== undefined && INTV_COMMANDS.includes(argv[0])) {
  // A large model's copy starts now, beside the loading of the command line (cli/earlyCopy.ts).
  if (argv[0] === "compile") startEarlyCopy(argv.slice(1), INTV_COMPILE_ARGS.options, INTV_COMPILE_ARGS.positionals);
  runCached(path.join(path.dirname(fileURLToPath(import.meta.url)), "cli.cjs"), argv);
} else {
  // Left as an import of the file next to this one (tools/bundle.ts keeps it out of this bundle).
  const cli = (await import("./process.js")) as typeof import("./process.js");
  cli.main(argv);
}
