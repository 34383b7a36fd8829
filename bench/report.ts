// BENCHMARKS.md's tables, rendered from one run's results. `npm run bench` replaces the text
// between each `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` pair and leaves the prose alone.

import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CostResult, CostRow } from "./compile-cost.js";
import type { DatasetResult, DatasetRow } from "./dataset.js";
import type { IoModel, IoResult, IoRow } from "./io.js";
import type { KernelRow } from "./ort-profile.js";
import type { OverheadRow } from "./overhead.js";
import type { ProfileSummary } from "./profile.js";
import type { ScalingCell, ScalingSize } from "./scaling.js";
import type { SweepResult } from "./sweep.js";
import { fmtBytes, fmtMs, fmtRatio, fmtTimes, logLogSlope, median } from "./stats.js";

export type Sections = Record<string, string>;

const yes = (ok: boolean) => (ok ? "met" : "**missed**");

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

function roundMedians(row: OverheadRow, values: number[]): string {
  const rounds = Math.max(...row.round) + 1;
  const out: string[] = [];
  for (let r = 0; r < rounds; r++) out.push(median(values.filter((_, i) => row.round[i] === r)).toFixed(3));
  return out.join(", ");
}

export function overheadSection(result: OverheadRow[]): string {
  const rows = result.map((row) => {
    const s = row.scenario;
    const ratio = median(row.overhead);
    const target = s.target === undefined ? "—" : `≤ ${s.target.toFixed(2)}`;
    const met = s.target === undefined ? "—" : yes(ratio <= s.target);
    return [
      s.label,
      String(row.plain.length),
      `${fmtTimes(row.plain)}${s.plainRuns === 2 ? " (2 runs)" : ""}`,
      fmtTimes(row.intv),
      `**${fmtRatio(row.overhead)}**`,
      roundMedians(row, row.overhead),
      target,
      met,
    ];
  });
  return table(["scenario", "pairs", "plain", "intv (compiled)", "intv / plain: median of pair ratios (IQR)", "per-round medians", "target", ""], rows);
}

export function torchSection(result: OverheadRow[]): string {
  const rows = result.map((row) => {
    const s = row.scenario;
    const label = s.id === "aa" ? "no intervention (plain onnxruntime vs plain PyTorch)" : s.label;
    const speedup = median(row.speedup);
    return [
      label,
      fmtTimes(row.intv),
      fmtTimes(row.torch),
      `**${fmtRatio(row.speedup, 2)}×**`,
      row.check ? `${row.check.maxAbsDiff.toExponential(1)} (${row.check.names.length === 1 ? "logits" : `logits + ${row.check.names.length - 1} saves`})` : "—",
      s.id === "aa" ? "—" : yes(speedup >= 2.5),
    ];
  });
  return table(["interventions", "intv", "PyTorch eager + hooks", "speed-up: median of PyTorch / intv pair ratios (IQR)", "max abs diff vs intv", "≥ 2.5×"], rows);
}

/** The layer sweep: run time against PyTorch, the work in layer evaluations, compile and load time. */
export function sweepSection(r: SweepResult): string {
  const speedup = median(r.speedup);
  const w = r.work;
  const run = table(
    ["", "intv (one compiled model, one run)", "PyTorch eager + hooks (13 forward passes)", "speed-up: median of PyTorch / intv pair ratios (IQR)", "goal", "max abs diff vs intv"],
    [[`layer sweep, 1 × 128, ${r.intv.length} pairs`, fmtTimes(r.intv), fmtTimes(r.torch), `**${fmtRatio(r.speedup, 2)}×**`, `≥ 2.5×: ${yes(speedup >= 2.5)}`, `${r.check.maxAbsDiff.toExponential(1)} (logits + ${r.check.names.length - 1} saves)`]],
  );
  const copies = w.blockCopies.map((c, l) => `h[${l}] ×${c}`).join(", ");
  const work = table(
    ["work, in evaluations of one block at 1 × 128 (weight products)", "intv", "PyTorch"],
    [
      ["blocks", `${w.blockCopies.reduce((a, c) => a + c, 0)} (${copies})`, `${13 * w.blockCopies.length} (13 × ${w.blockCopies.length})`],
      [`unembedding (\`lm_head\`, ${w.lmHead.toFixed(2)} blocks at 1 × 128)`, `${w.lmHeadFull} on all positions + ${w.lmHeadSelected} on the last position only`, "13 on all positions"],
      ["total", `**${w.intv.toFixed(1)}**`, `**${w.torch.toFixed(1)}** (${(w.torch / w.intv).toFixed(2)}× intv's)`],
    ],
  );
  const wall = r.compile.map((c) => c.wallMs);
  const compile = table(
    ["", "command", "wall (min–max)", "CPU", "peak RSS", "nodes"],
    [
      [`compile the 12-pass sweep (${r.compile.length} runs)`, `\`${r.compileCommand}\``, `${fmtMs(median(wall))} (${fmtMs(Math.min(...wall), false)}–${fmtMs(Math.max(...wall), false)})`, fmtMs(median(r.compile.map((c) => c.cpuMs))), fmtBytes(median(r.compile.map((c) => c.peakRssBytes))), String(r.nodes)],
      ["load the compiled model into onnxruntime (once)", "`Runtime.load`", fmtMs(r.loadMs), "", "", ""],
    ],
  );
  return `${run}\n\n${work}\n\n${compile}`;
}

