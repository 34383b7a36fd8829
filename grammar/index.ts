// The grammar stage: `.intv` source text → typed AST plus syntax diagnostics.
//
//   tokenize (lexer.ts) → parser.script() (parser.ts) → describe errors (syntaxErrors.ts)
//                       → CST → AST (toAst.ts)
//
// Codes: E0001 a character or string the lexer cannot read; E0002 a token the parser did not
// expect or a token that is missing.

import type { Diagnostic } from "../compiler/diagnostics/diagnostic.js";
import type { Script, Stmt } from "./ast.js";
import { tokenize } from "./lexer.js";
import { parser } from "./parser.js";
import { syntaxDiagnostics } from "./syntaxErrors.js";
import { AstBuilder } from "./toAst.js";

export type * from "./ast.js";
export { tokenize, type LexResult } from "./lexer.js";
export { printExpr } from "./print.js";

let builder: AstBuilder | undefined;

/**
 * Parses a script. Never throws on bad input: every syntax error it can find is in
 * `diagnostics`, and `script` holds every statement it could read.
 */
export function parse(source: string, file: string): { script: Script; diagnostics: Diagnostic[] } {
  const lexed = tokenize(source, file);
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
  const statements = cst === undefined ? [] : (builder.visit(cst) as Stmt[]);
  const diagnostics = [...lexed.diagnostics, ...syntax, ...builder.diagnostics].sort(
    (a, b) => (a.span?.offset ?? 0) - (b.span?.offset ?? 0),
  );
  return {
    script: {
      file,
      source,
      statements,
      span: { file, offset: 0, line: 1, col: 1, length: source.length },
    },
    diagnostics,
  };
}
