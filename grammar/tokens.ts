// The tokens of the `.intv` language, in the order the lexer tries them.
//
// Chevrotain's lexer takes the FIRST pattern that matches at the current position (not the
// longest), so the order of `allTokens` below is part of the grammar:
//   1. trivia: horizontal whitespace and `#` comments (skipped);
//   2. statement separators: newlines and `;` (kept — the parser needs them);
//   3. keywords, each with `longer_alt: Identifier` so `letter`, `input`, `passes` stay names;
//   4. `Identifier`;
//   5. numbers (a float before an integer, so `1.5` is not `1` `.5`) and strings;
//   6. operators, longest first where one is a prefix of another:
//      `...` before `..` before `.`, `**` before `*=` before `*`, `+=` before `+`,
//      `==` before `=`, `<=` before `<`, …
//
// Newlines inside `(...)` and `[...]` do not end a statement. That is not done here but in
// `lexer.ts`, which drops a Newline token while a `(` or `[` is open (see `joinBracketedLines`).

import { createToken, Lexer, type TokenType } from "chevrotain";

// ---------------------------------------------------------------------------------------------
// 1. Trivia

export const WhiteSpace = createToken({
  name: "WhiteSpace",
  // Every horizontal blank, including the BOM and no-break space; never a line break.
  pattern: /[ \t\f\v\u00a0\ufeff]+/,
  group: Lexer.SKIPPED,
});

export const Comment = createToken({
  name: "Comment",
  pattern: /#[^\n\r]*/,
  group: Lexer.SKIPPED,
});

// ---------------------------------------------------------------------------------------------
// 2. Statement separators

export const Newline = createToken({
  name: "Newline",
  label: "end of line",
  pattern: /\r\n?|\n/,
  line_breaks: true,
});

export const Semicolon = createToken({ name: "Semicolon", label: "`;`", pattern: /;/ });

// ---------------------------------------------------------------------------------------------
// 4. (declared before the keywords, which refer to it as their `longer_alt`)

/** Names: ASCII letters, digits and `_`, not starting with a digit. */
export const Identifier = createToken({
  name: "Identifier",
  label: "a name",
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
});

// ---------------------------------------------------------------------------------------------
// 3. Keywords

function keyword(word: string): TokenType {
  return createToken({
    name: word[0]!.toUpperCase() + word.slice(1),
    label: `\`${word}\``,
    pattern: new RegExp(word),
    longer_alt: Identifier,
  });
}

export const Let = keyword("let");
export const Save = keyword("save");
export const For = keyword("for");
export const In = keyword("in");
export const Param = keyword("param");
export const Def = keyword("def");
export const Import = keyword("import");
export const As = keyword("as");
export const Pass = keyword("pass");
export const True = keyword("true");
export const False = keyword("false");

/** The keywords that start a statement: a line starting with one never continues a bracket. */
export const statementKeywords: readonly TokenType[] = [Let, Save, For, Param, Def, Import, Pass];

// ---------------------------------------------------------------------------------------------
// 5. Literals

/** Category of both number tokens. */
export const NumberLiteral = createToken({ name: "NumberLiteral", label: "a number", pattern: Lexer.NA });

/** `1.5`, `1e-3`, `2.5E+10`. A dot must have digits on both sides, so `0..12` is `0` `..` `12`. */
export const Float = createToken({
  name: "Float",
  label: "a number",
  pattern: /\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+/,
  categories: NumberLiteral,
});

export const Integer = createToken({
  name: "Integer",
  label: "an integer",
  pattern: /\d+/,
  categories: NumberLiteral,
});

/**
 * Double-quoted, on one line; escapes are checked and decoded by `lexer.ts`. A single-quoted
 * string is lexed too, so `lexer.ts` can report it (E0001) and parsing continues as if it were
 * double-quoted.
 */
export const StringLiteral = createToken({
  name: "StringLiteral",
  label: "a string",
  pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*"|'(?:[^'\\\n\r]|\\[^\n\r])*'/,
});

/**
 * A string that reaches the end of its line. Never reaches the parser: `lexer.ts` turns it into
 * an E0001 "unterminated string" and drops it, so the rest of the line is not lexed as code.
 */
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*\\?|'(?:[^'\\\n\r]|\\[^\n\r])*\\?/,
});

// ---------------------------------------------------------------------------------------------
// 6. Operators and punctuation

