// Limits stop runaway or hostile scripts before they exhaust time or memory, and this is their one
// home: the limits and their defaults, the budget that counts statements and nesting while the
// script runs, and every E0401/E0404/E0405 text. Each limit is raised by a flag of `check`,
// `compile`, `run` and `graph` (`--max-statements`, ...), or by `limits` in the API.

import { CompileError, diagnostic, type Diagnostic, type DiagnosticCode, type Span } from "../common/index.js";

export interface Limits {
  /** Statements executed after unrolling loops and inlining functions. */
  maxStatements: number;
  /** Nesting of loops, passes and function calls. */
  maxDepth: number;
  /** Nodes the compiler may add (each costs about 3 KB of memory while compiling). */
  maxNodes: number;
  /** Size of the script in bytes (UTF-8), checked before it is parsed. */
  maxSourceBytes: number;
}

// maxNodes was 2,000,000, which needed about 6 GB: a runaway script ran out of memory (a crash)
// long before the limit could say so. 250,000 is about 750 MB and 15 s. maxSourceBytes: 1 MiB
// parses in a few seconds and holds ~100,000 statements, the statement limit.
export const DEFAULT_LIMITS: Limits = { maxStatements: 100_000, maxDepth: 64, maxNodes: 250_000, maxSourceBytes: 1 << 20 };

/** Elements a `param`'s number default may fill (64 MiB of float32). Not raisable: it protects intv. */
export const MAX_DEFAULT_ELEMENTS = 1 << 24;

const RAISE_STATEMENTS = "raise the limit with `--max-statements N` if this is intended";
const RAISE_NODES = "raise the limit with `--max-nodes N` if this is intended";
const RAISE_DEPTH = "raise the limit with `--max-depth N` if this is intended";

/** E0405, before parsing; null when the script is within the limit. */
export function checkSourceSize(source: string, filename: string, limits: Limits): Diagnostic | null {
  if (Buffer.byteLength(source, "utf8") <= limits.maxSourceBytes) return null;
  return diagnostic("E0405", `the script \`${filename}\` is larger than the limit of ${limits.maxSourceBytes} bytes`);
}

/** E0404: the script added more nodes than `max` (checked by the budget and by the Builder). */
export function tooManyNodes(max: number, span: Span | undefined): Diagnostic {
  return limitDiagnostic("E0404", `the script adds more than ${max} nodes`, span, RAISE_NODES);
}

function limitDiagnostic(code: DiagnosticCode, message: string, span: Span | undefined, help: string): Diagnostic {
  return span ? diagnostic(code, message, { span, help }) : diagnostic(code, message, { help });
}

function stop(code: DiagnosticCode, message: string, span: Span, help: string): never {
  throw new CompileError(limitDiagnostic(code, message, span, help));
}

/** Where the budget reports a limit reached between statements (the resolver's reporter). */
export interface LimitSink {
  report(d: Diagnostic): void;
  /** Whether a diagnostic of `code` was reported already. */
  has(code: DiagnosticCode): boolean;
}

/**
 * The running count of statements (after unrolling loops and inlining calls), the nesting of
 * loops, passes and calls, and the nodes added, against the limits. A limit reached between
 * statements is reported once, wherever later statements are; one reached inside a statement
 * stops that statement (a CompileError).
 */
export class Budget {
  private executed = 0;
  private depth = 0;
  private readonly startNodes: number;

  constructor(
    readonly limits: Limits,
    /** The main graph's size now (pass copies included). */
    private readonly graphSize: () => number,
  ) {
    this.startNodes = graphSize();
  }

  /** Statements past the limit: the rest of the script is skipped. */
  get exhausted(): boolean {
    return this.executed > this.limits.maxStatements;
  }

  private nodesOver(): boolean {
    return this.graphSize() - this.startNodes > this.limits.maxNodes;
  }

  /** Count a statement about to run; false (after reporting why, once) when a limit stops it. */
  statement(span: Span, sink: LimitSink): boolean {
    this.executed++;
    const { maxStatements, maxNodes } = this.limits;
    if (this.executed > maxStatements) {
      if (this.executed === maxStatements + 1) {
        sink.report(diagnostic("E0401", `the script unrolls to more than ${maxStatements} statements`, { span, help: RAISE_STATEMENTS }));
      }
      return false;
    }
    if (this.nodesOver()) {
      if (this.executed > 0 && !sink.has("E0404")) sink.report(tooManyNodes(maxNodes, span));
      return false;
    }
    return true;
  }

  /**
   * A pass about to start. Each pass but the last is a copy of the model: thousands of passes
   * would copy it thousands of times before any statement checked the node limit (found by
   * test/fuzz.test.ts).
   */
  pass(span: Span, sink: LimitSink): boolean {
    if (!this.nodesOver()) return true;
    sink.report(tooManyNodes(this.limits.maxNodes, span));
    return false;
  }

  /**
   * A call of a `def`, about to be inlined: one level deeper, and one statement of the budget. A
   * call counts as a statement: without this, `def f1(x) = f0(x) + f0(x)` chained 60 deep
   * expanded 2^60 times inside one statement, past every limit (found by test/fuzz.test.ts).
   * The caller runs the body and then calls `leave()`.
   */
  enterCall(span: Span): void {
    const { maxDepth, maxStatements, maxNodes } = this.limits;
    if (++this.depth > maxDepth) {
      this.depth--;
      stop("E0404", `function calls nest deeper than ${maxDepth}`, span, "a `def` that calls itself never ends; raise the limit with `--max-depth N` if the nesting is intended");
    }
    if (++this.executed > maxStatements) {
      this.depth--;
      stop("E0401", `the script unrolls to more than ${maxStatements} statements`, span, `each call of a \`def\` counts as a statement; ${RAISE_STATEMENTS}`);
    }
    if (this.nodesOver()) {
      this.depth--;
      stop("E0404", `the script adds more than ${maxNodes} nodes`, span, RAISE_NODES);
    }
  }

  /** A loop about to unroll `count` times a body of `statements`: refused when it cannot fit. */
  loop(count: number, statements: number, span: Span): void {
    const total = count * Math.max(1, statements);
    if (total > this.limits.maxStatements) {
      stop("E0401", `the loop would unroll to ${total} statements, more than the limit of ${this.limits.maxStatements}`, span, RAISE_STATEMENTS);
    }
  }

  /** One level deeper for a loop; the caller calls `leave()` after it. */
  enterLoop(span: Span): void {
    if (++this.depth > this.limits.maxDepth) {
      this.depth--;
      stop("E0404", `loops, passes and calls nest deeper than ${this.limits.maxDepth}`, span, RAISE_DEPTH);
    }
  }

  /** One level deeper for a pass body (passes are top-level, so never past the limit). */
  enterPass(): void {
    this.depth++;
  }

  leave(): void {
    this.depth--;
  }

  /** `a + b` of two lists: `a = a + a` doubles a list with each statement, 64 of them 2^64 items. */
  list(items: number, span: Span): void {
    const max = this.limits.maxNodes;
    if (items > max) stop("E0404", `the list would have ${items} items, more than the limit of ${max}`, span, "lists count against the node limit; raise it with `--max-nodes N` if this is intended");
  }
}

/** E0404 for a JavaScript stack overflow while compiling one statement. */
export function nestsTooDeeply(span: Span): Diagnostic {
  return diagnostic("E0404", "the script nests too deeply to compile", { span, help: "a `def` that calls itself never ends; loops unroll at compile time" });
}
