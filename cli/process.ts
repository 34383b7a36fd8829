// The command line connected to the process: run the command, then exit with its status. Both
// entries use it: cli/main.ts (tsc's modules) and the bundle the installed `intv` runs
// (dist/bundle/cli.cjs, started by cli/launch.ts).

import { runCli } from "./app.js";
import { EXIT, processIo } from "./output.js";

/** Runs `intv ARGV...` as the process: its status becomes the exit status. */
export function main(argv: readonly string[]): void {
  runCli(argv, processIo).then(
    (status) => exitWhenFlushed(status),
    (error: unknown) => {
      const detail = process.env.INTV_DEBUG && error instanceof Error ? error.stack : String((error as Error)?.message ?? error);
      process.stderr.write(`intv: internal error: ${detail}\n(this is a bug in intv; please report it, with INTV_DEBUG=1 for details)\n`);
      exitWhenFlushed(EXIT.rejected);
    },
  );
}

/**
 * Ends the process once stdout and stderr have written everything given to them. Why not let it
 * end by itself: a natural exit first tears the heap down, and with a model's graph in it that took
 * 50 ms of a 400 ms `intv inspect` (BENCHMARKS.md, start-up). runCli has awaited all of its work
 * (files written and renamed, workers stopped), so nothing is left that an exit could cut short.
 * An empty write's callback runs after every earlier write to the stream (pipes can be
 * asynchronous, on macOS for one).
 */
function exitWhenFlushed(status: number): void {
  process.exitCode = status;
  let pending = 2;
  const flushed = (): void => {
    if (--pending === 0) process.exit(status);
  };
  process.stdout.write("", flushed);
  process.stderr.write("", flushed);
}
