// Reporting the diagnostics of a running script: each said once, a statement's failure turned
// into a diagnostic so the script goes on (every error in one run), and a failed definition's
// name kept as "poison" so its uses are skipped instead of reported again.

import { AlreadyReported, CompileError, type Diagnostic, type DiagnosticCode, type Span } from "../../common/index.js";
import type { Stmt } from "../../grammar/index.js";
import { nestsTooDeeply, type LimitSink } from "../limits.js";
import type { Env } from "./values.js";

export class Reporter implements LimitSink {
  readonly diagnostics: Diagnostic[] = [];
  /** Diagnostics reported, repeats included; and the ones kept, by code, place and message. */
  private reports = 0;
  private readonly reported = new Set<string>();

  /** How many diagnostics were reported so far, repeats included. */
  get count(): number {
    return this.reports;
  }

  report(d: Diagnostic): void {
    this.reports++;
    // Each error is said once: a loop body repeats its errors in every iteration (a loop of
    // 100,000 printed 100,000 copies of five errors; found by test/fuzz.test.ts), and a limit is
    // hit again by each later statement or call, wherever it is.
    const where = d.code === "E0401" || d.code === "E0404" ? "" : `${d.span?.file}:${d.span?.offset}:${d.span?.length}`;
    const key = `${d.code} ${where} ${d.message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.diagnostics.push(d);
  }

  has(code: DiagnosticCode): boolean {
    return this.diagnostics.some((d) => d.code === code);
  }

  /** Run `fn`; a CompileError becomes a diagnostic and the script goes on. */
  guard(span: Span, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof AlreadyReported) return;
      if (e instanceof CompileError) this.report(e.diagnostic);
      else if (e instanceof RangeError && /call stack/.test(e.message)) this.report(nestsTooDeeply(span));
      else throw e;
    }
  }
}

/** The name a `let`, `param` or `import` defines, and where. */
function definition(stmt: Stmt): { name: string; span: Span } | null {
  if (stmt.kind === "Let" || stmt.kind === "Param") return { name: stmt.name, span: stmt.nameSpan };
  if (stmt.kind === "Import") return { name: stmt.alias, span: stmt.aliasSpan };
  return null;
}

/** A definition that did not happen (its file failed, say) without a new diagnostic. */
export function failedDefinition(stmt: Stmt, scope: Env): boolean {
  const d = definition(stmt);
  return d !== null && !scope.lookup(d.name);
}

/** After a failed `let`, `param` or `import`, its name still exists, so uses are not reported again. */
export function poison(stmt: Stmt, scope: Env): void {
  const d = definition(stmt);
  if (d) scope.define(d.name, { k: "poison" }, d.span);
}
