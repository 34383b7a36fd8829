// The grammar stage: `.intv` source text → typed AST plus syntax diagnostics.
//
//   tokenize (lexer.ts) → parser.script() (parser.ts) → describe errors (syntaxErrors.ts)
//                       → CST → AST (toAst.ts)
//
// Codes: E0001 a character or string the lexer cannot read; E0002 a token the parser did not
// expect or a token that is missing; E0003 a script nested too deeply to parse (see MAX_NESTING).

import type { Diagnostic } from "../common/index.js";
import type { IToken } from "chevrotain";
import type { Expr, Script, Stmt } from "./ast.js";
import { tokenize, tokenSpan } from "./lexer.js";
import { parser } from "./parser.js";
import { syntaxDiagnostics } from "./syntaxErrors.js";
import { AstBuilder } from "./toAst.js";
import { LBrace, LBracket, LParen, RBrace, RBracket, RParen } from "./tokens.js";

export type * from "./ast.js";
export { tokenize, type LexResult } from "./lexer.js";
export { printExpr } from "./print.js";

let builder: AstBuilder | undefined;

/**
 * How deep brackets (`(` `[` `{`) may nest, and how deep an expression may be (operator chains
 * such as `1+1+...+1` or `x[0][0]...` nest without brackets). The parser and every later stage
 * walk the tree recursively, so a deeper script (10,000 `(`, found by test/fuzz.test.ts) overflowed
 * the stack: a crash instead of a diagnostic. No script a person writes comes near these limits
 * (Python's parser stops at 200 brackets); they are not raisable, as they protect the stack.
 */
export const MAX_NESTING = 200;
export const MAX_EXPR_DEPTH = 1000;

const tooDeep = (span: Diagnostic["span"], what: string): Diagnostic => ({
  code: "E0003",
  severity: "error",
  message: `${what} nest${what.endsWith("s") ? "" : "s"} too deeply to parse`,
  span,
  help: `brackets may nest ${MAX_NESTING} deep and an expression ${MAX_EXPR_DEPTH} deep; bind parts to names with \`let\``,
});

