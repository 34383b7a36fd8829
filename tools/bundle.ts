// The shipped JavaScript: esbuild bundles tsc's output with the JavaScript dependencies into
// dist/bundle/, which package.json's `exports` and `bin` point at. Run by `npm run build` after
// tsc: `node dist/tools/bundle.js`.
//
// Why: the CLI's start was mostly Node loading ES modules, ~600 of them chevrotain's lodash-es,
// and every command loaded onnxruntime-node (BENCHMARKS.md, start-up). Three builds:
//
// - the library (dist/index.js), the dataset runs' worker and the CLI (dist/cli/process.js, run
//   for --help and --version): ES modules, one file per entry plus shared chunks, split at the
//   dynamic `import()`s, so that `intv --help` loads neither the compiler nor the parser;
// - the CLI (dist/cli/process.js) as one CommonJS file, cli.cjs, which the installed `intv` runs
//   from V8's code cache for every command (cli/codeCache.ts: Node 20 caches no ES module's code).
//   Its dynamic `import()`s become functions that run a module's top level when first called, so
//   `intv inspect` still does not build the parser, and `intv check` does not load the runtime;
// - `intv` itself (dist/cli/launch.js, package.json's `bin`): a few lines that start one of the
//   two, given the command names (a command word runs cli.cjs).
//
// - onnxruntime-node stays outside (an optional peer dependency, imported by runtime/ort.ts only
//   when a model is run).
// - chevrotain and protobufjs are bundled, but remain `dependencies`: the published declarations
//   (dist/**/*.d.ts, from tsc) refer to their types.
// - Not minified, so that a stack trace (INTV_DEBUG=1) names intv's own functions and lines.
// - Bundled code keeps its license comments, and dist/bundle/LICENSES.md collects the license
//   of every package the bundle includes.

import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build, type BuildOptions, type Metafile } from "esbuild";
import type { OptionSpec, PositionalSpec } from "../cli/args.js";
import { commands } from "../cli/commands/index.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const OUT = path.join(ROOT, "dist/bundle");

/** What every build shares. */
const COMMON: BuildOptions = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: "node",
  target: "node20",
  external: ["onnxruntime-node"],
  legalComments: "inline",
  metafile: true,
  logLevel: "warning",
};

export async function bundle(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  const library = await build({
    ...COMMON,
    // worker: the entry of the dataset runs' worker threads (runtime/workers.ts finds it next to itself).
    // cli: the CLI for what is not a command (--help, --version; cli/launch.ts).
    entryPoints: { index: "dist/index.js", worker: "dist/runtime/worker.js", cli: "dist/cli/process.js" },
    outdir: OUT,
    splitting: true,
    format: "esm",
    chunkNames: "[name]-[hash]",
    // CommonJS dependencies (protobufjs) look optional modules up with `require` at run time.
    banner: { js: 'import { createRequire as __intvCreateRequire } from "node:module";\nconst require = __intvCreateRequire(import.meta.url);' },
  });
  const cliFile = path.join(OUT, "cli.cjs");
  const cli = await build({
    ...COMMON,
    entryPoints: ["dist/cli/process.js"],
    outfile: cliFile,
    format: "cjs",
    // The modules' `import.meta.url` (package.json and the worker, found next to the code).
    define: { "import.meta.url": "__intvImportMetaUrl" },
    // "use strict" first, where it is a directive (esbuild's own comes after the banner): the
    // modules are ES modules, strict code.
    banner: { js: '"use strict";\nvar __intvImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  });
  // A node:vm script has no `import()` (cli/codeCache.ts): runtime/ort.ts requires onnxruntime-node.
  const imports = [...readFileSync(cliFile, "utf8").matchAll(/\bimport\s*\(/g)].length;
  if (imports > 0) throw new Error(`${cliFile}: ${imports} dynamic import()s, which the CLI's node:vm script cannot run`);
  await build({
    ...COMMON,
    entryPoints: { intv: "dist/cli/launch.js" },
    outdir: OUT,
    format: "esm",
    define: { INTV_COMMANDS: JSON.stringify(commands.map((c) => c.name)), INTV_COMPILE_ARGS: JSON.stringify(compileArgs()) },
    // Its import of the CLI's ES modules stays an import, of the library build's cli.js.
    plugins: [{ name: "cli-entry", setup: (b) => b.onResolve({ filter: /^\.\/process\.js$/ }, () => ({ path: "./cli.js", external: true })) }],
  });
  writeFileSync(path.join(OUT, "LICENSES.md"), licenses(bundledPackages([library.metafile, cli.metafile])));
}

/** `intv compile`'s options and positionals without their help texts, for the launcher (cli/earlyCopy.ts). */
function compileArgs(): { options: OptionSpec[]; positionals: PositionalSpec[] } {
  const compile = commands.find((c) => c.name === "compile");
  if (!compile) throw new Error("no `compile` command");
  return {
    options: compile.options.map(({ name, short, value, repeat, required }) => ({ name, short, value, repeat, required, description: "" })),
    positionals: compile.positionals.map(({ name, optional }) => ({ name, optional })),
  };
}

/** The packages whose code the builds include. */
function bundledPackages(metafiles: readonly (Metafile | undefined)[]): string[] {
  const packages = new Set<string>();
  for (const metafile of metafiles) {
    for (const input of Object.keys(metafile?.inputs ?? {})) {
      const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (m) packages.add(m[1]!);
    }
  }
  return [...packages].sort();
}

/** One section per license text, headed by the packages (name, version, SPDX id) under it. */
function licenses(packages: readonly string[]): string {
  const byText = new Map<string, string[]>();
  for (const name of packages) {
    const dir = path.join(ROOT, "node_modules", name);
    const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string; license?: string };
    const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
    if (!file) throw new Error(`${name}: no license file to ship with the bundle`);
    const text = readFileSync(path.join(dir, file), "utf8").trim();
    byText.set(text, [...(byText.get(text) ?? []), `${name} ${pkg.version} (${pkg.license ?? "see below"})`]);
  }
  const parts = ["# Licenses of the packages bundled into intv's dist/bundle/\n"];
  for (const [text, names] of byText) parts.push(`## ${names.join(", ")}\n\n\`\`\`\n${text}\n\`\`\`\n`);
  return parts.join("\n");
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  if (!existsSync(path.join(ROOT, "dist/cli/process.js"))) throw new Error("run tsc first: dist/cli/process.js is missing");
  await bundle();
}
