// Runs the test suite with Node's test runner: the compiled form of every test/*.test.ts, and
// nothing else — not dist/test/helpers.js, and not a compiled test whose source was deleted (tsc
// leaves it in dist/). `npm test` runs them all; `npm run test:quick` the unit tests (well under
// a minute).
//
// Usage: node dist/tools/run-tests.js [--quick] [NAME...]   (NAME: `grammar` for test/grammar.test.ts)

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The unit tests: the grammar, the ONNX codec, the formats, the module tree, and diagnostics
 * (pinned, and the table against the docs), without running a model (no onnxruntime session, no
 * intv process).
 */
const QUICK = [
  "dataset-units", "diagnostics", "diagnostics-pinned", "float16", "grammar", "grammar-errors", "modules", "npy", "onnx-io", "reliability-docs",
];

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const named = args.filter((a) => !a.startsWith("--"));
const all = readdirSync(path.join(ROOT, "test")).filter((f) => f.endsWith(".test.ts")).map((f) => f.slice(0, -".test.ts".length)).sort();
for (const name of [...QUICK, ...named]) {
  if (!all.includes(name)) throw new Error(`no test/${name}.test.ts`);
}
const names = named.length > 0 ? named : quick ? QUICK : all;
const files = names.map((name) => path.join(ROOT, "dist/test", `${name}.test.js`));
const missing = files.filter((f) => !existsSync(f));
if (missing.length > 0) {
  process.stderr.write(`not built: ${missing.map((f) => path.relative(ROOT, f)).join(", ")}; run \`npm run build\` (after \`npm run clean\` if dist/ was changed by hand)\n`);
  process.exit(1);
}
// The installed `intv` keeps code caches in $XDG_CACHE_HOME/intv (cli/codeCache.ts): the tests
// that run it keep theirs in a folder of the run's, not in the user's home.
const cacheHome = mkdtempSync(path.join(os.tmpdir(), "intv-test-cache-"));
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=2", ...files], { stdio: "inherit", cwd: ROOT, env: { ...process.env, XDG_CACHE_HOME: cacheHome } });
rmSync(cacheHome, { recursive: true, force: true });
process.exit(r.status ?? 1);
