// Source text → tokens, plus E0001 diagnostics for what is not a token.
//
// After Chevrotain's lexer has run, two small passes shape the token stream for the parser:
//   - `UnterminatedString` tokens become E0001 diagnostics and are dropped;
//   - `joinBracketedLines` drops Newline tokens inside an open `(` or `[`, so an expression may
//     span lines without a continuation marker (as in Python). Done here rather than with lexer
//     modes so the parser stays a plain LL grammar and an unbalanced `)` is a parser error with a
//     good message instead of a lexer-mode error.

import { Lexer, type ILexingError, type IToken } from "chevrotain";
import type { Diagnostic, Span } from "../common/index.js";
import { printString } from "./print.js";
import {
  allTokens,
  LBrace,
  LBracket,
  LParen,
  Newline,
  RBrace,
  RBracket,
  RParen,
  statementKeywords,
  StringLiteral,
  UnterminatedString,
} from "./tokens.js";

/** The lexer; `validate` checks the token definitions (as IntvParser's, done by a test: test/grammar.test.ts). */
export function buildLexer(options: { validate?: boolean } = {}): Lexer {
  return new Lexer(allTokens, {
    positionTracking: "full",
    ensureOptimizations: true,
    skipValidations: options.validate !== true,
    // The default line terminators (`\n`, `\r\n`, `\r`) are what `Newline` matches.
  });
}

const lexer = buildLexer();

export interface LexResult {
  tokens: IToken[];
  diagnostics: Diagnostic[];
}

export function tokenize(source: string, file: string): LexResult {
  const lexed = lexer.tokenize(source);
  const diagnostics: Diagnostic[] = lexed.errors.map((e) => unexpectedCharacters(e, source, file));
  const kept: IToken[] = [];
  for (const token of lexed.tokens) {
    if (token.tokenType === UnterminatedString) {
      diagnostics.push({
        code: "E0001",
        severity: "error",
        message: "unterminated string",
        span: tokenSpan(token, file),
        help: 'close it with `"` on the same line; strings cannot span lines',
      });
      continue;
    }
    if (token.tokenType === StringLiteral) {
      if (token.image.startsWith("'")) {
        diagnostics.push({
          code: "E0001",
          severity: "error",
          message: "strings use double quotes",
          span: tokenSpan(token, file),
          help: `write ${printString(decodeString(token.image).value)}`,
        });
      }
      for (const problem of decodeString(token.image).problems) {
        diagnostics.push({
          code: "E0001",
          severity: "error",
          message: problem.message,
          span: {
            file,
            offset: token.startOffset + problem.offset,
            line: token.startLine!,
            col: token.startColumn! + problem.offset,
            length: problem.length,
          },
          help: "write `\\\\` for a backslash; the escapes are `\\\"` `\\\\` `\\n` `\\t` `\\r` `\\0` `\\u{…}`",
        });
      }
    }
    kept.push(token);
  }
  diagnostics.sort((a, b) => a.span!.offset - b.span!.offset);
  return { tokens: joinBracketedLines(kept), diagnostics };
}

/** The span of a lexed token (not one inserted by parser recovery: those have no position). */
export function tokenSpan(token: IToken, file: string): Span {
  return { file, offset: token.startOffset, line: token.startLine!, col: token.startColumn!, length: token.image.length };
}

/**
 * Drops the Newline tokens that sit inside an open `(` or `[`.
 *
 * Recovery heuristics, so one missing `)` does not swallow the rest of the file:
 *   - `{` and `}` close every open bracket (blocks never appear inside brackets);
 *   - a line that starts with a statement keyword (`let`, `save`, `for`, `param`, `def`,
 *     `import`, `pass`) closes every open bracket, and the newline before it is kept.
 */
