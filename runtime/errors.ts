// The runtime's failures, and the mapping of onnxruntime's error text back to the script.
//
// - ModelLoadError: the model file is missing, unreadable, not ONNX, or has a bad manifest;
//   OnnxRuntimeMissingError, one of them: onnxruntime-node is not installed.
// - RuntimeInputError: inputs rejected before running (every problem found, one per line).
// - RuntimeDiagnosticError: onnxruntime failed while running. A failure inside a node the
//   compiler inserted (`intv/FILE:LINE:COL/Op`) becomes E0601 at that script location; a failure
//   in one of the model's own nodes becomes E0602 naming the node; anything else E0603.

import { diagnostic, DiagnosticError, NODE_NAME_PREFIX, type Diagnostic, type Span } from "../common/index.js";

export class ModelLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelLoadError";
  }
}

/** The onnxruntime-node versions intv is tested with: `peerDependencies` in package.json. */
export const ONNXRUNTIME_RANGE = "^1.30.0";

/** onnxruntime-node is not installed or cannot be loaded (ort.ts); the message says how to install it. */
export class OnnxRuntimeMissingError extends ModelLoadError {
  constructor(message: string) {
    super(message);
    this.name = "OnnxRuntimeMissingError";
  }
}

export class RuntimeInputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "RuntimeInputError";
  }
}

export class RuntimeDiagnosticError extends DiagnosticError {
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics);
    this.name = "RuntimeDiagnosticError";
  }
}


/** Where an inserted node came from, parsed from its name: `intv/steer.intv:7:1/Add_3`. */
export interface InsertedNodeOrigin {
  file: string;
  line: number;
  col: number;
  /** The operator, without the uniquing suffix: `Add`. */
  op: string;
}

export function parseInsertedNodeName(name: string): InsertedNodeOrigin | null {
  if (!name.startsWith(NODE_NAME_PREFIX)) return null;
  // The file may itself contain `/` and `:`, so match the last `:LINE:COL/` in the name.
  const m = /^(.+):(\d+):(\d+)\/(.*)$/.exec(name.slice(NODE_NAME_PREFIX.length));
  if (!m) return null;
  const last = m[4]!.split("/").pop()!;
  return { file: m[1]!, line: Number(m[2]), col: Number(m[3]), op: last.replace(/_\d+$/, "") || last };
}

/**
 * Turn an error thrown by `session.run` into a diagnostic. `sources` (file → text), when it has
 * the script, makes the span exact (offset, and a length covering the rest of the statement's line).
 */
export function diagnoseRunError(error: unknown, sources?: ReadonlyMap<string, string>): Diagnostic {
  const text = error instanceof Error ? error.message : String(error);
  const m = /running (\S+) node\. Name:'([^']*)' Status Message: ([\s\S]*)$/.exec(text);
  if (!m) {
    return diagnostic("E0603", `onnxruntime failed: ${cleanOrtMessage(text)}`);
  }
  const [, opType, nodeName, status] = m as unknown as [string, string, string, string];
  const detail = cleanOrtMessage(status);
  const origin = parseInsertedNodeName(nodeName);
  if (!origin) {
    return diagnostic("E0602", `model failure in node \`${nodeName}\` (${opType}): ${detail}`, {
      notes: ["the failing node is part of the model, not inserted by the script"],
    });
  }
  return diagnostic("E0601", `run-time failure in \`${opType || origin.op}\` from this line: ${detail}`, {
    span: spanAt(origin.file, origin.line, origin.col, sources?.get(origin.file)),
    notes: [`in node \`${nodeName}\` of the compiled model`],
  });
}

/** A span at LINE:COL (1-based); exact when the source is known, one character long otherwise. */
export function spanAt(file: string, line: number, col: number, source?: string): Span {
  if (source === undefined) return { file, offset: 0, line, col, length: 1 };
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = source.indexOf("\n", offset);
    if (nl < 0) return { file, offset: 0, line, col, length: 1 };
    offset = nl + 1;
  }
  const lineEnd = source.indexOf("\n", offset);
  const lineText = source.slice(offset, lineEnd < 0 ? source.length : lineEnd).replace(/\r$/, "");
  const rest = lineText.slice(col - 1).replace(/\s*(#.*)?$/, "");
  return { file, offset: offset + col - 1, line, col, length: Math.max(rest.length, 1) };
}

/** Drop onnxruntime's source location and failed-assertion text, keep what a user can act on. */
export function cleanOrtMessage(text: string): string {
  let s = text.trim();
  // Loading from a file: `Load model from PATH failed:` (the caller names the file).
  s = s.replace(/^Load model from .*? failed:\s*/, "");
  s = s.replace(/^\S+\.(?:h|cc|cpp|hpp):\d+ /, "");
  // A C++ function signature after the location (`onnxruntime::Model::Model(onnx::ModelProto&&, ...) `).
  s = s.replace(/^[A-Za-z_][\w:<>~]*::[\w<>~]+\((?:[^()]|\([^()]*\))*\)\s+/, "");
  const assertion = / was false\. /.exec(s);
  if (assertion) s = s.slice(assertion.index + assertion[0].length);
  return s.trim();
}
