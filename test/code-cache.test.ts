// The installed `intv` (dist/bundle/intv.js) starts from V8's code cache, one per command, saved by
// the first run in $XDG_CACHE_HOME/intv (cli/codeCache.ts). What a user must be able to rely on: a
// cache never changes what a command does; a damaged one, one another user could have written, or
// one V8 refuses is not used, and is replaced; an edited bundle never meets the old one's cache; a
// folder where no cache can be written is not an error; and INTV_CODE_CACHE=0 writes nothing.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CACHE_DAYS, cacheDir, cacheName, readBundle } from "../cli/codeCache.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "dist", "bundle", "intv.js");
const BUNDLE = path.join(ROOT, "dist", "bundle", "cli.cjs");
const CHECK = ["check", "examples/seed2_cycle.intv", "--model", "examples/gpt2.onnx"];

/** Where the installed intv keeps its cache of `command` under the cache home `home`. */
const cacheFile = (home: string, command: string) => path.join(home, "intv", cacheName(readBundle(BUNDLE).key, command));

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
      const file = cacheFile(home, "check");
      assert.deepEqual(caches(), [file], "one cache, named by the bundle, Node, the architecture and the command");
      assert.match(path.basename(file), new RegExp(`^cli-[0-9a-f]{16}-${process.version.replace(/\./g, "\\.")}-${process.arch}-check\\.cache$`));
      const saved = { bytes: readFileSync(file), mtime: statSync(file).mtimeMs };
      assert.ok(saved.bytes.length > 100_000, `a cache of ${saved.bytes.length} bytes`);
      if (process.getuid) assert.equal(statSync(file).mode & 0o777, 0o600, "readable by its user only");
      for (let i = 0; i < 2; i++) {
        assert.deepEqual(intv(CHECK, { XDG_CACHE_HOME: home }), first);
        assert.equal(statSync(file).mtimeMs, saved.mtime, "the cache was used as it was (accepted)");
        assert.deepEqual(readFileSync(file), saved.bytes);
      }
    });
  });

  test("--help, --version, a mistyped command and a usage error save no cache", () => {
    withCacheHome((home, caches) => {
      assert.equal(intv(["--help"], { XDG_CACHE_HOME: home }).status, 0);
      assert.equal(intv(["--version"], { XDG_CACHE_HOME: home }).status, 0);
      const typo = intv(["chekc"], { XDG_CACHE_HOME: home });
      assert.equal(typo.status, 2);
      assert.match(typo.stderr, /unknown command `chekc`/);
      // A command's --help, and a usage error, run little of the command: their cache would be a poor one.
      assert.equal(intv(["inspect", "--help"], { XDG_CACHE_HOME: home }).status, 0);
      assert.equal(intv(["inspect", "examples/gpt2.onnx", "--depth", "x"], { XDG_CACHE_HOME: home }).status, 2);
      assert.deepEqual(caches(), []);
      assert.equal(intv(["inspect", "examples/gpt2.onnx", "--depth", "1"], { XDG_CACHE_HOME: home }).status, 0);
      assert.deepEqual(caches(), [cacheFile(home, "inspect")]);
    });
  });

  test("a damaged cache (whole header, bytes changed inside) is not given to V8, and is replaced", () => {
    withCacheHome((home) => {
      const expected = intv(CHECK, { INTV_CODE_CACHE: "0" });
      assert.deepEqual(intv(CHECK, { XDG_CACHE_HOME: home }), expected);
      const file = cacheFile(home, "check");
      const good = readFileSync(file);
      // Bytes flipped in V8's data: V8 itself took such a cache, and crashed or hung.
      const damaged = Buffer.from(good);
      for (let at = 1000; at < damaged.length; at += 99_991) damaged[at]! ^= 0x04;
      writeFileSync(file, damaged, { mode: 0o600 });
      assert.deepEqual(intv(CHECK, { XDG_CACHE_HOME: home }), expected);
      assert.notDeepEqual(readFileSync(file), damaged, "replaced");
      // A file that is not a cache at all, and a cut-off one.
      for (const bad of [Buffer.alloc(4096, 7), good.subarray(0, good.length >> 1)]) {
        writeFileSync(file, bad, { mode: 0o600 });
        assert.deepEqual(intv(CHECK, { XDG_CACHE_HOME: home }), expected);
        assert.notDeepEqual(readFileSync(file), bad, "replaced");
      }
      assert.deepEqual(intv(CHECK, { XDG_CACHE_HOME: home }), expected);
    });
  });

  test("a cache others can write is not used (POSIX), and is replaced by one only its user can", { skip: process.getuid ? false : "no POSIX users" }, () => {
    withCacheHome((home) => {
      const expected = intv(CHECK, { XDG_CACHE_HOME: home });
      const file = cacheFile(home, "check");
      chmodSync(file, 0o666);
      const before = statSync(file).mtimeMs;
      assert.deepEqual(intv(CHECK, { XDG_CACHE_HOME: home }), expected);
      assert.notEqual(statSync(file).mtimeMs, before, "saved again");
      assert.equal(statSync(file).mode & 0o777, 0o600);
    });
  });

  test("an edited bundle of the same length, or the same bundle elsewhere, has caches of its own", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "intv-code-cache-key-"));
    try {
      const text = readFileSync(BUNDLE, "utf8");
      const at = text.indexOf("which the model computes");
      assert.ok(at > 0);
      const edited = text.slice(0, at) + "WHICH" + text.slice(at + 5);
      const files = ["a/cli.cjs", "b/cli.cjs", "c/cli.cjs"].map((f) => path.join(dir, f));
      for (const [i, f] of files.entries()) {
        mkdirSync(path.dirname(f));
        writeFileSync(f, i === 2 ? edited : text);
      }
      const keys = files.map((f) => readBundle(f).key);
      assert.equal(new Set(keys).size, 3, keys.join(" "));
      assert.equal(readBundle(files[0]!).source, text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("saving removes caches and leftovers not written for CACHE_DAYS; newer ones stay", () => {
    withCacheHome((home, caches) => {
      const dir = path.join(home, "intv");
      mkdirSync(dir, { mode: 0o700 });
      const old = (CACHE_DAYS + 1) * 86_400;
      const stale = [path.join(dir, "cli-0000000000000000-v0.0.0-x64-check.cache"), path.join(dir, `${cacheName("0000000000000000", "run")}.123.tmp`)];
      const recent = path.join(dir, "cli-1111111111111111-v0.0.0-x64-check.cache");
      const other = path.join(dir, "notes.txt");
      for (const f of [...stale, recent, other]) writeFileSync(f, "x");
      for (const f of [...stale, other]) utimesSync(f, Date.now() / 1000 - old, Date.now() / 1000 - old);
      assert.equal(intv(CHECK, { XDG_CACHE_HOME: home }).status, 1);
      assert.deepEqual(caches(), [cacheFile(home, "check"), recent, other].sort());
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

  test("the cache folder: $XDG_CACHE_HOME/intv, else ~/.cache/intv (a relative XDG_CACHE_HOME is ignored, as the XDG spec says)", () => {
    assert.equal(cacheDir({ XDG_CACHE_HOME: "/c" }), path.join("/c", "intv"));
    assert.equal(cacheDir({ XDG_CACHE_HOME: "relative/dir" }), path.join(os.homedir(), ".cache", "intv"));
    assert.equal(cacheDir({}), path.join(os.homedir(), ".cache", "intv"));
  });
});
