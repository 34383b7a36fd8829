// A small, strict argument parser. Each command declares its options and positionals; anything
// else is a usage error (exit status 2) that names the offending argument.
//
// Accepted forms: `--name value`, `--name=value`, `-n value`, `--flag`, and `--` to end options.

import { suggest } from "../common/index.js";

export interface OptionSpec {
  /** Long name without dashes: `model` for `--model`. */
  name: string;
  /** One-letter alias without the dash: `o` for `-o`. */
  short?: string;
  /** Placeholder for the value in help (`FILE.onnx`); absent for a flag that takes no value. */
  value?: string;
  /** May be given more than once; all values are kept in order. */
  repeat?: boolean;
  /** Must be given. */
  required?: boolean;
  description: string;
}

export interface PositionalSpec {
  /** Placeholder in help: `SCRIPT.intv`. */
  name: string;
  optional?: boolean;
  description?: string;
}

/** A usage error: printed with the command's usage, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export class ParsedArgs {
  constructor(
    readonly positionals: readonly string[],
    private readonly values: ReadonlyMap<string, readonly string[]>,
    private readonly flags: ReadonlySet<string>,
  ) {}

  /** The value of a single-valued option (the last one if repeated), or undefined. */
  string(name: string): string | undefined {
    const v = this.values.get(name);
    return v?.[v.length - 1];
  }

  /** All values of a repeatable option, in order. */
  strings(name: string): readonly string[] {
    return this.values.get(name) ?? [];
  }

  /** Whether a flag was given. */
  flag(name: string): boolean {
    return this.flags.has(name);
  }

  /** A positive integer option; a usage error when it is not one. */
  positiveInt(name: string): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--${name} expects a positive integer, got \`${v}\``);
    return Number(v);
  }
}

/** Parse `argv` (the arguments after the command name). `--help` is reported as `help: true`. */
export function parseArgs(
  argv: readonly string[],
  options: readonly OptionSpec[],
  positionals: readonly PositionalSpec[],
): { help: true } | { help: false; args: ParsedArgs } {
  const byLong = new Map(options.map((o) => [o.name, o]));
  const byShort = new Map(options.filter((o) => o.short).map((o) => [o.short!, o]));
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const given: string[] = [];
  let onlyPositionals = false;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (onlyPositionals || arg === "-" || !arg.startsWith("-")) {
      given.push(arg);
      continue;
    }
    if (arg === "--") {
      onlyPositionals = true;
      continue;
    }
    if (arg === "--help" || arg === "-h") return { help: true };

    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    let shown: string;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) inline = arg.slice(eq + 1);
      spec = byLong.get(name);
      shown = `--${name}`;
    } else {
      spec = byShort.get(arg.slice(1, 2));
      if (arg.length > 2) inline = arg.slice(2);
      shown = arg.slice(0, 2);
    }
    if (!spec) throw new UsageError(`unknown option \`${shown}\`${suggestOption(shown, options)}`);

    if (spec.value === undefined) {
      if (inline !== undefined) throw new UsageError(`option \`--${spec.name}\` takes no value`);
      flags.add(spec.name);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-" && !/^-\d/.test(next))) {
        throw new UsageError(`option \`--${spec.name}\` needs a value (${spec.value})`);
      }
      value = next;
      i++;
    }
    const list = values.get(spec.name) ?? [];
    if (list.length > 0 && !spec.repeat) throw new UsageError(`option \`--${spec.name}\` is given more than once`);
    list.push(value);
    values.set(spec.name, list);
  }

  const required = positionals.filter((p) => !p.optional).length;
  if (given.length < required) throw new UsageError(`missing ${positionals[given.length]!.name}`);
  if (given.length > positionals.length) throw new UsageError(`unexpected argument \`${given[positionals.length]}\``);
  for (const o of options) {
    if (o.required && !values.has(o.name)) throw new UsageError(`missing option \`--${o.name}${o.value ? ` ${o.value}` : ""}\``);
  }
  return { help: false, args: new ParsedArgs(given, values, flags) };
}

function suggestOption(shown: string, options: readonly OptionSpec[]): string {
  const hit = suggest(shown.replace(/^-+/, ""), options.map((o) => o.name), { prefixes: true });
  return hit !== undefined ? ` (did you mean \`--${hit}\`?)` : "";
}

/** The options block of a command's help text. */
export function formatOptions(options: readonly OptionSpec[]): string {
  const rows = options.map((o) => {
    const names = `${o.short ? `-${o.short}, ` : "    "}--${o.name}${o.value ? ` ${o.value}` : ""}`;
    return [names, o.description + (o.repeat ? " (repeatable)" : "")] as const;
  });
  rows.push(["    --help", "show this help"]);
  const width = Math.max(...rows.map(([n]) => n.length));
  return rows.map(([n, d]) => `  ${n.padEnd(width)}  ${d}`).join("\n");
}
