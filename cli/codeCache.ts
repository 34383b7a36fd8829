// Starting the installed CLI from V8's code cache. A command runs once per process, so most of its
// functions run once: V8 compiles each to bytecode on its first call, and for `intv check` of the
// example that compiling was about a seventh of the command (BENCHMARKS.md, start-up). Node 20
// keeps no compile cache for ES modules, but a script compiled with node:vm takes `cachedData`:
// the bytecode of a run that compiled those functions before. So the installed `intv`
// (cli/launch.ts) runs a command from the CLI as one CommonJS bundle (dist/bundle/cli.cjs,
// tools/bundle.ts), compiled here with that command's cache.
//
// One cache per command (`check`, `compile`, ...): a cache is read whole before the command starts,
// and one holding every command's functions made `inspect` slower than none. The first run of a
// command that finds no cache it can use saves one at its exit, holding what that run compiled —
// unless it was `--help` or ended in a usage error (exit status 2), which compile little of the
// command. It is not remade: a first `check` that stopped at a syntax error leaves a cache without
// the compiler's functions, and later checks compile those as they would without a cache.
//
// What makes a cache safe to run (it is bytecode, run as the CLI):
// - its name has a hash of the bundle's path and text, hashed as read (V8 itself compares only the
//   text's length), with Node's version and the architecture: an edited or rebuilt bundle, or
//   another install, never meets another's cache;
// - the file holds a SHA-256 of its bytes, checked before V8 sees them: V8 checks a cache's header
//   (its version and flags) but not its contents, and a damaged one crashed or hung the command;
// - it is used only when it belongs to this user and no one else can write it (POSIX), and saved
//   only into a folder that belongs to this user (so `sudo intv` in a user's home neither runs nor
//   leaves behind what that user could write).
// A cache V8 refuses (other V8 flags, say) is replaced at exit. Failing to read or write a cache
// is never an error. Saving also removes caches and leftovers not written for CACHE_DAYS (one in
// use is then saved again by its next run).
// INTV_CODE_CACHE=0 turns caching off.

import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { isAscii } from "node:buffer";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import vm from "node:vm";
import { nodeCrypto } from "../common/index.js";

/** What the bundle exports (cli/process.ts). */
export interface CliBundle {
  /** Runs `intv ARGV...` as the process (it exits with the command's status). */
  main(argv: readonly string[]): void;
}

// Node's own wrapper of a CommonJS module, so that the bundle runs as `require` would run it.
const WRAPPER_HEAD = "(function (exports, require, module, __filename, __dirname) { ";
const WRAPPER_TAIL = "\n});";

/** A cache file: MAGIC, the SHA-256 of the rest, then V8's bytes. */
const MAGIC = Buffer.from("intv code cache 1\n");
const DIGEST = 32;

/** Caches and leftover temporary files older than this are removed when a cache is saved. */
export const CACHE_DAYS = 30;

/** The SHA-256 of `parts` in a row, as hex. */
function sha256(...parts: Array<string | Uint8Array>): string {
  const hash = nodeCrypto().createHash("sha256");
  for (const p of parts) hash.update(p);
  return hash.digest("hex");
}

/** The bundle at `file`: its text, and the key of its caches (a hash of its path and text). */
export function readBundle(file: string): { source: string; key: string } {
  const bytes = readFileSync(file);
  const key = sha256(path.resolve(file), "\0", bytes).slice(0, 16);
  // Latin-1 decodes ASCII as UTF-8 does, in a quarter of the time.
  return { source: bytes.toString(isAscii(bytes) ? "latin1" : "utf8"), key };
}

/**
 * The folder of the user's caches: $XDG_CACHE_HOME/intv, else ~/.cache/intv (a relative
 * XDG_CACHE_HOME is ignored, as the XDG spec says); undefined without a home folder.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  let root = env.XDG_CACHE_HOME;
  if (!root || !path.isAbsolute(root)) {
    let home: string;
    try {
      home = os.homedir(); // throws when neither HOME nor the user database has one
    } catch {
      return undefined;
    }
    if (!home) return undefined;
    root = path.join(home, ".cache");
  }
  return path.join(root, "intv");
}

/** The name of the cache of `command` for a bundle with `key` (see above). */
export function cacheName(key: string, command: string): string {
  return `cli-${key}-${process.version}-${process.arch}-${command}.cache`;
}