function costRows(rows: CostRow[], modelBytes: number, baseline: CostRow | undefined, codec: CostRow | undefined, target: boolean): string[][] {
  return rows.map((row) => {
    if (row.error !== undefined || row.runs.length === 0) return [row.label, `\`${row.command}\``, `**failed**: ${row.error ?? "no runs"}`, "", "", "", "", "", "", ""];
    const wall = row.runs.map((r) => r.wallMs);
    const rss = median(row.runs.map((r) => r.peakRssBytes));
    const vsBase = baseline ? (median(wall) / median(baseline.runs.map((r) => r.wallMs))).toFixed(2) : "—";
    const vsCodec = codec ? (median(wall) / median(codec.runs.map((r) => r.wallMs))).toFixed(2) : "—";
    const isCompile = row.id.startsWith("compile");
    const met = target && isCompile ? `${yes(Number(vsBase) <= 1.5)} / ${yes(rss <= 2 * modelBytes)}` : "—";
    const phases = row.runs[0]?.phases ? Object.keys(row.runs[0].phases).filter((k) => k !== "bytes" && k !== "lines")
      .map((k) => `${k} ${fmtMs(median(row.runs.map((r) => r.phases?.[k] ?? NaN)))}`).join(", ") : "";
    const cpu = median(row.runs.map((r) => r.cpuMs));
    return [row.label, `\`${row.command}\``, `${fmtMs(median(wall))} (${fmtMs(Math.min(...wall), false)}–${fmtMs(Math.max(...wall), false)})`, fmtMs(cpu), vsBase, vsCodec, fmtBytes(rss), `${(rss / modelBytes).toFixed(2)}×`, met, phases];
  });
}

/** A shorter input: intv against the plain model and against PyTorch in one table. */
export function shortSection(result: OverheadRow[]): string {
  const rows = result.map((row) => [
    row.scenario.id === "aa" ? "no intervention (A/A; PyTorch plain)" : row.scenario.label,
    String(row.plain.length),
    `${fmtTimes(row.plain)}${row.scenario.plainRuns === 2 ? " (2 runs)" : ""}`,
    fmtTimes(row.intv),
    fmtTimes(row.torch),
    fmtRatio(row.overhead),
    `**${fmtRatio(row.speedup, 2)}×**`,
    row.check ? row.check.maxAbsDiff.toExponential(1) : "—",
  ]);
  return table(["scenario", "pairs", "plain", "intv", "PyTorch eager + hooks", "intv / plain", "PyTorch / intv", "max abs diff"], rows);
}

