#!/usr/bin/env node
// The `intv` executable. All the work is in app.ts; this file only connects it to the process.

import { runCli } from "./app.js";
import { EXIT, processIo } from "./output.js";

runCli(process.argv.slice(2), processIo).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    const detail = process.env.INTV_DEBUG && error instanceof Error ? error.stack : String((error as Error)?.message ?? error);
    process.stderr.write(`intv: internal error: ${detail}\n(this is a bug in intv; please report it, with INTV_DEBUG=1 for details)\n`);
    process.exitCode = EXIT.rejected;
  },
);
