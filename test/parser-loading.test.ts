// Commands that compile no script do not build the script parser: chevrotain's grammar analysis
// runs when grammar/ is loaded and took a quarter of a second of `intv inspect` and most of
// `intv --help` (BENCHMARKS.md, I/O). Checked on the installed `intv` (dist/bundle/intv.js, which
// runs a command from the one-file bundle cli.cjs and --help from the ES modules), by V8's
// coverage of the functions it ran: chevrotain's `performSelfAnalysis` runs once when the parser
// is built, and never for --help or inspect.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "dist", "bundle", "intv.js");
/** The function only building the parser runs: the grammar analysis chevrotain runs on construction. */
const PARSER_MARK = "performSelfAnalysis";

interface Coverage {
  result: Array<{ url: string; functions: Array<{ functionName: string; ranges: Array<{ count: number }> }> }>;
}

/** How many times `intv ARGS` (exiting with `status`) ran the parser's construction. */
function parserBuilds(args: string[], status: number): number {
  const dir = mkdtempSync(path.join(os.tmpdir(), "intv-coverage-"));
  try {
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NODE_V8_COVERAGE: dir, INTV_CODE_CACHE: "0" } });
    assert.equal(r.status, status, `intv ${args.join(" ")}: status ${r.status}\n${r.stderr}`);
    let scripts = 0;
    let count = 0;
    for (const file of readdirSync(dir)) {
      const coverage = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as Coverage;
      for (const script of coverage.result.filter((s) => s.url.includes("/dist/bundle/"))) {
        scripts++;
        for (const f of script.functions) if (f.functionName === PARSER_MARK) count += f.ranges[0]!.count;
      }
    }
    assert.ok(scripts > 0, "the coverage has the bundle's files");
    return count;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("only compiling a script builds the parser (the installed intv)", { skip: existsSync(CLI) ? false : `${CLI} is not built (npm run build)` }, () => {
  test("`intv --help`", () => {
    assert.equal(parserBuilds(["--help"], 0), 0);
  });

  test("`intv inspect`", () => {
    assert.equal(parserBuilds(["inspect", "examples/gpt2.onnx", "--depth", "1"], 0), 0);
  });

  test("`intv check` does build it, once (the probe finds the parser where it is)", () => {
    assert.equal(parserBuilds(["check", "examples/seed2_cycle.intv", "--model", "examples/gpt2.onnx"], 1), 1);
  });
});