/** Every binary operator but `**`: the flat operator chain of `expression` in parser.ts. */
export const BinaryOp = createToken({ name: "BinaryOp", label: "an operator", pattern: Lexer.NA });
/** `=` and the compound assignments: a statement `REF op expr`. */
export const AssignOp = createToken({ name: "AssignOp", label: "`=`", pattern: Lexer.NA });
/** `+` `-` */
export const AdditiveOp = createToken({
  name: "AdditiveOp",
  label: "`+` or `-`",
  pattern: Lexer.NA,
  categories: BinaryOp,
});
/** `*` `/` `@` */
export const MultiplicativeOp = createToken({
  name: "MultiplicativeOp",
  label: "`*`, `/` or `@`",
  pattern: Lexer.NA,
  categories: BinaryOp,
});
/** `<` `<=` `>` `>=` `==` `!=` */
export const ComparisonOp = createToken({
  name: "ComparisonOp",
  label: "a comparison",
  pattern: Lexer.NA,
  categories: BinaryOp,
});

function punct(name: string, image: string, categories?: TokenType): TokenType {
  const escaped = image.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  return createToken({
    name,
    label: `\`${image}\``,
    pattern: new RegExp(escaped),
    ...(categories ? { categories } : {}),
  });
}

export const Ellipsis = punct("Ellipsis", "...");
export const DotDot = punct("DotDot", "..");
export const Dot = punct("Dot", ".");

export const StarStar = punct("StarStar", "**");
export const PlusAssign = punct("PlusAssign", "+=", AssignOp);
export const MinusAssign = punct("MinusAssign", "-=", AssignOp);
export const StarAssign = punct("StarAssign", "*=", AssignOp);
export const SlashAssign = punct("SlashAssign", "/=", AssignOp);

export const Plus = punct("Plus", "+", AdditiveOp);
export const Minus = punct("Minus", "-", AdditiveOp);
export const Star = punct("Star", "*", MultiplicativeOp);
export const Slash = punct("Slash", "/", MultiplicativeOp);
export const At = punct("At", "@", MultiplicativeOp);

export const EqEq = punct("EqEq", "==", ComparisonOp);
export const NotEq = punct("NotEq", "!=", ComparisonOp);
export const LtEq = punct("LtEq", "<=", ComparisonOp);
export const GtEq = punct("GtEq", ">=", ComparisonOp);
export const Lt = punct("Lt", "<", ComparisonOp);
export const Gt = punct("Gt", ">", ComparisonOp);

export const Assign = punct("Assign", "=", AssignOp);
export const Colon = punct("Colon", ":");
export const Comma = punct("Comma", ",");
export const Question = punct("Question", "?");
export const LParen = punct("LParen", "(");
export const RParen = punct("RParen", ")");
export const LBracket = punct("LBracket", "[");
export const RBracket = punct("RBracket", "]");
export const LBrace = punct("LBrace", "{");
export const RBrace = punct("RBrace", "}");

// ---------------------------------------------------------------------------------------------

/** Every token type, in lexing order (see the comment at the top of this file). */
export const allTokens: TokenType[] = [
  // 1. trivia
  WhiteSpace,
  Comment,
  // 2. separators
  Newline,
  Semicolon,
  // 3. keywords
  Let,
  Save,
  For,
  In,
  Param,
  Def,
  Import,
  As,
  Pass,
  True,
  False,
  // 4. names
  Identifier,
  // 5. literals (categories first: they match nothing themselves)
  NumberLiteral,
  Float,
  Integer,
  StringLiteral,
  UnterminatedString,
  // 6. operators: categories, then longest-prefix-first
  BinaryOp,
  AssignOp,
  AdditiveOp,
  MultiplicativeOp,
  ComparisonOp,
  Ellipsis,
  DotDot,
  Dot,
  StarStar,
  PlusAssign,
  MinusAssign,
  StarAssign,
  SlashAssign,
  Plus,
  Minus,
  Star,
  Slash,
  At,
  EqEq,
  NotEq,
  LtEq,
  GtEq,
  Lt,
  Gt,
  Assign,
  Colon,
  Comma,
  Question,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
];

/** The token types the parser sees (trivia and the unterminated-string marker never reach it). */
export const parserTokens: TokenType[] = allTokens.filter(
  (t) => t !== WhiteSpace && t !== Comment && t !== UnterminatedString,
);
