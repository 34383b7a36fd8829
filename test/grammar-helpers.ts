// Helpers of the grammar tests (test/grammar.test.ts, test/grammar-errors.test.ts): token names,
// AST shapes without spans, and builders for expected ASTs.

import assert from "node:assert/strict";
import { parse, tokenize, type Expr, type Stmt } from "../grammar/index.js";

export const FILE = "t.intv";

/** Token type names, without the trivia the lexer skips. */
export function tokenNames(source: string): string[] {
  const { tokens, diagnostics } = tokenize(source, FILE);
  assert.deepEqual(diagnostics, []);
  return tokens.map((t) => t.tokenType.name);
}

/** A deep copy without spans, to compare shapes. */
export function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== "span" && !k.endsWith("Span"))
        .map(([k, v]) => [k, shape(v)]),
    );
  }
  return value;
}

export function ok(source: string): Stmt[] {
  const { script, diagnostics } = parse(source, FILE);
  assert.deepEqual(diagnostics, [], `unexpected diagnostics for ${JSON.stringify(source)}`);
  return script.statements;
}

/** The value of `let e = <source>`. */
export function expr(source: string): Expr {
  const [stmt] = ok(`let e = ${source}`);
  assert.equal(stmt?.kind, "Let");
  return (stmt as Extract<Stmt, { kind: "Let" }>).value;
}

export const n = (value: number, raw = String(value)) => ({ kind: "Number", value, raw });
export const name = (s: string) => ({ kind: "Name", name: s });
export const bin = (op: string, left: unknown, right: unknown) => ({ kind: "Binary", op, left, right });
export const member = (object: unknown, property: string) => ({ kind: "Member", object, property });
export const index = (object: unknown, ...items: unknown[]) => ({ kind: "Index", object, items });
export const item = (e: unknown) => ({ kind: "Expr", expr: e });
export const call = (callee: unknown, args: unknown[], kwargs: unknown[] = []) => ({ kind: "Call", callee, args, kwargs });
export const path = (...parts: (string | number)[]) =>
  parts.slice(1).reduce<unknown>(
    (obj, p) => (typeof p === "number" ? index(obj, item(n(p))) : member(obj, p)),
    name(String(parts[0])),
  );

export function span(line: number, col: number, length: number) {
  return { line, col, length };
}
export function where(s: { line: number; col: number; length: number }) {
  return { line: s.line, col: s.col, length: s.length };
}

/** The seed examples of the brief, as one script. */
export const SEED_EXAMPLES = `# 1. Replace MLP 8's output with MLP 2's: fine, layer 2 runs first.
transformer.h[8].mlp.output = transformer.h[2].mlp.output

# 2. The reverse is a cycle: compile-time error naming h[2] and h[8], suggesting two passes.
transformer.h[2].mlp.output = transformer.h[8].mlp.output

# 3. The reverse done right, with two passes compiled into one model and one run.
pass first  { save mlp8 = transformer.h[8].mlp.output }
pass second { transformer.h[2].mlp.output = first.mlp8 }

# 4. Skip every MLP: each MLP's output becomes its layer norm's input.
for l in 0..len(transformer.h) {
  transformer.h[l].mlp.output = transformer.h[l].ln_2.input
}

# 5. Layer by layer, each patch computed from all MLP inputs so far (a cross-layer replacement).
def fancy_op(xs) = mean(stack(xs), axis=0)
let cache = []
for l in 0..len(transformer.h) {
  cache = cache + [transformer.h[l].ln_2.input]
  transformer.h[l].mlp.output = fancy_op(cache)
}

# 6. The same, collecting all inputs first: equal results to 5, and no false cycle.
let cache = []
for l in 0..len(transformer.h) { cache = cache + [transformer.h[l].ln_2.input] }
let stacked = unbind(stack(cache), axis=0)
for l in 0..len(transformer.h) {
  transformer.h[l].mlp.output = fancy_op(stacked[0:l+1])
}
`;
