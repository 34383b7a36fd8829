// onnxruntime-node, loaded on first use. It is an optional peer dependency of intv: compiling
// never needs it, so `import { compile } from "intv"`, `intv check`, `intv compile` and
// `intv inspect` work (and start fast) without it; whatever runs a model calls `loadOnnxRuntime()`,
// which says how to install it when it is missing.

import { createRequire } from "node:module";
import type * as Ort from "onnxruntime-node";
import { ONNXRUNTIME_RANGE, OnnxRuntimeMissingError } from "./errors.js";

export type OnnxRuntime = typeof Ort;

let loading: Promise<OnnxRuntime> | undefined;

/** onnxruntime-node's module; throws OnnxRuntimeMissingError when it is not installed. */
export function loadOnnxRuntime(): Promise<OnnxRuntime> {
  loading ??= importOnnxRuntime("onnxruntime-node").catch((e: unknown) => {
    loading = undefined; // installing it and trying again in the same process works
    throw e;
  });
  return loading;
}

/**
 * Loads `specifier` as onnxruntime-node (a parameter so that tests can name a missing one). It is a
 * CommonJS package, so `require` loads it as `import()` would; and `require` works where `import()`
 * cannot: in the installed CLI's bundle, which runs as a node:vm script (for its code cache,
 * cli/codeCache.ts) and there has no `import()` without an experimental flag.
 */
export async function importOnnxRuntime(specifier: string): Promise<OnnxRuntime> {
  try {
    return createRequire(import.meta.url)(specifier) as OnnxRuntime;
  } catch (e) {
    throw missing(e, specifier);
  }
}

function missing(e: unknown, specifier: string): OnnxRuntimeMissingError {
  const err = e as NodeJS.ErrnoException;
  const install = `npm install onnxruntime-node@${ONNXRUNTIME_RANGE}`;
  const notFound = (err.code === "ERR_MODULE_NOT_FOUND" || err.code === "MODULE_NOT_FOUND") && String(err.message).includes(`'${specifier}'`);
  if (notFound) {
    return new OnnxRuntimeMissingError(`running a model needs the package onnxruntime-node (${ONNXRUNTIME_RANGE}), which is not installed; install it with \`${install}\``);
  }
  const reason = String(err.message ?? e).split("\n")[0];
  return new OnnxRuntimeMissingError(`cannot load onnxruntime-node (${reason}); reinstall it with \`${install}\``);
}
