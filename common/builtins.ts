// Node's `crypto` and `child_process`, loaded when first used instead of when a module importing
// them is loaded.
//
// Why: every command loads the command line's module, and `inspect` the model half of the
// compiler, which imported them at the top (for a hash, a temporary file's name, `dot`). An ES
// import of `node:crypto` costs 6 to 10 ms of start-up (its exports are enumerated for the module
// namespace, which loads Web Crypto behind a getter), `node:child_process` 3 to 8 ms; `intv
// --help` is about 200 ms in all (BENCHMARKS.md, start-up). `require` of a builtin is synchronous,
// so the callers stay synchronous.

import { createRequire } from "node:module";

const load = createRequire(import.meta.url);

/** `node:crypto`, loaded on first use. */
export function nodeCrypto(): typeof import("node:crypto") {
  return load("node:crypto") as typeof import("node:crypto");
}

/** `node:child_process`, loaded on first use. */
export function nodeChildProcess(): typeof import("node:child_process") {
  return load("node:child_process") as typeof import("node:child_process");
}
