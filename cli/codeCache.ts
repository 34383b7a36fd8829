// Starting the installed CLI from V8's code cache. A command runs once per process, so most of its
// functions run once: V8 compiles each to bytecode on its first call, and for `intv check` that
// compiling was about a seventh of the command, for `intv compile` of the 654 MB model 80 ms
// (BENCHMARKS.md, start-up). Node 20 keeps no compile cache for ES modules, but a script compiled
// with node:vm takes `cachedData`: the bytecode of a run that compiled those functions before. So
// the installed `intv` (cli/launch.ts) runs the CLI as one CommonJS bundle (dist/bundle/cli.cjs,
// tools/bundle.ts) compiled here with a cache.
//
// One cache per command (`check`, `compile`, ...): a cache is read whole before the command starts,
// and one holding every command's functions made `inspect` slower than none. `--help`, `--version`
// and a mistyped command do not use the bundle: they start faster from the ES modules (cli/launch.ts).
// The first run of a command that finds no cache it can
// use saves one at its exit, holding what that run compiled, in $XDG_CACHE_HOME/intv (else
// ~/.cache/intv), named by a hash of the bundle's text, Node's version and the architecture.
// It is not remade: a first `check` that stopped at a syntax error leaves a cache without the
// compiler's functions, and later checks compile those as they would without a cache. Removing the
// folder starts over.
//
// V8 checks a cache before using it (its version and flags, the source's length) and compiles from
// the source when it does not fit, so a cache can cost the time to read it, never a wrong result;
// the hash in the name is what makes a rebuilt bundle of the same length miss its old cache.
// Failing to read or write a cache is never an error. INTV_CODE_CACHE=0 turns caching off.

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import vm from "node:vm";
import type { Io } from "./output.js";

/** What the bundle exports (cli/process.ts). */
export interface CliBundle {
  /** Runs `intv ARGV...` as the process (it exits with the command's status). */
  main(argv: readonly string[]): void;
  /** Runs a command with its output to `io`; resolves to its exit status. */
  runCli(argv: readonly string[], io: Io): Promise<number>;
}

// Node's own wrapper of a CommonJS module, so that the bundle runs as `require` would run it.
const WRAPPER_HEAD = "(function (exports, require, module, __filename, __dirname) { ";
const WRAPPER_TAIL = "\n});";

/**
 * Where the cache of `command` is kept for a bundle whose text hashes to `key` (see above);
 * undefined without a home folder.
 */
export function cachePath(key: string, command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  let root = env.XDG_CACHE_HOME;
  if (!root || !path.isAbsolute(root)) {
    const home = os.homedir();
    if (!home) return undefined;
    root = path.join(home, ".cache");
  }
  return path.join(root, "intv", `cli-${key}-${process.version}-${process.arch}-${command}.cache`);
}

/**
 * Compiles the bundle at `file` (with `cachedData` when given) and runs its top level, which
 * defines its modules and runs none of the CLI. `rejected` is V8's verdict on the cache.
 */
export function loadCli(file: string, cachedData?: Buffer): { script: vm.Script; cli: CliBundle; rejected: boolean } {
  const source = readFileSync(file, "utf8");
  // No `importModuleDynamically`: Node 20 needs an experimental flag for it, and a script from a
  // code cache loses it; the bundle has no `import()` (tools/bundle.ts checks).
  const script = new vm.Script(WRAPPER_HEAD + source + WRAPPER_TAIL, { filename: file, cachedData });
  const module = { exports: {} as CliBundle };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, path.dirname(file));
  return { script, cli: module.exports, rejected: cachedData !== undefined && script.cachedDataRejected === true };
}

/** Saves what `script` has compiled so far as the cache at `file`: a new file renamed into place. */
export function saveCache(script: vm.Script, file: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, file);
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing was written (the folder could not be made)
    }
  }
}

function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Runs `intv COMMAND ...` (`argv`) from the bundle at `file`, whose text hashes to `key`, with the
 * command's cache; when there was none it could use, saves one at exit, once the command has
 * compiled what it needs.
 */
export function runCached(file: string, key: string, argv: readonly string[]): void {
  const cache = process.env.INTV_CODE_CACHE === "0" ? undefined : cachePath(key, argv[0]!);
  const cached = cache === undefined ? undefined : readCache(cache);
  const { script, cli, rejected } = loadCli(file, cached);
  if (cache !== undefined && (cached === undefined || rejected)) process.once("exit", () => saveCache(script, cache));
  cli.main(argv);
}
