// I/O at the file-copy limit (issue 14): what `intv inspect`, `intv check` and `intv compile` cost
// against copying the model file, on the 654 MB model and on a 2.6 GB one with the same graph and
// four times the weight bytes (stored as external data: protobuf cannot hold 2 GiB). Each command
// runs in its own process under /usr/bin/time -v (wall time around the process, so node's start is
// in every node row; peak RSS from time's "Maximum resident set size"), several times,
// round-robin over the commands; the files are in the page cache for every row.
//
// Two baselines: `cp` (which does not flush the copy to disk: it stays in the page cache), as
// `intv compile` does not, and `cp` followed by `sync` of the copy, for `intv compile --fsync`
// (which flushes before renaming into place, so that the model survives a power failure).

import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CACHE, SNAPSHOT, WORK, shown, snapshotDist } from "./paths.js";
import { measureProcess, type ProcessRun } from "./processes.js";
import { PATCHES_12, SAVES_12 } from "./scripts.js";

/** The CLI as installed (package.json's `bin`): the bundle. */
export const BIN = path.join(SNAPSHOT, "bundle", "intv.js");
export const SMALL_MODEL = path.join(CACHE, "gpt2-small.onnx");
export const LARGE_MODEL = path.join(CACHE, "large", "gpt2-wide.onnx");

/** 12 saves and 12 patches: every MLP's output saved, then scaled. */
export const SAVES_AND_PATCHES = `${SAVES_12}\n${PATCHES_12}`;

export interface IoRow {
  id: "node" | "cp" | "cp-sync" | "inspect" | "check" | "compile" | "compile-fsync" | "compile-external";
  label: string;
  command: string;
  runs: ProcessRun[];
  error?: string;
}

export interface IoModel {
  label: string;
  file: string;
  /** The model file and its external data files. */
  files: string[];
  bytes: number;
  rows: IoRow[];
}

export interface IoResult {
  reps: number;
  /** When the run started (ISO), and the load average (1, 5, 15 min) at its start and end. */
  started: string;
  loadBefore: number[];
  loadAfter: number[];
  models: IoModel[];
  /** Set when the large model has not been generated. */
  largeMissing?: string;
}

/** The model file and the data files it names (for `cp` and the model's size). */
function modelFiles(file: string): string[] {
  const data = `${file}.data`;
  return existsSync(data) ? [file, data] : [file];
}

