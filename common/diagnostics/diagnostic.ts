// A diagnostic is data; rendering it is `render.ts`'s job.
//
// Units: `line` and `col` are 1-based; `col` and `length` count UTF-16 code units (what a
// JavaScript string index counts), `offset` is the 0-based UTF-16 index into the source text.

import { DIAGNOSTIC_CODES, type CodeInfo, type DiagnosticCode } from "./codes.js";

export interface Span {
  file: string;
  offset: number;
  line: number;
  col: number;
  length: number;
}

export type Severity = "error" | "warning" | "note";

/** A secondary place involved in a diagnostic (the other end of a cycle, an earlier definition). */
export interface Label {
  span: Span;
  message: string;
}

export interface Diagnostic {
  /** Stable code such as `E0101`: a key of the table in codes.ts, documented in docs/errors.md. */
  code: DiagnosticCode;
  severity: Severity;
  /** Lowercase, names things in backticks, says what is wrong (not how to fix it). */
  message: string;
  /** Where it happened; absent only for diagnostics about a whole file or model. */
  span?: Span;
  labels?: Label[];
  notes?: string[];
  /** How to fix it, when a fix is known. */
  help?: string;
}

/** A bug in intv, not a problem with the user's input. Never shown as a user diagnostic. */
export class InternalError extends Error {
  constructor(message: string) {
    super(`internal error: ${message} (this is a bug in intv; please report it)`);
    this.name = "InternalError";
  }
}

/** Thrown by throwing convenience wrappers; carries the diagnostics it was made from. */
export class DiagnosticError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.filter((d) => d.severity === "error").map((d) => d.message).join("; ") || "failed");
    this.name = "DiagnosticError";
  }
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/**
 * A diagnostic of `code`: its severity from the table, and the table's help unless `fields`
 * gives one. The fields keep the order given (the order of `intv check --json`).
 */
export function diagnostic(code: DiagnosticCode, message: string, fields: Omit<Partial<Diagnostic>, "code" | "message" | "severity"> = {}): Diagnostic {
  const info: CodeInfo = DIAGNOSTIC_CODES[code];
  const d: Diagnostic = { code, severity: info.severity, message, ...fields };
  if (d.help === undefined && info.help !== undefined) d.help = info.help;
  return d;
}
