// The typed AST of a `.intv` script. Every node has a `span` (see `Span` for its units).
//
// Conventions the parser follows (also in docs/language.md):
//   - A parenthesised expression is the inner node with its span widened to the parentheses.
//   - A minus sign directly before a number literal is part of the literal: `-1` is
//     `Number { value: -1, raw: "-1" }`; `-x`, `-(x)` and `-2**2` (which is `-(2**2)`) are `Unary`.
//   - `Error` marks an expression that a syntax error (already reported) made unreadable. Later
//     stages should treat it as "unknown, stay silent" so one typo does not cascade.
//   - A statement whose name could not be read (`let = 1`) is left out of the AST; one with an
//     unreadable expression is kept, with an `Error` in its place.

import type { Span } from "../common/index.js";

export type { Span };

export type Expr =
  | { kind: "Number"; value: number; raw: string; span: Span }
  | { kind: "String"; value: string; span: Span }
  | { kind: "Bool"; value: boolean; span: Span }
  | { kind: "Name"; name: string; span: Span }
  | { kind: "Member"; object: Expr; property: string; propertySpan: Span; span: Span } // a.b
  | { kind: "Index"; object: Expr; items: IndexItem[]; span: Span } // a[...]
  | { kind: "Call"; callee: Expr; args: Expr[]; kwargs: KwArg[]; span: Span } // f(x, axis=-1)
  | { kind: "Unary"; op: "-"; operand: Expr; span: Span }
  | {
      kind: "Binary";
      op: "+" | "-" | "*" | "/" | "@" | "**" | "<" | "<=" | ">" | ">=" | "==" | "!=";
      left: Expr;
      right: Expr;
      span: Span;
    }
  | { kind: "List"; elements: Expr[]; span: Span }
  | { kind: "Error"; span: Span }; // placeholder left where recovery dropped an expression

export type IndexItem =
  | { kind: "Expr"; expr: Expr; span: Span } // x[3], x[i], model.inputs["ids"]
  | { kind: "Slice"; start?: Expr; stop?: Expr; step?: Expr; span: Span } // a:b:c with any part missing, ":" alone
  | { kind: "Ellipsis"; span: Span }; // ...

export interface KwArg {
  name: string;
  value: Expr;
  span: Span;
}

export type Stmt =
  | { kind: "Let"; name: string; nameSpan: Span; value: Expr; span: Span }
  | { kind: "Save"; name: string; nameSpan: Span; index?: Expr; value: Expr; span: Span } // save n = e / save n[l] = e
  | { kind: "Assign"; target: Expr; op: "=" | "+=" | "-=" | "*=" | "/="; value: Expr; span: Span } // rebinding OR patch; the resolver decides
  | { kind: "For"; variable: string; variableSpan: Span; iterable: Iterable; body: Stmt[]; span: Span }
  | {
      kind: "Param";
      name: string;
      nameSpan: Span;
      elemType: string;
      elemTypeSpan: Span;
      dims: ParamDim[] | null;
      default?: Expr;
      span: Span;
    } // dims null: scalar (`float32`), [] for `float32[]`
  | { kind: "Def"; name: string; nameSpan: Span; params: { name: string; span: Span }[]; body: Expr; span: Span }
  | { kind: "Import"; path: string; pathSpan: Span; alias: string; aliasSpan: Span; span: Span }
  | { kind: "Pass"; name: string; nameSpan: Span; overrides: KwArg[]; body: Stmt[]; span: Span };

export type Iterable = { kind: "Range"; start: Expr; end: Expr; span: Span } | { kind: "Expr"; expr: Expr; span: Span };

export type ParamDim =
  | { kind: "Fixed"; value: number; span: Span }
  | { kind: "Named"; name: string; span: Span }
  | { kind: "Unknown"; span: Span }; // 768, seq, ?

export interface Script {
  file: string;
  source: string;
  statements: Stmt[];
  span: Span;
}

export type BinaryOp = Extract<Expr, { kind: "Binary" }>["op"];
export type AssignOperator = Extract<Stmt, { kind: "Assign" }>["op"];

// One name per node kind, for code that handles a single kind.
export type NumberLit = Extract<Expr, { kind: "Number" }>;
export type StringLit = Extract<Expr, { kind: "String" }>;
export type BoolLit = Extract<Expr, { kind: "Bool" }>;
export type NameExpr = Extract<Expr, { kind: "Name" }>;
export type MemberExpr = Extract<Expr, { kind: "Member" }>;
export type IndexExpr = Extract<Expr, { kind: "Index" }>;
export type CallExpr = Extract<Expr, { kind: "Call" }>;
export type UnaryExpr = Extract<Expr, { kind: "Unary" }>;
export type BinaryExpr = Extract<Expr, { kind: "Binary" }>;
export type ListExpr = Extract<Expr, { kind: "List" }>;
export type ErrorExpr = Extract<Expr, { kind: "Error" }>;
export type SliceItem = Extract<IndexItem, { kind: "Slice" }>;
export type Let = Extract<Stmt, { kind: "Let" }>;
export type Save = Extract<Stmt, { kind: "Save" }>;
export type Assign = Extract<Stmt, { kind: "Assign" }>;
export type For = Extract<Stmt, { kind: "For" }>;
export type Param = Extract<Stmt, { kind: "Param" }>;
export type Def = Extract<Stmt, { kind: "Def" }>;
export type Import = Extract<Stmt, { kind: "Import" }>;
export type Pass = Extract<Stmt, { kind: "Pass" }>;
