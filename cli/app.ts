// The command line without the process: parse the command word, handle `--help` and
// `--version`, dispatch to the command, and turn usage errors into exit status 2.

import { readFileSync } from "node:fs";
import { parseArgs, formatOptions, UsageError } from "./args.js";
import type { Command } from "./command.js";
import { commands as registry } from "./commands/index.js";
import { CliError, EXIT, fail, type Io } from "./output.js";

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

export function mainHelp(commands: readonly Command[] = registry): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "usage: intv COMMAND [ARGS...]",
    "",
    "Compile intervention scripts (.intv) into instrumented ONNX models and run them.",
    "",
    "commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "options:",
    "  --help     show this help (`intv COMMAND --help` for a command's)",
    "  --version  print intv's version",
    "",
  ].join("\n");
}

export function commandHelp(command: Command): string {
  const [first, ...rest] = command.usage;
  return [
    `usage: ${first}`,
    ...rest.map((u) => `       ${u}`),
    "",
    ...(command.description ? [command.description, ""] : []),
    "options:",
    formatOptions(command.options),
    "",
  ].join("\n");
}

function usageText(command: Command): string {
  const [first, ...rest] = command.usage;
  return [`usage: ${first}`, ...rest.map((u) => `       ${u}`), `(\`intv ${command.name} --help\` for more)`, ""].join("\n");
}

/** Run the command line; resolves to the exit status. */
export async function runCli(argv: readonly string[], io: Io, commands: readonly Command[] = registry): Promise<number> {
  const [word, ...rest] = argv;
  if (word === undefined) {
    io.stderr.write(mainHelp(commands));
    return EXIT.usage;
  }
  if (word === "--help" || word === "-h" || word === "help") {
    const topic = word === "help" ? commands.find((c) => c.name === rest[0]) : undefined;
    io.stdout.write(topic ? commandHelp(topic) : mainHelp(commands));
    return EXIT.ok;
  }
  if (word === "--version" || word === "-V") {
    io.stdout.write(`intv ${version()}\n`);
    return EXIT.ok;
  }
  const command = commands.find((c) => c.name === word);
  if (!command) {
    const what = word.startsWith("-") ? `unknown option \`${word}\`` : `unknown command \`${word}\``;
    io.stderr.write(`intv: error: ${what}\n\n${mainHelp(commands)}`);
    return EXIT.usage;
  }
  try {
    const parsed = parseArgs(rest, command.options, command.positionals);
    if (parsed.help) {
      io.stdout.write(commandHelp(command));
      return EXIT.ok;
    }
    return await command.run(parsed.args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`intv ${command.name}: error: ${e.message}\n${usageText(command)}`);
      return EXIT.usage;
    }
    if (e instanceof CliError) return fail(io, e.message);
    throw e;
  }
}
