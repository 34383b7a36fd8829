// Commands that compile no script do not load the script parser: chevrotain's grammar analysis
// runs when grammar/ is loaded and took a quarter of a second of `intv inspect` and most of
// `intv --help` (BENCHMARKS.md, I/O). Checked on the shipped bundle (dist/bundle/), by following
// its files' imports: what `intv` loads on start (its static imports), and what `intv inspect`
// adds (its dynamic import of compiler/model.ts), against what `intv check` adds (the compiler).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");
const BUNDLE = path.join(ROOT, "dist", "bundle");
const CLI = path.join(BUNDLE, "intv.js");
/** Text only the parser's module has: the grammar analysis chevrotain runs on construction. */
const PARSER_MARK = "performSelfAnalysis";

/** The bundle files `file` imports statically (`import … from "./x.js"`, `import "./x.js"`). */
function staticImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^(?:import|} from)[^"\n]*"(\.\/[^"]+\.js)";$/gm)].map((m) => path.join(BUNDLE, m[1]!));
}

/** Every bundle file loaded with `file`, itself included. */
function closure(file: string): Set<string> {
  const seen = new Set<string>();
  const visit = (f: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const g of staticImports(f)) visit(g);
  };
  visit(file);
  return seen;
}

/** The bundle file the CLI imports dynamically for `import("…/compiler/NAME.js")` (esbuild names it NAME-HASH.js). */
function dynamicTarget(name: string): string {
  const text = readFileSync(CLI, "utf8");
  const found = [...text.matchAll(/import\("(\.\/([a-z]+)-[A-Z0-9]+\.js)"\)/g)].filter((m) => m[2] === name).map((m) => m[1]!);
  assert.equal(new Set(found).size, 1, `one dynamic import of ${name}-*.js in intv.js: ${found.join(", ")}`);
  return path.join(BUNDLE, found[0]!);
}

const loadsParser = (files: Set<string>) => [...files].filter((f) => readFileSync(f, "utf8").includes(PARSER_MARK)).map((f) => path.basename(f));

describe("only compiling a script loads the parser (the bundle)", { skip: existsSync(CLI) ? false : `${CLI} is not built (npm run build)` }, () => {
  test("`intv --help` and every command's start: intv.js and its static imports", () => {
    assert.deepEqual(loadsParser(closure(CLI)), []);
  });

  test("`intv inspect`: compiler/model.ts and its imports", () => {
    assert.deepEqual(loadsParser(closure(dynamicTarget("model"))), []);
  });

  test("`intv check` and `intv compile` do load it (the probe finds the parser where it is)", () => {
    assert.equal(loadsParser(closure(dynamicTarget("compiler"))).length, 1);
  });
});
