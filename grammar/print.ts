// AST → source text, with only the parentheses precedence needs. Used to name expressions in
// diagnostics (`transformer.h[2].mlp.output`) and to test the parser (parse ∘ print = id).

import type { Expr, IndexItem } from "./ast.js";

// Binding strength, loosest first; mirrors the rule levels in parser.ts. Shared with toAst.ts,
// which folds the parser's flat operator chain by the same table.
export const COMPARISON = 1;
const ADDITIVE = 2;
const MULTIPLICATIVE = 3;
const UNARY = 4;
const POWER = 5;
const POSTFIX = 6;
const ATOM = 7;

export const binaryLevel: Record<Extract<Expr, { kind: "Binary" }>["op"], number> = {
  "<": COMPARISON,
  "<=": COMPARISON,
  ">": COMPARISON,
  ">=": COMPARISON,
  "==": COMPARISON,
  "!=": COMPARISON,
  "+": ADDITIVE,
  "-": ADDITIVE,
  "*": MULTIPLICATIVE,
  "/": MULTIPLICATIVE,
  "@": MULTIPLICATIVE,
  "**": POWER,
};

function level(e: Expr): number {
  switch (e.kind) {
    case "Binary":
      return binaryLevel[e.op];
    case "Unary":
      return UNARY;
    case "Number":
      return e.raw.startsWith("-") ? UNARY : ATOM;
    case "Member":
    case "Index":
    case "Call":
      return POSTFIX;
    case "String":
    case "Bool":
    case "Name":
    case "List":
    case "Error":
      return ATOM;
    default: {
      const never: never = e;
      return never;
    }
  }
}

function wrap(e: Expr, parens: boolean): string {
  return parens ? `(${printExpr(e)})` : printExpr(e);
}

/** Escapes a string value as an `.intv` string literal. */
export function printString(value: string): string {
  let out = '"';
  for (const ch of value) {
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\0") out += "\\0";
    else if (ch.charCodeAt(0) < 0x20 || ch === "\u007f") out += `\\u{${ch.charCodeAt(0).toString(16)}}`;
    else out += ch;
  }
  return out + '"';
}

function printIndexItem(item: IndexItem): string {
  switch (item.kind) {
    case "Expr":
      return printExpr(item.expr);
    case "Ellipsis":
      return "...";
    case "Slice": {
      const start = item.start ? printExpr(item.start) : "";
      const stop = item.stop ? printExpr(item.stop) : "";
      return item.step ? `${start}:${stop}:${printExpr(item.step)}` : `${start}:${stop}`;
    }
    default: {
      const never: never = item;
      return never;
    }
  }
}

/** The expression as source text, e.g. `transformer.h[-1].output` or `mean(x, axis=0)`. */
export function printExpr(e: Expr): string {
  switch (e.kind) {
    case "Number":
      return e.raw;
    case "String":
      return printString(e.value);
    case "Bool":
      return e.value ? "true" : "false";
    case "Name":
      return e.name;
    case "Error":
      return "<error>";
    case "List":
      return `[${e.elements.map(printExpr).join(", ")}]`;
    case "Member":
      return `${wrap(e.object, level(e.object) < POSTFIX)}.${e.property}`;
    case "Index":
      return `${wrap(e.object, level(e.object) < POSTFIX)}[${e.items.map(printIndexItem).join(", ")}]`;
    case "Call": {
      const args = [...e.args.map(printExpr), ...e.kwargs.map((k) => `${k.name}=${printExpr(k.value)}`)];
      return `${wrap(e.callee, level(e.callee) < POSTFIX)}(${args.join(", ")})`;
    }
    case "Unary":
      return `-${wrap(e.operand, level(e.operand) < UNARY || (e.operand.kind === "Number" && level(e.operand) === UNARY))}`;
    case "Binary": {
      const own = binaryLevel[e.op];
      if (e.op === "**") {
        return `${wrap(e.left, level(e.left) <= POWER)}**${wrap(e.right, level(e.right) < UNARY)}`;
      }
      const rightParens = level(e.right) <= own;
      const leftParens = own === COMPARISON ? level(e.left) <= own : level(e.left) < own;
      return `${wrap(e.left, leftParens)} ${e.op} ${wrap(e.right, rightParens)}`;
    }
    default: {
      const never: never = e;
      return never;
    }
  }
}
