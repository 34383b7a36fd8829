// What `intv compile`'s arguments say it reads and writes, checked against one another before
// anything is read: the script, the model, the output (unless --triton names a folder), the
// manifest and --external-data, none of which may be another. Both the command (commands/compile.ts)
// and the installed `intv` before it loads the command line (cli/launch.ts, to start the copy of a
// large model early: cli/earlyCopy.ts) read the arguments through this, so they cannot disagree.

import { statSync } from "node:fs";
import path from "node:path";
import { UsageError, type ParsedArgs } from "./args.js";
import { sameFile } from "./files.js";

/** The limit options (positive integers), with the compiler's names for them (compileOptions.ts). */
export const LIMIT_OPTIONS = [
  ["max-source-bytes", "maxSourceBytes"],
  ["max-statements", "maxStatements"],
  ["max-depth", "maxDepth"],
  ["max-nodes", "maxNodes"],
] as const;

export interface CompileTargets {
  script: string;
  model: string;
  /** `--output`; undefined with `--triton` (its path is made once the script has been read). */
  out: string | undefined;
  manifest: string | undefined;
  externalData: string | undefined;
  /** `--external-data` relative to the output's folder. */
  dataLocation: string | undefined;
  sync: boolean;
}

/** The script's path (the first argument), which must not be a model. */
export function scriptArgument(args: ParsedArgs): string {
  const script = args.positionals[0]!;
  if (/\.onnx$/i.test(script)) throw new UsageError(`\`${script}\` is a model; the first argument is the script (.intv)`);
  return script;
}

/**
 * The arguments' files, or a UsageError saying which two collide. With --triton, the output is
 * `tritonOut` once its path is known (then everything is checked again against it).
 */
export function compileTargets(args: ParsedArgs, tritonOut?: string): CompileTargets {
  const script = scriptArgument(args);
  const model = args.string("model")!;
  const out = args.string("output") ?? tritonOut;
  if (args.string("triton") === undefined && out === undefined) throw new UsageError("missing option `--output OUT.onnx` (or `--triton DIR`)");
  const manifest = args.string("manifest");
  const externalData = args.string("external-data");
  if (out !== undefined) {
    if (sameFile(out, model)) throw new UsageError(`-o \`${out}\` is the input model; intv never overwrites it`);
    if (sameFile(out, script)) throw new UsageError(`-o \`${out}\` is the script`);
  }
  // --manifest could name the input model or the script too (found by test/reliability-files.test.ts).
  if (manifest !== undefined) {
    for (const [file, what] of [[model, "the input model"], [script, "the script"], [out, "the output model"]] as const) {
      if (file !== undefined && sameFile(manifest, file)) throw new UsageError(`--manifest \`${manifest}\` is ${what}; intv never overwrites it`);
    }
  }
  if (externalData !== undefined) {
    for (const [file, what] of [[model, "the input model"], [script, "the script"], [out, "the output model"], [manifest, "the manifest"]] as const) {
      if (file !== undefined && sameFile(externalData, file)) throw new UsageError(`--external-data \`${externalData}\` is ${what}; intv never overwrites it`);
    }
  }
  const dataLocation = externalData === undefined || out === undefined ? undefined : externalDataLocation(externalData, out);
  // The limits are read with the script (compileOptions.ts); their usage errors come here, first.
  for (const [option] of LIMIT_OPTIONS) args.positiveInt(option);
  return { script, model, out, manifest, externalData, dataLocation, sync: args.flag("fsync") };
}

/**
 * Whether the compile writes its output over a copy of the model made from the start (common/
 * backgroundCopy.ts): not with --external-data (the weights go elsewhere), not with --fsync
 * (writing from scratch flushes as it goes, which measured faster than flushing a copy at the
 * end: BENCHMARKS.md), not when the script is not a file (that error comes at once, and a copy
 * would make it wait). The copy itself is made only for a model of 64 MiB or more.
 */
export function copiesModel(t: CompileTargets): t is CompileTargets & { out: string } {
  return t.out !== undefined && t.externalData === undefined && !t.sync && isFile(t.script);
}

function isFile(file: string): boolean {
  try {
    return statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false; // ENOTDIR, ELOOP, ENAMETOOLONG: reading the script says so
  }
}

/** `--external-data FILE` as a location relative to the output's folder (it must be inside it). */
export function externalDataLocation(file: string, out: string): string {
  const location = path.relative(path.dirname(path.resolve(out)), path.resolve(file));
  if (location === "" || location.split(path.sep).includes("..") || path.isAbsolute(location)) {
    throw new UsageError(`--external-data \`${file}\` must be in the folder of -o \`${out}\` (or below it): the model refers to it by a relative path`);
  }
  return location.split(path.sep).join("/");
}
