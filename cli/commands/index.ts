// The command registry: `intv NAME` runs the command with that name. Add a command by writing
// `cli/commands/NAME.ts` (exporting a `Command`) and listing it here, in the order `intv --help`
// shows them.

import type { Command } from "../command.js";
import { checkCommand } from "./check.js";
import { compileCommand } from "./compile.js";
import { generateCommand } from "./generate.js";
import { graphCommand } from "./graph.js";
import { inspectCommand } from "./inspect.js";
import { runCommand } from "./run.js";

export const commands: readonly Command[] = [
  inspectCommand,
  checkCommand,
  compileCommand,
  runCommand,
  generateCommand,
  graphCommand,
];
