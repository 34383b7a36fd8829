// `intv graph`: the intervention plan as Graphviz dot or Mermaid — the places the script reads
// and patches in execution order, and the edges from them to each save and patch.

import { type InterventionPlan } from "../../compiler/index.js";
import type { Command } from "../command.js";
import { UsageError } from "../args.js";
import { COMPILE_OPTIONS, compileOptionsFrom } from "../compileOptions.js";
import { nodeChildProcess, writeAtomically } from "../../common/index.js";
import { sameFile, writeProblem } from "../files.js";
import { CliError, EXIT, printDiagnostics } from "../output.js";

function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export function planToDot(plan: InterventionPlan): string {
  const lines = ["digraph intv {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=11];'];
  const id = (kind: string, pass: string, name: string) => quote(`${kind}:${pass}:${name}`);
  for (const pass of plan.passes) {
    const places = plan.places.filter((p) => p.pass === pass);
    lines.push(`  subgraph ${quote(`cluster_${pass}`)} {`, `    label=${quote(`pass ${pass}`)};`);
    for (const p of places) lines.push(`    ${id("place", pass, p.display)} [shape=box, label=${quote(`${p.display}${p.rank >= 0 ? `\n#${p.rank}` : ""}`)}];`);
    for (let i = 1; i < places.length; i++) lines.push(`    ${id("place", pass, places[i - 1]!.display)} -> ${id("place", pass, places[i]!.display)} [style=dotted, arrowhead=none];`);
    lines.push("  }");
  }
  for (const s of plan.saves) {
    lines.push(`  ${id("save", s.pass, s.name)} [shape=note, style=filled, fillcolor="#e8f4e8", label=${quote(`save ${s.name}\nline ${s.line}`)}];`);
    for (const f of s.from) lines.push(`  ${id("place", f.pass, f.display)} -> ${id("save", s.pass, s.name)};`);
  }
  plan.patches.forEach((p, i) => {
    const pid = quote(`patch:${i}`);
    lines.push(`  ${pid} [shape=cds, style=filled, fillcolor="#fbe9e7", label=${quote(`patch line ${p.line}`)}];`);
    for (const f of p.from) lines.push(`  ${id("place", f.pass, f.display)} -> ${pid};`);
    lines.push(`  ${pid} -> ${id("place", p.pass, p.target)} [color="#c62828", penwidth=2];`);
  });
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

export function planToMermaid(plan: InterventionPlan): string {
  const ids = new Map<string, string>();
  const id = (key: string) => {
    let v = ids.get(key);
    if (!v) ids.set(key, (v = `n${ids.size}`));
    return v;
  };
  const text = (s: string) => s.replace(/"/g, "'");
  const lines = ["flowchart TB"];
  for (const pass of plan.passes) {
    const places = plan.places.filter((p) => p.pass === pass);
    lines.push(`  subgraph ${id(`pass:${pass}`)}["pass ${text(pass)}"]`);
    for (const p of places) lines.push(`    ${id(`place:${pass}:${p.display}`)}["${text(p.display)}${p.rank >= 0 ? ` #${p.rank}` : ""}"]`);
    for (let i = 1; i < places.length; i++) lines.push(`    ${id(`place:${pass}:${places[i - 1]!.display}`)} -.- ${id(`place:${pass}:${places[i]!.display}`)}`);
    lines.push("  end");
  }
  for (const s of plan.saves) {
    const sid = id(`save:${s.pass}:${s.name}`);
    lines.push(`  ${sid}[/"save ${text(s.name)} (line ${s.line})"/]`);
    for (const f of s.from) lines.push(`  ${id(`place:${f.pass}:${f.display}`)} --> ${sid}`);
  }
  plan.patches.forEach((p, i) => {
    const pid = id(`patch:${i}`);
    lines.push(`  ${pid}{{"patch (line ${p.line})"}}`);
    for (const f of p.from) lines.push(`  ${id(`place:${f.pass}:${f.display}`)} --> ${pid}`);
    lines.push(`  ${pid} ==> ${id(`place:${p.pass}:${p.target}`)}`);
  });
  return `${lines.join("\n")}\n`;
}

export const graphCommand: Command = {
  name: "graph",
  summary: "draw the intervention plan (Graphviz dot or Mermaid)",
  usage: ["intv graph SCRIPT.intv --model MODEL.onnx [--format dot|mermaid] [--svg FILE.svg]"],
  description: "Shows the places the script reads and patches, in the model's execution order (#rank), each pass as a group, and the edges from what is read to each save and patch. --svg renders the dot text with Graphviz when `dot` is installed.",
  positionals: [{ name: "SCRIPT.intv" }],
  options: [...COMPILE_OPTIONS, { name: "format", value: "dot|mermaid", description: "output format (default dot)" }, { name: "svg", value: "FILE.svg", description: "render to SVG with Graphviz's `dot`" }],
  async run(args, io) {
    // Loaded here, so that `intv --help` and other commands do not pay for the compiler.
    const { compile, hasErrors } = await import("../../compiler/index.js");
    const format = args.string("format") ?? "dot";
    if (format !== "dot" && format !== "mermaid") throw new UsageError(`--format is dot or mermaid, not \`${format}\``);
    const result = await compile(await compileOptionsFrom(args));
    printDiagnostics(io, result.diagnostics.filter((d) => d.severity === "error" || !args.string("svg")), result.sources);
    if (hasErrors(result.diagnostics) || !result.plan) return EXIT.rejected;
    const text = format === "dot" ? planToDot(result.plan) : planToMermaid(result.plan);
    const svg = args.string("svg");
    if (svg) {
      if (format !== "dot") throw new UsageError("--svg renders the dot format");
      // `dot -o` wrote straight over any file, the input model included (found by
      // test/reliability-files.test.ts): take its output and write it atomically, never over an input.
      for (const [file, what] of [[args.string("model")!, "the input model"], [args.positionals[0]!, "the script"]] as const) {
        if (sameFile(svg, file)) throw new UsageError(`--svg \`${svg}\` is ${what}; intv never overwrites it`);
      }
      const r = nodeChildProcess().spawnSync("dot", ["-Tsvg"], { input: text, maxBuffer: 1 << 30 });
      if (r.error) throw new CliError("Graphviz's `dot` is not installed (apt-get install graphviz); without --svg the dot text is printed");
      if (r.status !== 0) throw new CliError(`dot failed: ${r.stderr.toString()}`);
      try {
        await writeAtomically(svg, r.stdout);
      } catch (e) {
        throw new CliError(writeProblem(svg, e));
      }
      io.stderr.write(`wrote ${svg}\n`);
      return EXIT.ok;
    }
    io.stdout.write(text);
    return EXIT.ok;
  },
};
