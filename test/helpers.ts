// Shared test helpers.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after } from "node:test";
import { toNumbers, type Tensor } from "../runtime/index.js";

/** numpy.allclose, elementwise: |actual - expected| <= atol + rtol * |expected|, with equal shape and type. */
export function assertClose(actual: Tensor, expected: Tensor, atol: number, rtol: number, what: string): void {
  assert.deepEqual(actual.dims, expected.dims, `${what}: shape`);
  assert.equal(actual.type, expected.type, `${what}: element type`);
  const a = toNumbers(actual);
  const e = toNumbers(expected);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < e.length; i++) {
    const diff = Math.abs(Number(a[i]) - Number(e[i]));
    const excess = diff - (atol + rtol * Math.abs(Number(e[i])));
    if (!(excess <= 0) && (at < 0 || excess > worst)) {
      worst = excess;
      at = i;
    }
  }
  assert.ok(at < 0, `${what}: element ${at} is ${a[at]}, expected ${e[at]} (tolerance ${atol} + ${rtol}·|expected|)`);
}


export const ROOT = path.resolve(import.meta.dirname, "../..");

/**
 * A scratch folder for one test file, removed after its tests: `root` itself, and `folder()`
 * for a fresh empty folder inside it.
 */
export function scratchFolders(prefix: string): { root: string; folder: () => string } {
  const root = mkdtempSync(path.join(os.tmpdir(), prefix));
  after(() => rmSync(root, { recursive: true, force: true }));
  let counter = 0;
  return {
    root,
    folder: () => {
      const dir = path.join(root, `d${counter++}`);
      mkdirSync(dir, { recursive: true });
      return dir;
    },
  };
}

/** The command line as tsc compiled it (what the CLI tests run as a process). */
export const CLI_MAIN = path.join(ROOT, "dist/cli/main.js");

/** `intv ARGS...` as a process in the repository's folder. */
export function runCli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI_MAIN, ...args], { cwd: ROOT, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One case of test/fixtures/cases.json (format: tools/fixtures/README.md). */
export interface Case {
  name: string;
  model: string;
  also_models?: string[];
  script: string;
  dir: string;
  inputs: Record<string, { kind: string; dtype: string; shape: number[]; file: string }>;
  expect: "ok" | "error";
  expected?: Record<string, { dtype: string; shape: number[] }>;
  atol?: number;
  rtol?: number;
  tolerance_overrides?: Record<string, { atol?: number; rtol?: number }>;
  /** For a script that must be refused: its first diagnostic. */
  error?: {
    code: string;
    /** 1-based line and column (in characters) of the statement at fault, and the text underlined there. */
    line: number;
    column: number;
    span_text: string;
    /** What the message and what the help must mention. */
    mentions?: string[];
    help_mentions?: string[];
  };
  command?: string;
}

export function loadCases(): Case[] {
  return (JSON.parse(readFileSync(path.join(ROOT, "test/fixtures/cases.json"), "utf8")) as { cases: Case[] }).cases;
}
