// The copy of a large model that `intv compile` writes its output over (common/backgroundCopy.ts),
// started by the installed `intv` (cli/launch.ts) before it loads the command line: loading that
// takes 60–100 ms (reading the 1.3 MB bundle, V8's code cache), and with the compile's own work
// cut down the compile ended waiting for the copy (BENCHMARKS.md, I/O). The arguments are read by
// the command's own parser and checked by the command's own code (compileTargets.ts), so the copy
// starts only when the command will want it: a usage error never waits for a copy. The started
// copy is handed over as plain data in a global (the command's BackgroundCopy class is another
// module's), and the command adopts it only when it names the files the command itself read —
// otherwise it abandons it and starts its own.

import path from "node:path";
import { beginCopy, removeStaleTemporaries, type StartedCopy } from "../common/index.js";
import { parseArgs, type OptionSpec, type PositionalSpec } from "./args.js";
import { compileTargets, copiesModel, type CompileTargets } from "./compileTargets.js";

const KEY = Symbol.for("intv.compile.earlyCopy");
type Holder = { [KEY]?: StartedCopy };

/** `intv compile ARGV...` (the arguments after `compile`), with the command's options: start its copy. */
export function startEarlyCopy(argv: readonly string[], options: readonly OptionSpec[], positionals: readonly PositionalSpec[]): void {
  try {
    const parsed = parseArgs(argv, options, positionals);
    if (parsed.help) return;
    const targets = compileTargets(parsed.args);
    if (!copiesModel(targets)) return;
    const started = startModelCopy(targets);
    if (started !== undefined) (globalThis as Holder)[KEY] = started;
  } catch {
    // A usage error: the command reports it, in its own words.
  }
}

/**
 * Starts the copy of the model that the output is written over (by the launcher, or by the
 * command when the launcher did not); undefined for a model under 64 MiB. A copy left by a compile
 * killed before (Ctrl-C) is removed first (disk space).
 */
export function startModelCopy(targets: CompileTargets & { out: string }): StartedCopy | undefined {
  removeStaleTemporaries(path.dirname(path.resolve(targets.out)));
  return beginCopy(targets.model, targets.out);
}

/** The copy the launcher started, if any (handed over once). */
export function takeEarlyCopy(): StartedCopy | undefined {
  const holder = globalThis as Holder;
  const started = holder[KEY];
  delete holder[KEY];
  return started;
}