/** onnxruntime's own per-node kernel times: what the nodes intv added cost per run. */
export function kernelSection(rows: KernelRow[]): string {
  const body = rows.map((r) => {
    const ops = Object.entries(r.addedOps).sort((a, b) => b[1] - a[1]);
    const opText = ops.length === 0 ? "—" : ops.slice(0, 6).map(([op, n]) => `${n} ${op}`).join(", ") + (ops.length > 6 ? `, … (${ops.length} op types)` : "");
    return [
      r.label,
      String(r.runs),
      fmtMs(r.modelRunMs),
      fmtMs(r.kernelMs),
      `${r.nodes} (${r.addedNodes} added: ${opText})`,
      r.addedNodes === 0 ? "—" : fmtMs(r.addedMs),
      r.addedNodes === 0 ? "—" : `**${((100 * r.addedMs) / r.kernelMs).toFixed(2)}%**`,
    ];
  });
  return table(["model", "runs", "onnxruntime model_run (median)", "kernel time per run (all nodes)", "nodes", "kernel time of the added nodes, per run", "share of the run's kernel time"], body);
}

export function compileSection(cost: CostResult): string {
  const base = cost.compile.find((r) => r.id === "protobufjs");
  const codec = cost.compile.find((r) => r.id === "codec");
  const head = ["command", "run as", "wall: median (min–max)", "CPU (user + sys)", "wall ÷ protobufjs", "wall ÷ intv I/O", "peak RSS", "÷ model size", "targets ≤ 1.5× / ≤ 2× size", "phases (in-process, median)"];
  return `Model: ${fmtBytes(cost.modelBytes)}; ${cost.compile[0]?.runs.length ?? 0} runs of each, round-robin. ` +
    `The API rows run \`compile()\` + \`writeModelFile\` (what \`intv compile\` does), with their phases timed.${cost.cliCompile ? "" : " The command line has no `compile` command yet."}\n\n` +
    table(head, costRows(cost.compile, cost.modelBytes, base, codec, true));
}

export function inspectSection(cost: CostResult): string {
  const read = cost.inspect.find((r) => r.id === "read");
  const head = ["command", "run as", "wall: median (min–max)", "CPU (user + sys)", "wall ÷ read", "—", "peak RSS", "÷ model size", "—", "phases (in-process, median)"];
  const rows = costRows(cost.inspect, cost.modelBytes, read, undefined, false);
  return `${cost.cliInspect ? "" : "The command line has no `inspect` command yet. "}The API row runs what \`intv inspect\` does (\`readModelFile\`, \`prepareModel\`, \`formatTree\`) with its phases timed.\n\n` + table(head, rows);
}

export function scalingSection(all: ScalingSize[]): string {
  const sizes = all.filter((s) => s.error === undefined);
  const patchCounts = sizes[0]?.cells.map((c) => c.patches) ?? [];
  const head = ["nodes", "model", "runs", "decode + encode", ...patchCounts.map((p) => `compile, ${p} patches`), `CPU ms per patch (${patchCounts[0]}→${patchCounts.at(-1)})`, `CPU µs per node (${patchCounts[0]} patches)`];
  const cpu = (c: ScalingCell) => median(c.cpuMs);
  const perPatch = (s: ScalingSize) => (cpu(s.cells.at(-1)!) - cpu(s.cells[0]!)) / (s.cells.at(-1)!.patches - s.cells[0]!.patches);
  const label = (s: ScalingSize) => `${s.nodes.toLocaleString("en-US")}${s.lists > 1 ? ` (${s.lists} lists)` : ""}`;
  const rows = all.map((s) => s.error !== undefined
    ? [label(s), "", "", `**failed**: ${s.error}`, ...patchCounts.map(() => ""), "", ""]
    : [
      label(s),
      fmtBytes(s.modelBytes),
      String(s.codecMs.length),
      `${fmtMs(median(s.codecCpuMs))} (wall ${fmtMs(median(s.codecMs), false)})`,
      ...s.cells.map((c) => `${fmtMs(cpu(c))} (wall ${fmtMs(median(c.compileMs), false)}; encode ${fmtMs(median(c.encodeMs), false)})`),
      perPatch(s).toFixed(2),
      ((1000 * cpu(s.cells[0]!)) / s.nodes).toFixed(1),
    ]);
  // One row per graph size for the slopes: the single list where it compiled, else the split chain.
  const bySize = new Map<number, ScalingSize>();
  for (const s of sizes) if (!bySize.has(s.nodes) || bySize.get(s.nodes)!.lists > s.lists) bySize.set(s.nodes, s);
  const fit = [...bySize.values()].sort((a, b) => a.nodes - b.nodes);
  let growth = "";
  if (fit.length >= 2) {
    const nodes = fit.map((s) => s.nodes);
    const slopes = patchCounts.map((p, k) => `${p} patches: ${logLogSlope(nodes, fit.map((s) => cpu(s.cells[k]!))).toFixed(2)}`);
    growth = `\n\nGrowth over ${fit.map(label).join(", ")} nodes, in CPU time (least-squares slope of log time against log nodes; 1.00 is linear):\n` +
      `- compile time against nodes, at a fixed number of patches — ${slopes.join("; ")}.\n` +
      `- The per-patch column is the difference of two compiles of the same graph divided by ${patchCounts.at(-1)! - patchCounts[0]!}; ` +
      `where it is near zero it is within the run-to-run spread of the compiles, not a measurement of a free patch.`;
  }
  return `Times are CPU time of the compiling process (user + system; wall time in parentheses), medians over the runs.\n\n` + table(head, rows) + growth;
}

