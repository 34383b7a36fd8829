// The installed `intv` (dist/bundle/intv.js) starts from V8's code cache, one per command, saved by
// the first run in $XDG_CACHE_HOME/intv (cli/codeCache.ts). What a user must be able to rely on: a
// cache never changes what a command does; one V8 refuses (another Node, a damaged file) is
// replaced, not an error; a folder where no cache can be written is not an error either; and
// INTV_CODE_CACHE=0 writes nothing.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { cachePath } from "../cli/codeCache.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "dist", "bundle", "intv.js");
const CHECK = ["check", "examples/seed2_cycle.intv", "--model", "examples/gpt2.onnx"];

interface Ran { status: number | null; stdout: string; stderr: string }

function intv(args: string[], env: NodeJS.ProcessEnv): Ran {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh cache home for one test, removed after it. */
function withCacheHome(body: (home: string, caches: () => string[]) => void): void {
  const home = mkdtempSync(path.join(os.tmpdir(), "intv-code-cache-"));
  const dir = path.join(home, "intv");
  try {
    body(home, () => (existsSync(dir) ? readdirSync(dir).sort().map((f) => path.join(dir, f)) : []));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

describe("code cache of the installed intv", { skip: existsSync(CLI) ? false : `${CLI} is not built (npm run build)` }, () => {
  test("the first run of a command saves its cache; later runs use it (not rewritten) and do exactly the same", () => {
    withCacheHome((home, caches) => {
      const first = intv(CHECK, { XDG_CACHE_HOME: home });
      assert.equal(first.status, 1, first.stderr);
      assert.match(first.stderr, /error\[E0301\]/);
      const [file, ...others] = caches();
      assert.deepEqual(others, [], "one cache");
      assert.match(path.basename(file!), new RegExp(`^cli-[0-9a-f]{16}-${process.version.replace(/\./g, "\\.")}-${process.arch}-check\\.cache$`));
      const saved = { bytes: readFileSync(file!), mtime: statSync(file!).mtimeMs };
      assert.ok(saved.bytes.length > 100_000, `a cache of ${saved.bytes.length} bytes`);
      for (let i = 0; i < 2; i++) {
        assert.deepEqual(intv(CHECK, { XDG_CACHE_HOME: home }), first);
        assert.equal(statSync(file!).mtimeMs, saved.mtime, "the cache was used as it was (V8 accepted it)");
        assert.deepEqual(readFileSync(file!), saved.bytes);
      }
    });
  });

  test("--help, --version and a mistyped command save no cache (they start from the ES modules)", () => {
    withCacheHome((home, caches) => {
      assert.equal(intv(["--help"], { XDG_CACHE_HOME: home }).status, 0);
      assert.equal(intv(["--version"], { XDG_CACHE_HOME: home }).status, 0);
      const typo = intv(["chekc"], { XDG_CACHE_HOME: home });
      assert.equal(typo.status, 2);
      assert.match(typo.stderr, /unknown command `chekc`/);
      assert.deepEqual(caches(), []);
      // A command's own --help is the command's: its cache.
      assert.equal(intv(["inspect", "--help"], { XDG_CACHE_HOME: home }).status, 0);
      assert.deepEqual(caches().map((f) => f.replace(/^.*-/, "")), ["inspect.cache"]);
    });
  });

  test("a cache V8 refuses (damaged) is replaced, and the command does the same", () => {
    withCacheHome((home, caches) => {
      const expected = intv(CHECK, { INTV_CODE_CACHE: "0" });
      const file = cachePath(readKey(home), "check", { XDG_CACHE_HOME: home })!;
      // The bundle's cache for `check`, damaged: the same name, bytes V8 will not take.
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, Buffer.alloc(4096, 7));
      assert.deepEqual(intv(CHECK, { XDG_CACHE_HOME: home }), expected);
      assert.deepEqual(caches(), [file]);
      assert.notDeepEqual(readFileSync(file), Buffer.alloc(4096, 7), "replaced by a cache of this run");
      assert.deepEqual(intv(CHECK, { XDG_CACHE_HOME: home }), expected);
    });
  });

  test("INTV_CODE_CACHE=0 reads and writes no cache; a cache folder that cannot be made is no error", () => {
    withCacheHome((home, caches) => {
      const expected = intv(CHECK, { INTV_CODE_CACHE: "0", XDG_CACHE_HOME: home });
      assert.equal(expected.status, 1);
      assert.deepEqual(caches(), []);
      // $XDG_CACHE_HOME is a file: intv/ cannot be made in it.
      const file = path.join(home, "a-file");
      writeFileSync(file, "");
      assert.deepEqual(intv(CHECK, { XDG_CACHE_HOME: file }), expected);
      assert.deepEqual(readdirSync(home), ["a-file"]);
    });
  });

  test("cache names: by bundle, Node, architecture and command; a relative XDG_CACHE_HOME is ignored, as the XDG spec says", () => {
    const a = cachePath("0123456789abcdef", "check", { XDG_CACHE_HOME: "/c" });
    assert.equal(a, path.join("/c", "intv", `cli-0123456789abcdef-${process.version}-${process.arch}-check.cache`));
    assert.notEqual(cachePath("fedcba9876543210", "check", { XDG_CACHE_HOME: "/c" }), a);
    assert.equal(cachePath("0123456789abcdef", "check", { XDG_CACHE_HOME: "relative/dir" }), path.join(os.homedir(), ".cache", "intv", path.basename(a!)));
  });
});

/** The bundle's key (the hash in its caches' names), from the cache a run saves in `home`. */
function readKey(home: string): string {
  const r = intv(["inspect", "--help"], { XDG_CACHE_HOME: home });
  assert.equal(r.status, 0);
  const dir = path.join(home, "intv");
  const [name] = readdirSync(dir);
  rmSync(dir, { recursive: true });
  return /^cli-([0-9a-f]{16})-/.exec(name!)![1]!;
}
