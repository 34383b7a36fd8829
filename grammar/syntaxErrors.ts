// Chevrotain's recognition exceptions → E0002 diagnostics in words a user can act on.
//
// The parser's error message provider (`parser.ts`) stores what went wrong as JSON in each
// exception's message (`SyntaxErrorInfo`); here that is combined with the tokens around the error
// to say what was expected, after what, and what was found instead:
//     expected `=` after `save x`, found `+`
// An error about a missing `}`, `)` or `]` carries a label at the bracket that was left open.

import { EOF, type IRecognitionException, type IToken, type TokenType } from "chevrotain";
import type { Diagnostic, Label, Span } from "../common/index.js";
import type { SyntaxErrorInfo } from "./parser.js";
import {
  Comma,
  LBrace,
  LBracket,
  LParen,
  Newline,
  parserTokens,
  RBrace,
  RBracket,
  RParen,
  Semicolon,
} from "./tokens.js";

const keywordNames = new Set(["let", "save", "for", "in", "param", "def", "import", "as", "pass", "true", "false"]);

const tokenByName = new Map<string, TokenType>(parserTokens.map((t) => [t.name, t]));

const closerFor = new Map<TokenType, TokenType>([
  [LBrace, RBrace],
  [LParen, RParen],
  [LBracket, RBracket],
]);
const openerFor = new Map<TokenType, TokenType>([...closerFor].map(([o, c]) => [c, o]));

/** The shape of each statement, as help for a syntax error inside one. */
const statementForms: Record<string, string> = {
  letStatement: "a `let` statement is `let NAME = expression`",
  saveStatement: "a `save` statement is `save NAME = expression`, or `save NAME[index] = expression` in a loop",
  forStatement: "a loop is `for NAME in START..END { ... }` or `for NAME in [a, b, c] { ... }`",
  paramStatement: "a parameter is `param NAME: TYPE`, `param NAME: TYPE[768, seq, ?]`, optionally with `= default`",
  paramDim: "a parameter is `param NAME: TYPE`, `param NAME: TYPE[768, seq, ?]`, optionally with `= default`",
  defStatement: "a function is `def NAME(a, b) = expression`",
  importStatement: 'an import is `import "file.onnx" as NAME`',
  passStatement: "a pass is `pass NAME { ... }` or `pass NAME(input_name = value) { ... }`",
  override: "a pass is `pass NAME { ... }` or `pass NAME(input_name = value) { ... }`",
};

const STATEMENT_HELP =
  "a statement starts with `let`, `save`, `for`, `param`, `def`, `import` or `pass`, or is an assignment `target = value`";

interface Context {
  source: string;
  file: string;
  tokens: IToken[];
  /** Spans of lexical errors: a parser error right after one is a consequence, not news. */
  lexErrors: Span[];
}

export function syntaxDiagnostics(
  errors: IRecognitionException[],
  tokens: IToken[],
  lexErrors: Span[],
  source: string,
  file: string,
): Diagnostic[] {
  const ctx: Context = { source, file, tokens, lexErrors };
  const out: Diagnostic[] = [];
  const seen = new Set<number>();
  for (const error of errors) {
    const diagnostic = describe(error, ctx);
    if (diagnostic === undefined) continue;
    const offset = diagnostic.span!.offset;
    if (seen.has(offset)) continue;
    seen.add(offset);
    out.push(diagnostic);
  }
  return out;
}

function isReal(token: IToken | undefined): token is IToken {
  return (
    token !== undefined &&
    token.tokenType !== EOF &&
    token.isInsertedInRecovery !== true &&
    !Number.isNaN(token.startOffset)
  );
}

function decode(message: string): SyntaxErrorInfo | undefined {
  try {
    const info = JSON.parse(message) as SyntaxErrorInfo;
    return typeof info === "object" && info !== null && "kind" in info ? info : undefined;
  } catch {
    return undefined;
  }
}

function tokenSpan(token: IToken, file: string): Span {
  return { file, offset: token.startOffset, line: token.startLine!, col: token.startColumn!, length: token.image.length };
}

/** An empty span just after `token` (where something was expected). */
function after(token: IToken, file: string): Span {
  return { file, offset: token.endOffset! + 1, line: token.endLine!, col: token.endColumn! + 1, length: 0 };
}

function endOfSource(source: string, file: string): Span {
  const lines = source.split(/\r\n|\r|\n/);
  const last = lines[lines.length - 1]!;
  return { file, offset: source.length, line: lines.length, col: last.length + 1, length: 0 };
}