/**
 * Compiles the bundle's `source` (from `file`), with `cachedData` when given, and runs its top
 * level, which defines its modules and runs none of the CLI. `rejected` is V8's verdict on the cache.
 */
export function loadCli(file: string, source: string, cachedData?: Buffer): { script: vm.Script; cli: CliBundle; rejected: boolean } {
  // No `importModuleDynamically`: Node 20 needs an experimental flag for it, and a script from a
  // code cache loses it; the bundle has no `import()` (tools/bundle.ts checks).
  const script = new vm.Script(WRAPPER_HEAD + source + WRAPPER_TAIL, { filename: file, cachedData });
  const module = { exports: {} as CliBundle };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, path.dirname(file));
  return { script, cli: module.exports, rejected: cachedData !== undefined && script.cachedDataRejected === true };
}

/** Whether a file or folder can be trusted as this user's: theirs, and writable by no one else. */
function ownedByUser(st: { uid: number; mode: number }): boolean {
  const uid = process.getuid?.();
  return uid === undefined || (st.uid === uid && (st.mode & 0o022) === 0);
}

/** The V8 bytes of the cache at `file`, if it is this user's and whole (see above). */
export function readCache(file: string): Buffer | undefined {
  let bytes: Buffer;
  try {
    const fd = openSync(file, "r");
    try {
      if (!ownedByUser(fstatSync(fd))) return undefined;
      bytes = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const body = MAGIC.length + DIGEST;
  if (bytes.length <= body || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const data = bytes.subarray(body);
  return sha256(data) === bytes.subarray(MAGIC.length, body).toString("hex") ? data : undefined;
}

/**
 * Saves what `script` has compiled so far as the cache at `file`: a new file renamed into place.
 * Not common/atomicWrite.ts, which is asynchronous: this runs in the process's `exit` handler.
 */
export function saveCache(script: vm.Script, file: string): void {
  const dir = path.dirname(file);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!ownedByUser(statSync(dir))) return;
    const data = script.createCachedData();
    writeFileSync(tmp, Buffer.concat([MAGIC, Buffer.from(sha256(data), "hex"), data]), { mode: 0o600 });
    renameSync(tmp, file);
    removeStale(dir, Date.now() - CACHE_DAYS * 86_400_000);
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing was written (the folder could not be made)
    }
  }
}

/** Removes the caches and temporary files in `dir` last written before `before` (ms). */
function removeStale(dir: string, before: number): void {
  for (const name of readdirSync(dir)) {
    if (!/^cli-.*\.(cache|tmp)$/.test(name)) continue;
    const file = path.join(dir, name);
    try {
      if (statSync(file).mtimeMs < before) rmSync(file, { force: true });
    } catch {
      // gone already, or not ours to remove
    }
  }
}

/**
 * Runs `intv COMMAND ...` (`argv`) from the bundle at `file` with the command's cache; when there
 * was none it could use, saves one at exit (see above for when).
 */
export function runCached(file: string, argv: readonly string[]): void {
  const { source, key } = readBundle(file);
  const dir = process.env.INTV_CODE_CACHE === "0" ? undefined : cacheDir();
  const cache = dir === undefined ? undefined : path.join(dir, cacheName(key, argv[0]!));
  const cached = cache === undefined ? undefined : readCache(cache);
  const { script, cli, rejected } = loadCli(file, source, cached);
  const help = argv.includes("--help") || argv.includes("-h");
  if (cache !== undefined && !help && (cached === undefined || rejected)) {
    process.once("exit", (status) => {
      if (status === 0 || status === 1) saveCache(script, cache);
    });
  }
  cli.main(argv);
}
