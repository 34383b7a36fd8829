// Compile cost on the GPT-2-small-shaped model, each command in its own process under
// /usr/bin/time -v: `intv compile` (the CLI when it has the command, else the same API calls
// through bench/tasks.ts) against a plain protobufjs decode + encode, intv's own codec
// decode + encode, and a file copy; and inspecting the model (its module tree) against reading
// the file. Repetitions go round-robin over the commands.

import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { CLI, MODEL, TASKS, WORK, shown } from "./paths.js";
import { measureProcess, type ProcessRun } from "./processes.js";
import { scenarios } from "./scripts.js";

export interface CostRow {
  id: string;
  label: string;
  command: string;
  runs: ProcessRun[];
  /** Set when the command failed (its runs are then not measured). */
  error?: string;
}

export interface CostResult {
  modelBytes: number;
  compile: CostRow[];
  inspect: CostRow[];
  cliCompile: boolean;
  cliInspect: boolean;
}

const rel = shown;

function cliHas(command: string): boolean {
  return existsSync(path.join(path.dirname(CLI), "commands", `${command}.js`));
}

export async function runCompileCost(opts: { reps: number; log: (line: string) => void }): Promise<CostResult> {
  mkdirSync(WORK, { recursive: true });
  const out = path.join(WORK, "cost-out.onnx");
  const node = process.execPath;
  const cliCompile = cliHas("compile");
  const cliInspect = cliHas("inspect");

  const compileRows: Array<Omit<CostRow, "runs" | "error"> & { argv: string[] }> = [
    { id: "copy", label: "file copy (`cp`)", command: `cp ${rel(MODEL)} OUT`, argv: ["cp", MODEL, out] },
    { id: "protobufjs", label: "protobufjs decode + encode + write", command: `node ${rel(TASKS)} protobufjs MODEL OUT`, argv: [node, TASKS, "protobufjs", MODEL, out] },
    { id: "codec", label: "intv's ONNX I/O: `readModelFile` + `writeModelFile`", command: `node ${rel(TASKS)} codec MODEL OUT`, argv: [node, TASKS, "codec", MODEL, out] },
  ];
  for (const s of scenarios()) {
    if (s.source === null || (s.id !== "saves" && s.id !== "seed5")) continue;
    const script = path.join(WORK, `cost-${s.id}.intv`);
    writeFileSync(script, s.source);
    compileRows.push({ id: `compile-${s.id}`, label: `compile (API): ${s.label}`, command: `node ${rel(TASKS)} compile SCRIPT MODEL OUT`, argv: [node, TASKS, "compile", script, MODEL, out] });
    if (cliCompile && s.id === "saves") {
      // --fsync: every writer here flushes to disk (bench/tasks.ts), so that they compare.
      compileRows.push({ id: `cli-compile-${s.id}`, label: `\`intv compile --fsync\`: ${s.label}`, command: `node ${rel(CLI)} compile SCRIPT --model MODEL -o OUT --fsync`, argv: [node, CLI, "compile", script, "--model", MODEL, "-o", out, "--fsync"] });
    }
  }
  const inspectRows: Array<Omit<CostRow, "runs" | "error"> & { argv: string[] }> = [
    { id: "read", label: "read the file (node `readFile`)", command: `node ${rel(TASKS)} read MODEL`, argv: [node, TASKS, "read", MODEL] },
    { id: "inspect", label: "inspect (API: read, decode, module tree, formatted tree)", command: `node ${rel(TASKS)} inspect MODEL`, argv: [node, TASKS, "inspect", MODEL] },
  ];
  if (cliInspect) inspectRows.push({ id: "cli-inspect", label: "`intv inspect`", command: `node ${rel(CLI)} inspect MODEL`, argv: [node, CLI, "inspect", MODEL] });

  // The model comes from the page cache for every row (read it once first).
  await readFile(MODEL);
  const measure = async (rows: typeof compileRows): Promise<CostRow[]> => {
    const results: CostRow[] = rows.map(({ argv: _argv, ...r }) => ({ ...r, runs: [] }));
    for (let rep = 0; rep < opts.reps; rep++) {
      for (let i = 0; i < rows.length; i++) {
        if (results[i]!.error) continue;
        // One retry: a failure is then the command's, not a passing hiccup of the machine.
        for (let attempt = 1; attempt <= 2; attempt++) {
          try {
            const run = await measureProcess(rows[i]!.argv);
            results[i]!.runs.push(run);
            opts.log(`  ${rows[i]!.id} (${rep + 1}/${opts.reps}): ${run.wallMs.toFixed(0)} ms, peak RSS ${(run.peakRssBytes / 1e6).toFixed(0)} MB`);
            break;
          } catch (e) {
            opts.log(`  ${rows[i]!.id} (attempt ${attempt}): ${(e as Error).message}`);
            if (attempt === 2) results[i]!.error = (e as Error).message.split("\n").slice(0, 2).join(" ");
          } finally {
            rmSync(out, { force: true });
          }
        }
      }
    }
    return results;
  };
  const compile = await measure(compileRows);
  const inspect = await measure(inspectRows);
  return { modelBytes: statSync(MODEL).size, compile, inspect, cliCompile, cliInspect };
}
