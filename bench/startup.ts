// Start-up cost of the CLI, each command in its own process, against `node -e 0`:
//
//   node dist/bench/startup.js [--runs N] [--cli LABEL=PATH/TO/main.js ...]
//
// Rows: `intv --help`, `intv check examples/seed2_cycle.intv --model examples/gpt2.onnx` (a
// rejected script: exit 1 is expected), `intv inspect examples/gpt2.onnx`. Columns: each CLI —
// by default the installed `intv` (dist/bundle/intv.js) with its code caches (cli/codeCache.ts:
// saved by the warm-up run, in a folder of the benchmark's), the same on a first run (no cache:
// INTV_CODE_CACHE=0), and tsc's modules (dist/cli/main.js, what the tests run);
// `--cli before=/tmp/old/dist/cli/main.js` adds another build. Runs are
// interleaved round-robin so that a change in the machine's load hits every column alike; each
// cell is the median wall time (and user + system CPU time, from /usr/bin/time) of N runs, with
// the ratio to `node -e 0`.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./paths.js";
import { median } from "./stats.js";

const GNU_TIME = "/usr/bin/time";

interface Sample { wallMs: number; cpuMs: number }

function measure(argv: readonly string[], statsFile: string, env: NodeJS.ProcessEnv): Sample {
  const timed = existsSync(GNU_TIME);
  const cmd = timed ? [GNU_TIME, "-f", "%U %S", "-o", statsFile, ...argv] : [...argv];
  const start = performance.now();
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "ignore", "pipe"], env });
  const wallMs = performance.now() - start;
  if (r.error) throw r.error;
  if (r.status !== 0 && r.status !== 1) throw new Error(`\`${argv.join(" ")}\` exited ${r.status}: ${r.stderr.slice(-2000)}`);
  let cpuMs = NaN;
  if (timed) {
    const last = readFileSync(statsFile, "utf8").trim().split("\n").pop()!;
    const [user, sys] = last.split(" ").map(Number);
    cpuMs = 1000 * (user! + sys!);
  }
  return { wallMs, cpuMs };
}

function main(): void {
  const args = process.argv.slice(2);
  let runs = 15;
  const bundle = path.join(ROOT, "dist/bundle/intv.js");
  // [label, entry, environment]
  const clis: [string, string, NodeJS.ProcessEnv][] = [
    ["bundle (`dist/bundle/intv.js`, installed)", bundle, {}],
    ["bundle, first run (`INTV_CODE_CACHE=0`)", bundle, { INTV_CODE_CACHE: "0" }],
    ["modules (`dist/cli/main.js`)", path.join(ROOT, "dist/cli/main.js"), {}],
  ];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--runs") runs = Number(args[++i]);
    else if (args[i] === "--cli") {
      const [label, file] = args[++i]!.split("=");
      clis.push([label!, path.resolve(file!), {}]);
    } else throw new Error(`unknown argument ${args[i]} (usage: startup.js [--runs N] [--cli LABEL=main.js ...])`);
  }
  for (const [label, file] of clis) if (!existsSync(file)) throw new Error(`${label}: ${file} does not exist (npm run build)`);

  const commands: [string, string[]][] = [
    ["intv --help", ["--help"]],
    ["intv check examples/seed2_cycle.intv --model examples/gpt2.onnx", ["check", "examples/seed2_cycle.intv", "--model", "examples/gpt2.onnx"]],
    ["intv inspect examples/gpt2.onnx", ["inspect", "examples/gpt2.onnx"]],
  ];
  const tmp = mkdtempSync(path.join(os.tmpdir(), "intv-startup-"));
  // The code caches of this run, not the user's.
  const env = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ ...process.env, XDG_CACHE_HOME: path.join(tmp, "cache"), ...extra });
  const cells: { row: string; column: string; argv: string[]; env: NodeJS.ProcessEnv }[] = [{ row: "node -e 0", column: "", argv: [process.execPath, "-e", "0"], env: env({}) }];
  for (const [row, rest] of commands) for (const [column, file, extra] of clis) cells.push({ row, column, argv: [process.execPath, file, ...rest], env: env(extra) });

  const samples = cells.map(() => [] as Sample[]);
  try {
    // Warm the page cache, and save the code caches.
    for (const [i, cell] of cells.entries()) measure(cell.argv, path.join(tmp, `w${i}`), cell.env);
    for (let k = 0; k < runs; k++) cells.forEach((cell, i) => samples[i]!.push(measure(cell.argv, path.join(tmp, `s${i}`), cell.env)));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const stat = (i: number) => ({ wall: median(samples[i]!.map((s) => s.wallMs)), cpu: median(samples[i]!.map((s) => s.cpuMs)) });
  const base = stat(0);
  const fmt = (s: { wall: number; cpu: number }) =>
    `${s.wall.toFixed(0)} ms (${(s.wall / base.wall).toFixed(1)}×), CPU ${Number.isNaN(s.cpu) ? "?" : `${s.cpu.toFixed(0)} ms`}`;
  const lines = [
    `| command | ${clis.map(([label]) => label).join(" | ")} |`,
    `|---|${clis.map(() => "---").join("|")}|`,
    `| \`node -e 0\` | ${clis.map(() => fmt(base)).join(" | ")} |`,
  ];
  for (const [row] of commands) {
    lines.push(`| \`${row}\` | ${clis.map(([column]) => fmt(stat(cells.findIndex((c) => c.row === row && c.column === column)))).join(" | ")} |`);
  }
  const load = os.loadavg().map((x) => x.toFixed(1)).join(", ");
  process.stdout.write(`${lines.join("\n")}\n\nmedian of ${runs} runs each, interleaved; wall time (× node -e 0), user + system CPU time; load average ${load}; Node ${process.version}\n`);
}

main();
