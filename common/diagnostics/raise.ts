// Raising a diagnostic: a user-facing failure while compiling one statement (resolving, lowering,
// splicing it). The compiler catches it, records the diagnostic and moves on to the next
// statement, so one run reports every error it can.

import type { DiagnosticCode } from "./codes.js";
import { diagnostic, type Diagnostic, type Span } from "./diagnostic.js";

export class CompileError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

/** Stop compiling the statement with an error diagnostic of `code` (codes.ts has them all). */
export function fail(code: DiagnosticCode, message: string, span: Span | undefined, help?: string, extra?: Omit<Partial<Diagnostic>, "code" | "message" | "severity" | "span" | "help">): never {
  const fields: Partial<Diagnostic> = { ...extra };
  if (span) fields.span = span;
  if (help) fields.help = help;
  throw new CompileError(diagnostic(code, message, fields));
}

/**
 * Thrown where a value depends on something already reported (a failed `let`, import or file):
 * the statement is skipped without a second, confusing diagnostic.
 */
export class AlreadyReported extends Error {
  constructor() {
    super("already reported");
  }
}
