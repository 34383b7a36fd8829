// Options shared by the commands that compile a script (check, compile, graph): reading the
// script, the model, the allowed paths and the limits.

import { open } from "node:fs/promises";
import type { OptionSpec, ParsedArgs } from "./args.js";
import { CliError } from "./output.js";
import { LIMIT_OPTIONS, scriptArgument } from "./compileTargets.js";
import type { CompileOptions } from "../compiler/index.js";

export const COMPILE_OPTIONS: readonly OptionSpec[] = [
  { name: "model", short: "m", value: "MODEL.onnx", required: true, description: "the model to compile the script against" },
  { name: "allow-path", value: "DIR", repeat: true, description: "a folder `load` and `import` may read besides the script's own" },
  { name: "max-statements", value: "N", description: "statements the script may unroll to (default 100000)" },
  { name: "max-depth", value: "N", description: "nesting of loops and calls (default 64)" },
  { name: "max-nodes", value: "N", description: "nodes the compiler may add (default 250000)" },
  { name: "max-source-bytes", value: "N", description: "size of the script (default 1048576)" },
];

/**
 * At most `max + 1` bytes of a file: enough to tell that a script is over the size limit without
 * reading all of a huge file, or forever from a device or pipe (`/dev/zero`).
 */
async function readAtMost(file: string, max: number): Promise<Uint8Array> {
  const fh = await open(file, "r");
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    while (total <= max) {
      const buf = new Uint8Array(Math.min(1 << 20, max + 1 - total));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
    }
    return Buffer.concat(chunks);
  } finally {
    await fh.close();
  }
}

/** Read the script and build the compiler's options; a missing file is one clear error. */
export async function compileOptionsFrom(args: ParsedArgs): Promise<CompileOptions> {
  const script = scriptArgument(args);
  const maxSourceBytes = args.positiveInt("max-source-bytes");
  const { DEFAULT_LIMITS } = await import("../compiler/index.js");
  const sizeLimit = maxSourceBytes ?? DEFAULT_LIMITS.maxSourceBytes;
  let source: string;
  try {
    const bytes = await readAtMost(script, sizeLimit);
    // Past the limit, the compiler reports the size (E0405) without looking at the text.
    source = new TextDecoder("utf-8", { fatal: bytes.length <= sizeLimit }).decode(bytes);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT") throw new CliError(`${script}: no such file`);
    if (err.code === "EISDIR") throw new CliError(`${script}: is a folder, not a script`);
    if (e instanceof TypeError) throw new CliError(`${script}: not UTF-8 text`);
    throw new CliError(`${script}: ${err.message}`);
  }
  const limits: NonNullable<CompileOptions["limits"]> = {};
  for (const [option, name] of LIMIT_OPTIONS) {
    const value = args.positiveInt(option);
    if (value !== undefined) limits[name] = value;
  }
  return { source, filename: script, model: args.string("model")!, allowPaths: [...args.strings("allow-path")], limits };
}
