// A user-facing failure while lowering one statement. The interpreter catches it, records the
// diagnostic and moves on to the next statement, so one run reports every error it can.

import { diagnostic, type Diagnostic, type DiagnosticCode, type Span } from "../../common/index.js";

export class CompileError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

/** Stop lowering the statement with an error diagnostic of `code` (codes are in common/diagnostics/codes.ts). */
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
