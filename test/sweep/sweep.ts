// The port sweep: every module of a real PyTorch model, read through intv as `PATH.output` and
// `PATH.input`, compared with what PyTorch's forward hooks and pre-hooks saw (ports.json, written
// by tools/fixtures/zoo/export_zoo.py), plus a sample of `*= 0.5` patches compared with a hook
// doing the same. Each port is correct, refused with a diagnostic, or wrong; wrong fails the suite.

import { readFileSync } from "node:fs";
import path from "node:path";
import { compile, encodeModel, type Diagnostic } from "../../compiler/index.js";
import { Runtime, readNpy, type Tensor } from "../../runtime/index.js";
import { compareSketch, sketch, type Sketch } from "./sketch.js";

export const ZOO = "test/fixtures/zoo";

export interface PortsJson {
  format: 1;
  model: string;
  source: string;
  inputs: Record<string, { file: string; dtype: string; shape: number[] }>;
  outputs: string[];
  sketch_test_vectors?: { i: number; j: number; s: number }[];
  modules: {
    name: string;
    path: string;
    class: string;
    calls: number;
    tuple_leaves: number | null;
    output: Sketch | null;
    input: Sketch | null;
  }[];
  patches: { module: string; path: string; port: "output" | "input"; op: string; expected: Record<string, string> }[];
}

export type Status =
  /** intv's value equals PyTorch's. */
  | "correct"
  /** intv refused, PyTorch had a value: the diagnostic says why. */
  | "refused"
  /** Neither has a value (a container never called, a list argument): intv refused. */
  | "absent"
  /** intv gave a value that differs from PyTorch's, or one where PyTorch had none. */
  | "wrong";

export interface PortResult {
  module: string;
  port: "output" | "input" | `patch ${string}`;
  status: Status;
  /** The refusal's code and message, or what was wrong. */
  detail: string;
  code?: string;
}

export interface ModelSweep {
  model: string;
  source: string;
  results: PortResult[];
  /** Optimization levels at which onnxruntime loaded and ran the compiled model. */
  levels: string[];
}

const LEVELS = ["disabled", "basic", "extended", "all"] as const;

export function loadPorts(root: string, name: string): PortsJson {
  return JSON.parse(readFileSync(path.join(root, ZOO, name, "ports.json"), "utf8")) as PortsJson;
}

async function feedsOf(root: string, name: string, ports: PortsJson): Promise<Record<string, Tensor>> {
  const feeds: Record<string, Tensor> = {};
  for (const [input, spec] of Object.entries(ports.inputs)) feeds[input] = await readNpy(path.join(root, ZOO, name, spec.file));
  return feeds;
}

/** The line of each statement's diagnostic (1-based), errors only. */
function errorsByLine(diagnostics: Diagnostic[]): Map<number, Diagnostic> {
  const out = new Map<number, Diagnostic>();
  for (const d of diagnostics) if (d.severity === "error" && d.span && !out.has(d.span.line)) out.set(d.span.line, d);
  return out;
}

function describeRefusal(d: Diagnostic): string {
  return `${d.code}: ${d.message}`;
}