function describeFound(token: IToken): string {
  if (token.tokenType === EOF || Number.isNaN(token.startOffset)) return "end of file";
  if (token.tokenType === Newline) return "end of line";
  const image = token.image.length > 24 ? `${token.image.slice(0, 23)}…` : token.image;
  return `\`${image}\``;
}

function describeExpected(name: string): string {
  if (name === "EOF") return "end of file";
  const type = tokenByName.get(name);
  return type?.LABEL ?? `\`${name}\``;
}

/** `token`, or the last token before it that is not a line break (a blank line says nothing). */
function contentBefore(token: IToken, ctx: Context): IToken | undefined {
  if (token.tokenType !== Newline) return token;
  for (let i = indexBefore(ctx.tokens, token.startOffset); i >= 0; i--) {
    if (ctx.tokens[i]!.tokenType !== Newline) return ctx.tokens[i];
  }
  return undefined;
}

/** Index of the last token that starts before `offset`, or -1. */
function indexBefore(tokens: IToken[], offset: number): number {
  let lo = 0;
  let hi = tokens.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid]!.startOffset < offset) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * The text of the statement so far, up to and including `previous`: `save x` in "expected `=`
 * after `save x`". Falls back to the previous token alone when the statement is long.
 */
function statementSoFar(previous: IToken, ctx: Context): string {
  const end = indexBefore(ctx.tokens, previous.startOffset + 1);
  let start = end;
  while (start > 0) {
    const type = ctx.tokens[start - 1]!.tokenType;
    if (type === Newline || type === Semicolon || type === LBrace || type === RBrace) break;
    start--;
  }
  const first = ctx.tokens[start];
  if (first !== undefined && start <= end) {
    const text = ctx.source.slice(first.startOffset, previous.endOffset! + 1).replace(/\s+/g, " ");
    if (text.length <= 32) return text;
  }
  return previous.image;
}

/** What a comma-separated list in each rule holds, for "expected an expression or `)`". */
const listItem: Record<string, string> = {
  defStatement: "a parameter name",
  passStatement: "a model input name",
  paramStatement: "a dimension (a number, a name or `?`)",
};

/** Whether a `closer` at bracket depth 0 follows `found` before the statement ends. */
function closedLater(found: IToken, closer: TokenType, ctx: Context): boolean {
  if (!isReal(found)) return false;
  let depth = 0;
  for (let i = indexBefore(ctx.tokens, found.startOffset + 1); i >= 0 && i < ctx.tokens.length; i++) {
    const type = ctx.tokens[i]!.tokenType;
    if (closerFor.has(type) && type !== LBrace) depth++;
    else if (openerFor.has(type) && type !== RBrace) {
      if (depth === 0) return type === closer;
      depth--;
    } else if (depth === 0 && (type === Newline || type === Semicolon || type === LBrace || type === RBrace)) {
      return false;
    }
  }
  return false;
}

/** The innermost bracket of the kind `closer` closes that is still open before `offset`. */
function unclosedOpener(closer: TokenType, offset: number, ctx: Context): IToken | undefined {
  const opener = openerFor.get(closer);
  if (opener === undefined) return undefined;
  const stack: IToken[] = [];
  for (const token of ctx.tokens) {
    if (token.startOffset >= offset) break;
    if (closerFor.has(token.tokenType)) stack.push(token);
    else if (openerFor.has(token.tokenType)) {
      const want = openerFor.get(token.tokenType);
      const at = stack.map((t) => t.tokenType).lastIndexOf(want!);
      if (at >= 0) stack.splice(at);
    }
  }
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.tokenType === opener) return stack[i];
  return undefined;
}

function describe(error: IRecognitionException, ctx: Context): Diagnostic | undefined {
  const info = decode(error.message);
  const found = error.token;
  const previous = (error as { previousToken?: IToken }).previousToken;
  const prev = isReal(previous) ? contentBefore(previous, ctx) : undefined;

  // Where to point: at the offending token when it is on the same line as what came before;
  // just after the previous token when the problem is a line or the file ending too early.
  let span: Span;
  if (isReal(found) && found.tokenType !== Newline) span = tokenSpan(found, ctx.file);
  else if (prev !== undefined) span = after(prev, ctx.file);
  else if (isReal(found)) span = tokenSpan(found, ctx.file);
  else span = endOfSource(ctx.source, ctx.file);

  // A token the lexer could not read was dropped just before this one: already reported.
  const gapStart = prev !== undefined ? prev.endOffset! + 1 : 0;
  const gapEnd = isReal(found) ? found.startOffset : ctx.source.length;
  if (ctx.lexErrors.some((e) => e.offset >= gapStart && e.offset < gapEnd + 1)) return undefined;

  const foundText = describeFound(found);
  const afterText = prev !== undefined ? ` after \`${statementSoFar(prev, ctx)}\`` : "";
  const diagnostic: Diagnostic = { code: "E0002", severity: "error", message: "", span };

  if (info === undefined) {
    diagnostic.message = `unexpected ${foundText}`;
    return diagnostic;
  }

  const described = describeInfo(info, diagnostic, { found, prev, foundText, afterText }, ctx);
  if (
    described.help === undefined &&
    ((info.kind === "mismatch" && info.expected === "Identifier") || info.kind === "noViableAlt") &&
    isReal(found) &&
    keywordNames.has(found.image)
  ) {
    described.help = `\`${found.image}\` is a keyword and cannot be used as a name`;
  }
  if (described.help === undefined && statementForms[info.rule] !== undefined) described.help = statementForms[info.rule];
  return described;
}