export function joinBracketedLines(tokens: IToken[]): IToken[] {
  const out: IToken[] = [];
  let open = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const type = token.tokenType;
    if (type === LParen || type === LBracket) open++;
    else if (type === RParen || type === RBracket) open = Math.max(0, open - 1);
    else if (type === LBrace || type === RBrace) open = 0;
    else if (type === Newline && open > 0) {
      let j = i + 1;
      while (j < tokens.length && tokens[j]!.tokenType === Newline) j++;
      const next = tokens[j];
      if (next !== undefined && statementKeywords.includes(next.tokenType)) open = 0;
      else continue;
    }
    out.push(token);
  }
  return out;
}

function unexpectedCharacters(error: ILexingError, source: string, file: string): Diagnostic {
  const text = source.slice(error.offset, error.offset + error.length);
  const first = String.fromCodePoint(text.codePointAt(0) ?? 0);
  // Chevrotain reports a run of unlexable characters as one error; name the run when it is
  // short and printable, otherwise its first character.
  const shown = text.length <= 12 && [...text].every(isPrintable) ? text : first;
  const described = isPrintable(first)
    ? `unexpected character${[...shown].length > 1 ? "s" : ""} \`${shown}\``
    : `unexpected control character ${codePointName(first)}`;
  const diagnostic: Diagnostic = {
    code: "E0001",
    severity: "error",
    message: described,
    span: { file, offset: error.offset, line: error.line ?? 1, col: error.column ?? 1, length: error.length },
  };
  const help = lexHelp(first);
  if (help !== undefined) diagnostic.help = help;
  return diagnostic;
}

function lexHelp(ch: string): string | undefined {
  switch (ch) {
    case "'":
      return 'strings use double quotes: `"…"`';
    case "!":
      return "`!=` is the only operator with `!`; there is no `not`";
    case "&":
    case "|":
      return "there are no logical operators; use `where(...)` with comparisons";
    case "%":
      return "there is no `%` operator";
    case "\\":
      return "a line cannot be continued with `\\`; open a `(` to continue an expression on the next line";
    default:
      return undefined;
  }
}

function isPrintable(ch: string): boolean {
  return !/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u.test(ch);
}

function codePointName(ch: string): string {
  return "U+" + (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
}

export interface StringProblem {
  /** Offset of the bad escape inside the token image (the opening quote is offset 0). */
  offset: number;
  length: number;
  message: string;
}

/** Decodes the image of a `StringLiteral` token (quotes included, `"` or `'`). Never throws. */
export function decodeString(image: string): { value: string; problems: StringProblem[] } {
  const problems: StringProblem[] = [];
  let value = "";
  const quote = image[0];
  const end = image.length >= 2 && image.endsWith(quote ?? '"') ? image.length - 1 : image.length;
  for (let i = 1; i < end; i++) {
    const ch = image[i]!;
    if (ch !== "\\") {
      value += ch;
      continue;
    }
    const next = image[i + 1];
    switch (next) {
      case '"':
      case "'":
        value += next;
        break;
      case "\\":
        value += "\\";
        break;
      case "n":
        value += "\n";
        break;
      case "t":
        value += "\t";
        break;
      case "r":
        value += "\r";
        break;
      case "0":
        value += "\0";
        break;
      case "u": {
        const m = /^\{([0-9a-fA-F]{1,6})\}/.exec(image.slice(i + 2, end));
        const code = m ? parseInt(m[1]!, 16) : NaN;
        if (m && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)) {
          value += String.fromCodePoint(code);
          i += 2 + m[0].length - 1;
        } else {
          problems.push({ offset: i, length: 2 + (m ? m[0].length : 0), message: "invalid unicode escape in string" });
          i += m ? 2 + m[0].length - 1 : 1;
        }
        continue;
      }
      default:
        problems.push({
          offset: i,
          length: next === undefined ? 1 : 1 + String.fromCodePoint(next.codePointAt(0)!).length,
          message: `unknown escape \`\\${next ?? ""}\` in string`,
        });
        value += next ?? "";
        break;
    }
    i++;
  }
  return { value, problems };
}