export function profileSection(profiles: Array<{ title: string; command: string; summary: ProfileSummary }>): string {
  return profiles.map(({ title, command, summary }) => {
    const fns = table(["self time", "share", "function (dist file:line)"], summary.functions.map((h) => [fmtMs(h.selfMs), `${(100 * h.share).toFixed(1)}%`, `\`${h.name}\``]));
    const files = table(["self time", "share", "file"], summary.files.map((h) => [fmtMs(h.selfMs), `${(100 * h.share).toFixed(1)}%`, `\`${h.name}\``]));
    return `**${title}** — \`${command}\`: ${fmtMs(summary.totalMs)} sampled, of which ${fmtMs(summary.idleMs)} idle (the main thread waiting, e.g. for file reads and writes); shares below are of the ${fmtMs(summary.totalMs - summary.idleMs)} busy.\n\n${fns}\n\n${files}`;
  }).join("\n\n");
}

/** Dataset runs: examples per second, intv batched and per line against PyTorch with hooks. */
export function datasetSection(result: DatasetResult, commit: string): string {
  const find = (engine: DatasetRow["engine"], batch: number, workers = 0) => result.rows.find((r) => r.engine === engine && r.batch === batch && r.workers === workers);
  const perLine = find("intv", 1);
  const rate = (r: DatasetRow | undefined) => (r === undefined ? "—" : r.error !== undefined ? `**failed**: ${r.error}` : r.perSecond.toFixed(2));
  const ratio = (a: DatasetRow | undefined, b: DatasetRow | undefined) => (a && b && !a.error && !b.error ? a.perSecond / b.perSecond : NaN);
  const x = (v: number) => (Number.isNaN(v) ? "—" : `${v.toFixed(2)}×`);
  const hours = (r: DatasetRow | undefined) => {
    if (!r || r.error) return "—";
    const seconds = 20_000 / r.perSecond;
    return seconds >= 3600 ? `${(seconds / 3600).toFixed(1)} h` : `${(seconds / 60).toFixed(1)} min`;
  };
  const batches = [...new Set(result.rows.filter((r) => r.engine === "intv" && r.workers === 0).map((r) => r.batch))].sort((a, b) => a - b);
  const rows = batches.map((b) => {
    const intv = find("intv", b);
    const torch = find("torch", b);
    const headless = find("torch-head", b);
    const vsLine = b === 1 ? NaN : ratio(intv, perLine);
    const vsTorch = ratio(intv, torch);
    const goals = b === 1 ? `— / ${yes(vsTorch >= 2)}` : `${yes(vsLine >= 2)} / ${yes(vsTorch >= 2)}`;
    return [b === 1 ? "1 (per line)" : String(b), String(intv?.examples ?? "—"), rate(intv), rate(torch), rate(headless),
      `**${x(vsTorch)}**`, x(ratio(intv, headless)), b === 1 ? "1" : `**${x(vsLine)}**`, hours(intv), goals];
  });
  const w2 = find("intv", batches.includes(32) ? 32 : batches.at(-1)!, 2);
  const w1 = w2 ? find("intv", w2.batch) : undefined;
  if (w2) {
    rows.push([`${w2.batch}, \`--workers 2\` (1 thread each)`, String(w2.examples), rate(w2), "—", "—", "—", "—", x(ratio(w2, perLine)), hours(w2), `${x(ratio(w2, w1))} the one-session rate`]);
  }
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(", ");
  return `Run: ${result.started}, commit ${commit}, ${result.minutes.toFixed(0)} min; load average (1, 5, 15 min) ${load(result.loadBefore)} at the start, ${load(result.loadAfter)} at the end.\n\n` +
    `Threads: ${result.threads} for the one onnxruntime session and for PyTorch; \`--workers 2\` runs two sessions of one thread each. ` +
    `Each example writes 12 activations of 1 × ${result.seq} × ${result.width} float32 (${(result.bytesPerExample / 1e6).toFixed(2)} MB). ` +
    `The last column but one extrapolates the measured rate to the issue's 20,000 examples.\n\n` +
    table(["batch size", "examples run", "intv `--saves-only`: examples/s", "PyTorch + hooks: examples/s", "PyTorch + hooks, stopped after the last save", "intv / PyTorch", "intv / PyTorch stopped", "intv / intv per line", "20,000 examples at this rate (intv)", "goals: ≥ 2× per line / ≥ 2× PyTorch"], rows);
}