interface Found {
  found: IToken;
  prev: IToken | undefined;
  foundText: string;
  afterText: string;
}

function describeInfo(info: SyntaxErrorInfo, diagnostic: Diagnostic, at: Found, ctx: Context): Diagnostic {
  const { found, prev, foundText, afterText } = at;
  switch (info.kind) {
    case "mismatch": {
      // In-repetition recovery in a statement list: something that cannot start a statement.
      if (
        (info.expected === "EOF" || info.expected === "RBrace") &&
        (info.rule === "script" || info.rule === "block") &&
        isReal(found)
      ) {
        return notAStatement(diagnostic, found, foundText);
      }
      const expected = tokenByName.get(info.expected);
      const isCloser = expected !== undefined && openerFor.has(expected);
      // "expected `}` after `save x = 1`" says little; the label at the open bracket says more.
      const context = isCloser && !isReal(found) ? "" : afterText;
      let wanted = describeExpected(info.expected);
      if (isCloser && expected !== RBrace && info.rule !== "parenthesized") {
        // Inside a comma-separated list: `f(1 2)` lacks a comma more likely than a `)`.
        const item = listItem[info.rule] ?? "an expression";
        const afterSeparator = prev !== undefined && (prev.tokenType === Comma || closerFor.has(prev.tokenType));
        wanted = afterSeparator ? `${item} or ${wanted}` : `\`,\` or ${wanted}`;
      }
      diagnostic.message = `expected ${wanted}${context}, found ${foundText}`;
      if (isCloser && !closedLater(found, expected, ctx)) {
        const open = unclosedOpener(expected, isReal(found) ? found.startOffset : Infinity, ctx);
        if (open !== undefined) {
          const closer = expected.LABEL!;
          const opener = openerFor.get(expected)!.LABEL!;
          const label: Label = { span: tokenSpan(open, ctx.file), message: `unclosed ${opener}` };
          diagnostic.labels = [label];
          diagnostic.help = `add ${closer} to close the ${opener} on line ${open.startLine}`;
        }
      } else if (info.expected === "Assign" || info.expected === "AssignOp") {
        if (info.rule === "assignStatement") {
          diagnostic.help = `a line that does not start with a keyword must be an assignment or a patch: \`target = value\``;
        }
      }
      return diagnostic;
    }
    case "noViableAlt":
    case "earlyExit": {
      switch (info.rule) {
        case "statement":
          diagnostic.message = `expected a statement, found ${foundText}`;
          diagnostic.help = STATEMENT_HELP;
          break;
        case "statementEnd":
          diagnostic.message = `expected end of line or \`;\`${afterText}, found ${foundText}`;
          diagnostic.help = "put each statement on its own line, or separate statements with `;`";
          break;
        case "paramDim":
          diagnostic.message = `expected a dimension (a number, a name or \`?\`)${afterText}, found ${foundText}`;
          break;
        case "indexItem":
          diagnostic.message = `expected an index, a slice or \`...\`${afterText}, found ${foundText}`;
          break;
        case "override":
          diagnostic.message = `expected a model input name${afterText}, found ${foundText}`;
          break;
        default:
          diagnostic.message = `expected an expression${afterText}, found ${foundText}`;
          break;
      }
      return diagnostic;
    }
    case "notAllInput":
      return notAStatement(diagnostic, found, foundText);
  }
}

/** A token where a statement should start: a stray closing bracket, or something else. */
function notAStatement(diagnostic: Diagnostic, found: IToken, foundText: string): Diagnostic {
  const opener = isReal(found) ? openerFor.get(found.tokenType) : undefined;
  if (opener !== undefined) {
    diagnostic.message = `unexpected ${foundText}`;
    diagnostic.help = `there is no open ${opener.LABEL} for it to close`;
  } else {
    diagnostic.message = `expected a statement, found ${foundText}`;
    diagnostic.help = STATEMENT_HELP;
  }
  return diagnostic;
}