export async function sweepModel(root: string, name: string): Promise<ModelSweep> {
  const ports = loadPorts(root, name);
  const modelPath = path.join(root, ZOO, name, "model.onnx");
  const feeds = await feedsOf(root, name, ports);
  const results: PortResult[] = [];

  // Every port, one save a line; errors are per line, so one compile finds every refusal.
  const lines: { module: string; port: "output" | "input"; expected: Sketch | null; text: string }[] = [];
  for (const m of ports.modules) {
    for (const port of ["output", "input"] as const) {
      if (m.name === "" && port === "input") continue; // the root's input is `model.inputs[...]`
      lines.push({ module: m.name, port, expected: m[port], text: `${m.path}.${port}` });
    }
  }
  const script = lines.map((l, i) => `save p${i} = ${l.text}`).join("\n");
  const first = await compile({ source: script, filename: `${name}.intv`, model: modelPath, limits: { maxStatements: 1_000_000 } });
  const refused = errorsByLine(first.diagnostics);
  const global = first.diagnostics.find((d) => d.severity === "error" && !d.span);
  if (global) throw new Error(`${name}: ${global.code} ${global.message}`);
  const accepted: number[] = [];
  lines.forEach((l, i) => {
    const d = refused.get(i + 1);
    if (!d) accepted.push(i);
    else results.push({ module: l.module, port: l.port, status: l.expected ? "refused" : "absent", detail: describeRefusal(d), code: d.code });
  });

  // The accepted ports, compiled once and run at every optimization level.
  const levels: string[] = [];
  if (accepted.length > 0) {
    const source = accepted.map((i) => `save p${i} = ${lines[i]!.text}`).join("\n");
    const second = await compile({ source, filename: `${name}.intv`, model: modelPath, limits: { maxStatements: 1_000_000 } });
    const errors = second.diagnostics.filter((d) => d.severity === "error");
    if (errors.length > 0 || !second.model) throw new Error(`${name}: the accepted ports no longer compile: ${errors.map(describeRefusal).join("; ")}`);
    const bytes = encodeModel(second.model);
    const byLevel = new Map<string, Map<string, Tensor>>();
    for (const level of LEVELS) {
      const runtime = await Runtime.load(bytes, { graphOptimizationLevel: level, intraOpNumThreads: 1 });
      try {
        byLevel.set(level, (await runtime.run(feeds)).saves);
        levels.push(level);
      } finally {
        await runtime.release();
      }
    }
    for (const i of accepted) {
      const l = lines[i]!;
      if (!l.expected) {
        results.push({ module: l.module, port: l.port, status: "wrong", detail: "intv gives a value where PyTorch's hook saw none" });
        continue;
      }
      let problem: string | null = null;
      for (const level of LEVELS) {
        const got = byLevel.get(level)!.get(`p${i}`);
        problem = got ? compareSketch(sketch(got), l.expected) : "no value";
        if (problem) {
          problem = `at optimization level ${level}: ${problem}`;
          break;
        }
      }
      results.push({ module: l.module, port: l.port, status: problem ? "wrong" : "correct", detail: problem ?? "" });
    }
  }

  // Patches: `PATH.port *= 0.5`, every model output compared with PyTorch's under the same hook.
  for (const p of ports.patches) {
    const source = `${p.path}.${p.port} ${p.op}\n`;
    const compiled = await compile({ source, filename: `${name}.patch.intv`, model: modelPath });
    const error = compiled.diagnostics.find((d) => d.severity === "error");
    const port = `patch ${p.port}` as const;
    if (error || !compiled.model) {
      results.push({ module: p.module, port, status: "refused", detail: error ? describeRefusal(error) : "no model", code: error?.code });
      continue;
    }
    const runtime = await Runtime.load(encodeModel(compiled.model), { intraOpNumThreads: 1 });
    let problem: string | null = null;
    try {
      const { outputs } = await runtime.run(feeds);
      for (const [output, file] of Object.entries(p.expected)) {
        const expected = await readNpy(path.join(root, ZOO, name, file));
        const got = outputs.get(output);
        problem = got ? closeness(got, expected) : `no output ${output}`;
        if (problem) {
          problem = `${output}: ${problem}`;
          break;
        }
      }
    } finally {
      await runtime.release();
    }
    results.push({ module: p.module, port, status: problem ? "wrong" : "correct", detail: problem ?? "" });
  }
  return { model: name, source: ports.source, results, levels };
}

/** Model outputs of a patched run: elementwise, relative to the output's scale. */
function closeness(actual: Tensor, expected: Tensor): string | null {
  if (actual.dims.join(",") !== expected.dims.join(",")) return `shape [${actual.dims}] instead of [${expected.dims}]`;
  const a = Array.from(actual.data as ArrayLike<number | bigint>, Number);
  const e = Array.from(expected.data as ArrayLike<number | bigint>, Number);
  const scale = e.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  for (let i = 0; i < e.length; i++) {
    const tol = 1e-5 + 1e-3 * Math.abs(e[i]!) + 1e-4 * scale;
    if (!(Math.abs(a[i]! - e[i]!) <= tol)) return `element ${i} is ${a[i]}, expected ${e[i]} (tolerance ${tol.toPrecision(3)})`;
  }
  return null;
}