/** intv with onnxruntime's threads spinning and with --no-spin, alternating. */
export function datasetSpinSection(result: DatasetResult, commit: string): string {
  const rate = (r: DatasetRow) => (r.error !== undefined ? `**failed**: ${r.error}` : r.perSecond.toFixed(2));
  const rows: string[][] = [];
  const ratios: number[] = [];
  for (let i = 0; i + 1 < result.rows.length; i += 2) {
    const [spin, sleep] = [result.rows[i]!, result.rows[i + 1]!];
    const ratio = !spin.error && !sleep.error ? sleep.perSecond / spin.perSecond : NaN;
    if (!Number.isNaN(ratio)) ratios.push(ratio);
    rows.push([String(i / 2 + 1), String(spin.batch), String(spin.examples), rate(spin), rate(sleep), Number.isNaN(ratio) ? "—" : `${ratio.toFixed(2)}×`]);
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  const median = sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)]! : NaN;
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(", ");
  return `Run: ${result.started}, commit ${commit}, ${result.minutes.toFixed(0)} min; load average (1, 5, 15 min) ${load(result.loadBefore)} at the start, ${load(result.loadAfter)} at the end.\n\n` +
    table(["round", "batch size", "examples", "intv, threads spinning (default): examples/s", "intv `--no-spin`: examples/s", "`--no-spin` / spinning"], rows) +
    `\n\nMedian of the rounds: ${Number.isNaN(median) ? "—" : `${median.toFixed(2)}×`}.`;
}

/** Peak memory of a dataset run against the number of examples. */
export function datasetMemorySection(result: DatasetResult): string {
  const ok = result.memory.filter((r) => !r.error);
  const rows = result.memory.map((r) => [
    String(r.examples), String(r.batch), r.error ? `**failed**: ${r.error}` : fmtBytes(r.peakRssBytes),
    fmtBytes(r.examples * result.bytesPerExample), r.error ? "—" : r.perSecond.toFixed(2),
  ]);
  let verdict = "";
  if (ok.length >= 2) {
    const [a, b] = [ok[0]!, ok.at(-1)!];
    const growth = b.peakRssBytes / a.peakRssBytes;
    const perExample = (b.peakRssBytes - a.peakRssBytes) / (b.examples - a.examples);
    verdict = `\n\nFrom ${a.examples.toLocaleString("en-US")} to ${b.examples.toLocaleString("en-US")} examples (${(b.examples / a.examples).toFixed(0)}× the data written) the peak grows ${growth.toFixed(3)}× ` +
      `(${perExample >= 0 ? "+" : ""}${(perExample / 1e3).toFixed(1)} kB per example, against ${(result.bytesPerExample / 1e6).toFixed(2)} MB written per example): ${yes(growth < 1.1)} (independent of the number of examples). ` +
      `At that slope, 20,000 examples would peak at ${fmtBytes(b.peakRssBytes + perExample * (20_000 - b.examples))}.`;
  }
  return table(["examples", "batch size", "peak RSS of `intv run` (whole process)", "written to disk", "examples/s"], rows) + verdict;
}

