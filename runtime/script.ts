// Compile and run in one call. The compiled model (and its onnxruntime session) is cached in
// memory, keyed by the script text, the model file (path, size, modification time) and the
// options, so calling `runScript` in a loop compiles once.
//
// The cache does not see files the script itself reads (`import "x.onnx"`, `load("v.npy")`); call
// `clearScriptCache()` after changing those.

import { readFile, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { type Diagnostic, DiagnosticError, hasErrors, nodeCrypto } from "../common/index.js";
import type { InputValue } from "./inputs.js";
import { loadCompiled } from "./loadCompiled.js";
import { loadOnnxRuntime } from "./ort.js";
import { Runtime, type RunOptions, type RunResult, type RuntimeOptions } from "./runtime.js";

export interface RunScriptOptions {
  /** The script's file name, used in diagnostics; read from disk when `source` is absent. */
  script: string;
  /** The script's text. */
  source?: string;
  /** The ONNX model the script is written against. */
  model: string;
  /** Model inputs and params. */
  inputs?: Readonly<Record<string, InputValue>>;
  /** Folders outside the script's own that `import` and `load` may read. */
  allowPaths?: string[];
  runtime?: RuntimeOptions;
  run?: RunOptions;
}

export interface RunScriptResult extends RunResult {
  /** The compiler's warnings (errors are thrown as a DiagnosticError). */
  diagnostics: Diagnostic[];
}

const RUN_SCRIPT_KEYS = ["script", "source", "model", "inputs", "allowPaths", "runtime", "run"];
const CACHE_SIZE = 8;

interface Entry {
  runtime: Promise<{ runtime: Runtime; diagnostics: Diagnostic[] }>;
}

const cache = new Map<string, Entry>();

/**
 * Compile `script` against `model` (cached) and run it once. Throws DiagnosticError when the
 * script does not compile, and the runtime's errors (RuntimeInputError, RuntimeDiagnosticError)
 * when the run fails.
 */
export async function runScript(options: RunScriptOptions): Promise<RunScriptResult> {
  for (const key of Object.keys(options)) {
    if (!RUN_SCRIPT_KEYS.includes(key)) throw new TypeError(`unknown runScript option \`${key}\``);
  }
  const source = options.source ?? (await readFile(options.script, "utf8"));
  const model = resolve(options.model);
  const { size, mtimeMs } = await stat(model);
  const { sources: _sources, ...runtimeOptions } = options.runtime ?? {};
  const key = JSON.stringify([
    nodeCrypto().createHash("sha256").update(source).digest("hex"), options.script, model, size, mtimeMs,
    options.allowPaths ?? [], runtimeOptions,
  ]);

  let entry = cache.get(key);
  if (entry) {
    cache.delete(key); // re-insert: most recently used last
  } else {
    const created: Entry = { runtime: compileAndLoad(options, source) };
    created.runtime.catch(() => {
      if (cache.get(key) === created) cache.delete(key); // a failure is not cached
    });
    entry = created;
    evictOldest();
  }
  cache.set(key, entry);
  const { runtime, diagnostics } = await entry.runtime;
  const result = await runtime.run(options.inputs ?? {}, options.run);
  return { ...result, diagnostics };
}

/** Release every cached session. */
export async function clearScriptCache(): Promise<void> {
  const entries = [...cache.values()];
  cache.clear();
  await Promise.all(entries.map((e) => e.runtime.then((r) => r.runtime.release(), () => undefined)));
}

function evictOldest(): void {
  while (cache.size >= CACHE_SIZE) {
    const [oldestKey, oldest] = cache.entries().next().value as [string, Entry];
    cache.delete(oldestKey);
    void oldest.runtime.then((r) => r.runtime.release(), () => undefined);
  }
}

async function compileAndLoad(options: RunScriptOptions, source: string): Promise<{ runtime: Runtime; diagnostics: Diagnostic[] }> {
  await loadOnnxRuntime(); // without it, say so before compiling
  const compileOptions: { source: string; filename: string; model: string; allowPaths?: string[] } = {
    source, filename: options.script, model: options.model,
  };
  if (options.allowPaths) compileOptions.allowPaths = options.allowPaths;
  // Imported here: the compiler's parser costs its load time only to the commands that compile.
  const { compile } = await import("../compiler/index.js");
  const result = await compile(compileOptions);
  if (hasErrors(result.diagnostics) || !result.model) throw new DiagnosticError(result.diagnostics);
  // By path, its unchanged weights read from the model file: no second copy of them in memory.
  const runtime = await loadCompiled(result.model, resolve(options.model), {
    ...options.runtime,
    sources: result.sources,
    externalDataDir: options.runtime?.externalDataDir ?? dirname(resolve(options.model)),
  });
  return { runtime, diagnostics: result.diagnostics };
}