export async function runIo(opts: { reps: number; log: (line: string) => void }): Promise<IoResult> {
  mkdirSync(WORK, { recursive: true });
  const script = path.join(WORK, "io-saves-patches.intv");
  writeFileSync(script, SAVES_AND_PATCHES);
  const node = process.execPath;
  const env = { ...process.env, XDG_CACHE_HOME: path.join(WORK, "code-cache") };
  rmSync(env.XDG_CACHE_HOME, { recursive: true, force: true });
  const result: IoResult = { reps: opts.reps, started: new Date().toISOString().replace(/\.\d+Z$/, "Z"), loadBefore: os.loadavg(), loadAfter: [], models: [] };
  const models: Array<[string, string]> = [["654 MB (weights inside)", SMALL_MODEL]];
  if (existsSync(LARGE_MODEL)) models.push(["2.6 GB (weights in a data file)", LARGE_MODEL]);
  else result.largeMissing = `${shown(LARGE_MODEL)} is missing: generate it with \`/usr/bin/python3 tools/bench/generate.py --large\``;

  for (const [label, file] of models) {
    const files = modelFiles(file);
    const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
    const outDir = path.join(WORK, "io-out");
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    const out = path.join(outDir, "out.onnx");
    const copies = files.map((f) => path.join(outDir, path.basename(f)));
    const rel = (f: string) => shown(f);
    const specs: Array<Omit<IoRow, "runs"> & { argv: string[] }> = [
      { id: "node", label: "`node -e 0` (start-up alone)", command: "node -e 0", argv: [node, "-e", "0"] },
      { id: "cp", label: "file copy (`cp`)", command: `cp ${files.map(rel).join(" ")} OUT_DIR/`, argv: ["cp", ...files, `${outDir}/`] },
      {
        id: "cp-sync",
        label: "file copy, flushed (`cp` + `sync`)",
        command: `cp ${files.map(rel).join(" ")} OUT_DIR/ && sync ${files.map((f) => `OUT_DIR/${path.basename(f)}`).join(" ")}`,
        argv: ["sh", "-c", `cp "$@" "${outDir}/" && sync ${copies.map((c) => `"${c}"`).join(" ")}`, "sh", ...files],
      },
      { id: "inspect", label: "`intv inspect --depth 1`", command: `node ${rel(BIN)} inspect MODEL --depth 1`, argv: [node, BIN, "inspect", file, "--depth", "1"] },
      { id: "check", label: "`intv check` (12 saves + 12 patches)", command: `node ${rel(BIN)} check SCRIPT --model MODEL`, argv: [node, BIN, "check", script, "--model", file] },
      { id: "compile", label: "`intv compile` (12 saves + 12 patches)", command: `node ${rel(BIN)} compile SCRIPT --model MODEL -o OUT`, argv: [node, BIN, "compile", script, "--model", file, "-o", out] },
      {
        id: "compile-fsync",
        label: "`intv compile --fsync` (flushed to disk before the rename)",
        command: `node ${rel(BIN)} compile SCRIPT --model MODEL -o OUT --fsync`,
        argv: [node, BIN, "compile", script, "--model", file, "-o", out, "--fsync"],
      },
      {
        id: "compile-external",
        label: "`intv compile --external-data` (weights to a data file of their own)",
        command: `node ${rel(BIN)} compile SCRIPT --model MODEL -o OUT --external-data OUT.data`,
        argv: [node, BIN, "compile", script, "--model", file, "-o", out, "--external-data", `${out}.data`],
      },
    ];
    // Every file in the page cache before the first row, and every intv command's code cache saved
    // (cli/codeCache.ts; in a folder of the benchmark's): what a user's second run finds.
    for (const f of files) await readFile(f).catch(() => undefined);
    const rows: IoRow[] = specs.map(({ argv: _argv, ...r }) => ({ ...r, runs: [] }));
    for (const spec of specs.filter((sp) => sp.argv[1] === BIN)) {
      await measureProcess(spec.argv, env).catch(() => undefined);
      for (const c of [...copies, out, `${out}.data`]) rmSync(c, { force: true });
    }
    for (let rep = 0; rep < opts.reps; rep++) {
      for (let i = 0; i < specs.length; i++) {
        const row = rows[i]!;
        if (row.error) continue;
        // The copies and outputs of the last row go, so that every write is of a new file.
        for (const c of [...copies, out, `${out}.data`]) rmSync(c, { force: true });
        try {
          const run = await measureProcess(specs[i]!.argv, env);
          row.runs.push(run);
          opts.log(`  ${label}: ${row.id} (${rep + 1}/${opts.reps}): ${run.wallMs.toFixed(0)} ms, peak RSS ${(run.peakRssBytes / 1e6).toFixed(0)} MB`);
        } catch (e) {
          row.error = (e as Error).message.split("\n").slice(0, 2).join(" ");
          opts.log(`  ${label}: ${row.id}: ${row.error}`);
        }
      }
    }
    rmSync(outDir, { recursive: true, force: true });
    result.models.push({ label, file, files, bytes, rows });
  }
  result.loadAfter = os.loadavg();
  return result;
}

/** Command line: `node dist/bench/io.js [REPS]` prints the result as JSON (for development; `npm run bench -- --only=io` writes the table). */
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const reps = Number(process.argv[2] ?? 3);
  snapshotDist();
  const result = await runIo({ reps, log: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
}
