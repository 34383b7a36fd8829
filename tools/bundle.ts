// The shipped JavaScript: esbuild bundles tsc's output (dist/index.js, dist/cli/main.js) with the
// JavaScript dependencies into dist/bundle/, which package.json's `exports` and `bin` point at.
// Run by `npm run build` after tsc: `node dist/tools/bundle.js`.
//
// Why: the CLI's start was mostly Node loading ES modules, ~600 of them chevrotain's lodash-es,
// and every command loaded onnxruntime-node (BENCHMARKS.md, start-up). One file per entry plus
// shared chunks, split at the CLI's dynamic `import()`s, so `intv --help` loads neither the
// compiler nor the parser, and `intv check` does not load the runtime.
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
import { build } from "esbuild";

const ROOT = path.resolve(import.meta.dirname, "../..");
const OUT = path.join(ROOT, "dist/bundle");

export async function bundle(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    // worker: the entry of the dataset runs' worker threads (runtime/workers.ts finds it next to itself).
    entryPoints: { index: "dist/index.js", intv: "dist/cli/main.js", worker: "dist/runtime/worker.js" },
    outdir: OUT,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: ["onnxruntime-node"],
    chunkNames: "[name]-[hash]",
    // CommonJS dependencies (protobufjs) look optional modules up with `require` at run time.
    banner: { js: 'import { createRequire as __intvCreateRequire } from "node:module";\nconst require = __intvCreateRequire(import.meta.url);' },
    legalComments: "inline",
    metafile: true,
    logLevel: "warning",
  });
  const packages = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) packages.add(m[1]!);
  }
  writeFileSync(path.join(OUT, "LICENSES.md"), licenses([...packages].sort()));
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
  if (!existsSync(path.join(ROOT, "dist/cli/main.js"))) throw new Error("run tsc first: dist/cli/main.js is missing");
  await bundle();
}
