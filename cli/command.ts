// What a command is. Each command lives in `cli/commands/NAME.ts` and is listed in
// `cli/commands/index.ts`; `cli/app.ts` parses its arguments and dispatches to it.

import type { OptionSpec, ParsedArgs, PositionalSpec } from "./args.js";
import type { Io } from "./output.js";

export interface Command {
  /** The word after `intv`: `run`. */
  name: string;
  /** One line for `intv --help`. */
  summary: string;
  /** Usage lines, each starting with `intv NAME`. */
  usage: readonly string[];
  /** A paragraph or two for `intv NAME --help`, after the usage. */
  description?: string;
  positionals: readonly PositionalSpec[];
  options: readonly OptionSpec[];
  /**
   * Do the work and return the exit status (see EXIT in output.ts). May throw UsageError (exit 2,
   * printed with the usage), CliError and the runtime's user-facing errors (exit 1, printed as
   * `error: ...`) or a DiagnosticError (exit 1, rendered diagnostics).
   */
  run(args: ParsedArgs, io: Io): Promise<number>;
}
