// Node's `crypto` and `child_process`, loaded when first used instead of when a module importing
// them is loaded.
//
// Why: every command loads the command line's module, and `inspect` the model half of the
// compiler, which imported them at the top (for a hash, a temporary file's name, `dot`). An ES
// import of `node:crypto` costs 6 to 10 ms of start-up (its exports are enumerated for the module
// namespace, which loads Web Crypto behind a getter), `node:child_process` 3 to 8 ms; `intv
// --help` is about 200 ms in all (BENCHMARKS.md, start-up). `require` of a builtin is synchronous,
// so the callers stay synchronous.
//
// The types are the few members intv uses, not Node's: these declarations are published, and a
// project using intv's types need not have Node's (test/build-step type-checks one without them).

import { createRequire } from "node:module";

const load = createRequire(import.meta.url);

export interface Hash {
  update(data: string | Uint8Array): Hash;
  digest(encoding: "hex"): string;
}

export interface NodeCrypto {
  randomBytes(size: number): { toString(encoding: "hex"): string };
  createHash(algorithm: "sha256"): Hash;
}

export interface SpawnResult {
  status: number | null;
  stdout: Uint8Array;
  stderr: { toString(): string };
  error?: Error;
}

export interface NodeChildProcess {
  spawnSync(command: string, args: readonly string[], options: { input: string; maxBuffer: number }): SpawnResult;
}

/** `node:crypto`, loaded on first use. */
export function nodeCrypto(): NodeCrypto {
  return load("node:crypto") as NodeCrypto;
}

/** `node:child_process`, loaded on first use. */
export function nodeChildProcess(): NodeChildProcess {
  return load("node:child_process") as NodeChildProcess;
}