/** The first bracket that opens a level deeper than MAX_NESTING, if any. */
function tooDeepBracket(tokens: readonly IToken[]): IToken | undefined {
  let depth = 0;
  for (const t of tokens) {
    if (t.tokenType === LParen || t.tokenType === LBracket || t.tokenType === LBrace) {
      if (++depth > MAX_NESTING) return t;
    } else if (t.tokenType === RParen || t.tokenType === RBracket || t.tokenType === RBrace) {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

/** The direct sub-expressions of a statement or an expression. */
function children(node: Stmt | Expr): Expr[] {
  switch (node.kind) {
    case "Let":
      return [node.value];
    case "Save":
      return node.index ? [node.index, node.value] : [node.value];
    case "Assign":
      return [node.target, node.value];
    case "For":
      return node.iterable.kind === "Range" ? [node.iterable.start, node.iterable.end] : [node.iterable.expr];
    case "Param":
      return node.default ? [node.default] : [];
    case "Def":
      return [node.body];
    case "Pass":
      return node.overrides.map((o) => o.value);
    case "Import":
    case "Number":
    case "String":
    case "Bool":
    case "Name":
    case "Error":
      return [];
    case "Member":
      return [node.object];
    case "Index":
      return [node.object, ...node.items.flatMap((it) => (it.kind === "Expr" ? [it.expr] : it.kind === "Slice" ? [it.start, it.stop, it.step].filter((e): e is Expr => e !== undefined) : []))];
    case "Call":
      return [node.callee, ...node.args, ...node.kwargs.map((k) => k.value)];
    case "Unary":
      return [node.operand];
    case "Binary":
      return [node.left, node.right];
    case "List":
      return node.elements;
    default: {
      const never: never = node;
      return never;
    }
  }
}

/** An expression deeper than MAX_EXPR_DEPTH in `stmt` (or a statement nested in it), found without recursion. */
function tooDeepExpr(stmt: Stmt): Expr | undefined {
  const stack: [Stmt | Expr, number][] = [[stmt, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > MAX_EXPR_DEPTH) return node as Expr;
    for (const child of children(node)) stack.push([child, depth + 1]);
    if (node.kind === "For" || node.kind === "Pass") for (const s of node.body) stack.push([s, 0]);
  }
  return undefined;
}

const emptyScript = (source: string, file: string): Script => ({
  file,
  source,
  statements: [],
  span: { file, offset: 0, line: 1, col: 1, length: source.length },
});

/**
 * Half of a UTF-16 surrogate pair, alone: not text, and not encodable as UTF-8. In a comment it
 * went on into the compiled model (each inserted node's doc string holds its source line) and
 * the model could not be written (found by test/fuzz.test.ts). Only a caller of the API can pass
 * one; the command line reads UTF-8.
 */
function loneSurrogates(source: string, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const re = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
  let line = 1;
  let lineStart = 0;
  let scanned = 0;
  for (let m = re.exec(source); m && out.length < 100; m = re.exec(source)) {
    const breaks = /\r\n|\r|\n/g;
    breaks.lastIndex = scanned;
    for (let b = breaks.exec(source); b && b.index < m.index; b = breaks.exec(source)) {
      line++;
      lineStart = b.index + b[0].length;
    }
    scanned = lineStart;
    const code = m[0].charCodeAt(0).toString(16).toUpperCase();
    out.push({
      code: "E0001",
      severity: "error",
      message: `a lone surrogate (U+${code}) is not text`,
      span: { file, offset: m.index, line, col: m.index - lineStart + 1, length: 1 },
      help: "the script must be valid Unicode; was it decoded from bytes that are not UTF-8?",
    });
  }
  return out;
}

const isStackOverflow = (e: unknown): boolean => e instanceof RangeError && /call stack/i.test(e.message);

/**
 * Parses a script. Never throws on bad input: every syntax error it can find is in
 * `diagnostics`, and `script` holds every statement it could read.
 */
export function parse(source: string, file: string): { script: Script; diagnostics: Diagnostic[] } {
  const surrogates = loneSurrogates(source, file);
  if (surrogates.length > 0) return { script: emptyScript(source, file), diagnostics: surrogates };
  const lexed = tokenize(source, file);
  const script = (statements: Stmt[]): Script => ({
    file,
    source,
    statements,
    span: { file, offset: 0, line: 1, col: 1, length: source.length },
  });
  const deepBracket = tooDeepBracket(lexed.tokens);
  if (deepBracket) return { script: script([]), diagnostics: [...lexed.diagnostics, tooDeep(tokenSpan(deepBracket, file), "brackets")] };
  let statements: Stmt[];
  let diagnostics: Diagnostic[];
  try {
    parser.input = lexed.tokens;
    const cst = parser.script();
    const syntax = syntaxDiagnostics(
      parser.errors,
      lexed.tokens,
      lexed.diagnostics.map((d) => d.span!),
      source,
      file,
    );
    builder ??= new AstBuilder();
    builder.reset(file);
    statements = cst === undefined ? [] : (builder.visit(cst) as Stmt[]);
    diagnostics = [...lexed.diagnostics, ...syntax, ...builder.diagnostics];
  } catch (e) {
    // The parser can still overflow the stack: on an operator chain it recurses on (`1**1**1...`),
    // and because Chevrotain recurses once per error it recovers from in a statement list (a few
    // thousand bad lines crashed intv; found by test/fuzz.test.ts). Report what it found so far.
    if (!isStackOverflow(e)) throw e;
    const found = parser.errors;
    const syntax = syntaxDiagnostics(found, lexed.tokens, lexed.diagnostics.map((d) => d.span!), source, file).slice(0, 100);
    if (found.length > 100) {
      const last = syntax[syntax.length - 1]!;
      const stop: Diagnostic = { code: "E0003", severity: "error", message: `too many syntax errors (${found.length}) to go on`, span: last.span, help: "is this an .intv script?" };
      return { script: script([]), diagnostics: [...lexed.diagnostics, ...syntax, stop] };
    }
    // A few errors before the overflow are the overflow's own doing (a deep chain cut short).
    const at = lexed.tokens[0] ? tokenSpan(lexed.tokens[0], file) : { file, offset: 0, line: 1, col: 1, length: 0 };
    return { script: script([]), diagnostics: [...lexed.diagnostics, tooDeep(at, "the script")] };
  }
  // Drop statements with an expression too deep for the later (recursive) stages.
  statements = statements.filter((s) => {
    const deep = tooDeepExpr(s);
    if (deep) diagnostics.push(tooDeep(deep.span, "this expression"));
    return !deep;
  });
  diagnostics.sort((a, b) => (a.span?.offset ?? 0) - (b.span?.offset ?? 0));
  return { script: script(statements), diagnostics };
}