/** Replace the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` for each section. */
export function rewriteMarkdown(file: string, sections: Sections): string[] {
  let text = readFileSync(file, "utf8");
  const missing: string[] = [];
  for (const [name, body] of Object.entries(sections)) {
    const open = `<!-- bench:${name} -->`;
    const close = `<!-- /bench:${name} -->`;
    const a = text.indexOf(open);
    const b = text.indexOf(close);
    if (a < 0 || b < a) {
      missing.push(name);
      continue;
    }
    text = `${text.slice(0, a + open.length)}\n${body.trim()}\n${text.slice(b)}`;
  }
  writeFileSync(file, text);
  return missing;
}

/**
 * The I/O table (bench/io.ts): per model, each command against `cp` of the model's files, with the
 * goals of issue 14; for the 2.6 GB model, each command's time against the 654 MB model's.
 */
export function ioSection(result: IoResult, commit: string): string {
  const best = (row: IoRow | undefined) => (row && row.runs.length > 0 ? Math.min(...row.runs.map((r) => r.wallMs)) : NaN);
  const med = (row: IoRow | undefined) => (row && row.runs.length > 0 ? median(row.runs.map((r) => r.wallMs)) : NaN);
  const find = (m: IoModel | undefined, id: IoRow["id"]) => m?.rows.find((r) => r.id === id);
  const small = result.models[0];
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(", ");
  const parts: string[] = [
    `Run ${result.started} at commit ${commit}, ${result.reps} runs of each row; load average (1, 5, 15 min) ${load(result.loadBefore)} at the start, ${load(result.loadAfter)} at the end. ` +
      "Ratios to `cp` are best ÷ best and median ÷ median; the goals are judged on the best runs (the least disturbed by the machine's other jobs).",
  ];
  for (const m of result.models) {
    const cp = find(m, "cp");
    const cpSync = find(m, "cp-sync");
    const isLarge = m !== small;
    const head = ["command", "run as", "wall: best, median", "÷ `cp`: best, median", "÷ `cp` + `sync` (median)", "CPU (median)", "peak RSS", "÷ model size", isLarge ? "÷ the 654 MB model's time (best)" : "goal", ""];
    const rows = m.rows.map((row) => {
      if (row.error !== undefined || row.runs.length === 0) return [row.label, `\`${row.command}\``, `**failed**: ${row.error ?? "no runs"}`, "", "", "", "", "", "", ""];
      const rss = median(row.runs.map((r) => r.peakRssBytes));
      const vsCp = `${(best(row) / best(cp)).toFixed(2)}, ${(med(row) / med(cp)).toFixed(2)}`;
      const vsSync = (med(row) / med(cpSync)).toFixed(2);
      let goal = "—";
      let met = "";
      if (isLarge) {
        const growth = best(row) / best(find(small, row.id));
        goal = Number.isFinite(growth) ? growth.toFixed(2) : "—";
        if (row.id === "inspect" || row.id === "check" || row.id === "compile") met = yes(growth <= 1.25);
      } else if (row.id === "inspect") {
        goal = "≤ 1 × `cp`";
        met = yes(best(row) <= best(cp));
      } else if (row.id === "compile") {
        goal = "≤ 2 × `cp`; RSS ≤ 0.25 × size";
        met = `${yes(best(row) <= 2 * best(cp))} / ${yes(rss <= 0.25 * m.bytes)}`;
      }
      return [
        row.label,
        `\`${row.command}\``,
        `${fmtMs(best(row))}, ${fmtMs(med(row), false)} (${row.runs.length} runs)`,
        row.id === "cp" ? "1.00" : vsCp,
        vsSync,
        fmtMs(median(row.runs.map((r) => r.cpuMs))),
        fmtBytes(rss),
        `${(rss / m.bytes).toFixed(3)}×`,
        goal,
        met,
      ];
    });
    const files = m.files.map((f) => `\`${path.basename(f)}\``).join(" + ");
    parts.push(`**${m.label}**: ${files}, ${fmtBytes(m.bytes)}.\n\n${table(head, rows)}`);
  }
  if (result.largeMissing) parts.push(`The 2.6 GB model was not measured: ${result.largeMissing}.`);
  return parts.join("\n\n");
}
