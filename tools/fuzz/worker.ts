// The fuzzer's worker thread: parses (and, when asked, compiles) one script at a time and says
// what was wrong with the outcome. It runs in a worker so the test can stop it when an input
// hangs or exhausts memory, and go on with a fresh one.
//
// Message in:  { id, source, compile }          Message out: { id, problems, outcome, ms }
//              { done: true }                                { modelUnchanged }

import { readFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { compile } from "../../compiler/compile.js";
import type { Limits } from "../../compiler/index.js";
import { renderDiagnostics, type Diagnostic, type Span } from "../../common/index.js";
import { decodeModel, encodeModel } from "../../compiler/onnx/index.js";
import { parse } from "../../grammar/index.js";

export interface FuzzRequest {
  id: number;
  source: string;
  compile: boolean;
}

export interface FuzzReply {
  id: number;
  /** Empty when the outcome is acceptable: success, or diagnostics that all point into the source. */
  problems: string[];
  outcome: "ok" | "diagnostics";
  ms: number;
}

const { modelPath, filename, limits } = workerData as { modelPath: string; filename: string; limits: Partial<Limits> };
const modelBytes = new Uint8Array(readFileSync(modelPath));
// Decoded once and shared by every compile: the compiler imports it into its own IR and exports a
// new proto, and must not change it (checked when the run ends).
const model = decodeModel(modelBytes);
const before = encodeModel(model);

/** Start offsets of the lines of `source` (line terminators as the lexer counts them). */
function lineStarts(source: string): number[] {
  const starts = [0];
  const re = /\r\n|\r|\n/g;
  for (let m = re.exec(source); m; m = re.exec(source)) starts.push(m.index + m[0].length);
  return starts;
}

function checkSpan(span: Span, source: string, starts: number[], where: string): string | undefined {
  const { offset, length, line, col } = span;
  if (span.file !== filename) return `${where}: span in file \`${span.file}\`, not the script`;
  for (const [k, v] of Object.entries({ offset, length, line, col })) {
    if (!Number.isInteger(v)) return `${where}: span ${k} is ${v}`;
  }
  if (offset < 0 || offset > source.length) return `${where}: offset ${offset} outside the source (${source.length})`;
  if (length < 0 || offset + length > source.length) return `${where}: span ${offset}+${length} runs past the source (${source.length})`;
  let l = 0;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! <= offset) {
      l = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  // An offset inside a `\r\n` pair belongs to the line the pair ends.
  const wantLine = l + 1;
  const wantCol = offset - starts[l]! + 1;
  if (line !== wantLine || col !== wantCol) return `${where}: span says ${line}:${col}, its offset ${offset} is ${wantLine}:${wantCol}`;
  return undefined;
}

function checkDiagnostics(diagnostics: Diagnostic[], source: string, stage: string): string[] {
  const problems: string[] = [];
  const starts = lineStarts(source);
  diagnostics.forEach((d, i) => {
    const where = `${stage} diagnostic ${i} (${d.code} ${JSON.stringify(d.message.slice(0, 80))})`;
    if (!/^[EW]\d{4}$/.test(d.code)) problems.push(`${where}: code is not E/W and four digits`);
    if (!["error", "warning", "note"].includes(d.severity)) problems.push(`${where}: severity ${d.severity}`);
    if (typeof d.message !== "string" || d.message.length === 0) problems.push(`${where}: empty message`);
    if (/internal error|this is a bug|undefined|\[object Object\]|NaN/.test(d.message)) problems.push(`${where}: message looks like a bug`);
    if (d.span === undefined) {
      // Only diagnostics about the whole file or model have none: size (E0405), the model (E07xx).
      if (d.severity !== "note" && d.code !== "E0405" && !d.code.startsWith("E07")) problems.push(`${where}: no span`);
    } else {
      const p = checkSpan(d.span, source, starts, where);
      if (p) problems.push(p);
    }
    for (const label of d.labels ?? []) {
      const p = checkSpan(label.span, source, starts, `${where} label`);
      if (p) problems.push(p);
    }
  });
  // The same error at the same place once (a loop used to repeat its body's errors per iteration).
  const keys = diagnostics.map((d) => `${d.code} ${d.span?.offset}:${d.span?.length} ${d.message}`);
  if (new Set(keys).size !== keys.length) problems.push(`${stage}: ${keys.length - new Set(keys).size} repeated diagnostics`);
  try {
    renderDiagnostics(diagnostics, new Map([[filename, source]]));
  } catch (e) {
    problems.push(`${stage}: rendering the diagnostics threw ${describe(e)}`);
  }
  return problems;
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message.slice(0, 300)}\n${(e.stack ?? "").split("\n").slice(1, 8).join("\n")}`;
  return String(e);
}

async function handle(req: FuzzRequest): Promise<FuzzReply> {
  const t0 = performance.now();
  const problems: string[] = [];
  let outcome: FuzzReply["outcome"] = "diagnostics";
  try {
    const parsed = parse(req.source, filename);
    problems.push(...checkDiagnostics(parsed.diagnostics, req.source, "parse"));
    if (parsed.diagnostics.length === 0) outcome = "ok";
  } catch (e) {
    problems.push(`parse threw ${describe(e)}`);
  }
  if (req.compile && problems.length === 0) {
    try {
      const result = await compile({ source: req.source, filename, model, limits });
      problems.push(...checkDiagnostics(result.diagnostics, req.source, "compile"));
      const failed = result.diagnostics.some((d) => d.severity === "error");
      outcome = failed ? "diagnostics" : "ok";
      if (!failed) {
        if (!result.model || !result.manifest) problems.push("compile: no errors, but no model or manifest");
        else encodeModel(result.model);
      } else if (result.model) problems.push("compile: errors, and a model anyway");
    } catch (e) {
      problems.push(`compile threw ${describe(e)}`);
    }
  }
  return { id: req.id, problems, outcome, ms: performance.now() - t0 };
}

parentPort!.on("message", (msg: FuzzRequest | { done: true }) => {
  if ("done" in msg) {
    const after = encodeModel(model);
    parentPort!.postMessage({ modelUnchanged: Buffer.from(after).equals(Buffer.from(before)) });
    return;
  }
  void handle(msg).then((reply) => parentPort!.postMessage(reply));
});
