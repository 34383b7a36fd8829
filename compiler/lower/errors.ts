// A user-facing failure while lowering one statement. The interpreter catches it, records the
// diagnostic and moves on to the next statement, so one run reports every error it can.

import type { Diagnostic, Span } from "../diagnostics/index.js";

export class CompileError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

export function fail(code: string, message: string, span: Span | undefined, help?: string, extra?: Partial<Diagnostic>): never {
  const d: Diagnostic = { code, severity: "error", message, ...extra };
  if (span) d.span = span;
  if (help) d.help = help;
  throw new CompileError(d);
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
