// Measure a command in its own process: wall time (from here, so process start-up is included
// for every row alike) and peak resident memory (/usr/bin/time -v's "Maximum resident set size").

import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { WORK } from "./paths.js";

export const GNU_TIME = "/usr/bin/time";

export interface ProcessRun {
  wallMs: number;
  /** User + system CPU time of the command (from /usr/bin/time), ms. */
  cpuMs: number;
  peakRssBytes: number;
  /** The command's stdout, parsed as JSON when it is one JSON line (tasks.ts phases). */
  phases: Record<string, number> | null;
  /** The command's whole stdout. */
  stdout: string;
}

export function haveGnuTime(): boolean {
  return existsSync(GNU_TIME);
}

export async function measureProcess(argv: readonly string[], env?: NodeJS.ProcessEnv): Promise<ProcessRun> {
  if (!haveGnuTime()) throw new Error(`${GNU_TIME} is missing: install it with \`apt-get install time\``);
  const statsFile = path.join(WORK, `time-${process.pid}.txt`);
  const start = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(GNU_TIME, ["-v", "-o", statsFile, ...argv], { stdio: ["ignore", "pipe", "pipe"], env: env ?? process.env });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
    child.on("error", reject);
    child.on("close", (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  const wallMs = performance.now() - start;
  const stats = readFileSync(statsFile, "utf8");
  rmSync(statsFile, { force: true });
  if (code !== 0) throw new Error(`\`${argv.join(" ")}\` failed (${code}): ${stderr.trim()}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stats);
  if (!rss) throw new Error(`no peak memory in /usr/bin/time's output: ${stats}`);
  const seconds = (label: string) => Number(new RegExp(`${label} time \\(seconds\\): ([\\d.]+)`).exec(stats)?.[1] ?? NaN);
  let phases: Record<string, number> | null = null;
  const line = stdout.trim();
  if (line.startsWith("{") && !line.includes("\n")) phases = JSON.parse(line) as Record<string, number>;
  return { wallMs, cpuMs: 1000 * (seconds("User") + seconds("System")), peakRssBytes: Number(rss[1]) * 1024, phases, stdout };
}
