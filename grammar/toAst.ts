// CST → AST: a typed visitor over the CST that `parser.ts` builds.
//
// The visitor never throws on a partial CST. Error recovery leaves nodes with missing children
// and tokens "inserted in recovery" (no position, empty image); a missing expression becomes an
// `Error` expression, a statement whose name is missing is dropped. Each visit method receives,
// as its parameter, a span to blame when something inside it is missing (its own location when
// known, else a place its caller chose).
//
// A few checks that are syntax but easier here than in the grammar are reported as E0002:
// chained comparisons and positional arguments after keyword arguments. (What may stand left
// of `=` is the resolver's question: E0211.)

import type { CstNode, IToken } from "chevrotain";
import type { Diagnostic, Span } from "../common/index.js";
import type { AssignOperator, BinaryOp, Expr, IndexItem, Iterable, KwArg, ParamDim, Stmt } from "./ast.js";
import type {
  ArgumentCstChildren,
  AssignStatementCstChildren,
  BlockCstChildren,
  CallSuffixCstChildren,
  DefStatementCstChildren,
  ExpressionCstChildren,
  ForStatementCstChildren,
  ICstNodeVisitor,
  ImportStatementCstChildren,
  IndexItemCstChildren,
  IndexSuffixCstChildren,
  IterableCstChildren,
  LetStatementCstChildren,
  ListCstChildren,
  MemberSuffixCstChildren,
  OverrideCstChildren,
  ParamDimCstChildren,
  ParamStatementCstChildren,
  ParenthesizedCstChildren,
  PassStatementCstChildren,
  PostfixCstChildren,
  SaveStatementCstChildren,
  ScriptCstChildren,
  SliceRestCstChildren,
  StatementCstChildren,
  StatementEndCstChildren,
  UnaryCstChildren,
} from "./cst.js";
import { decodeString } from "./lexer.js";
import { parser } from "./parser.js";
import { binaryLevel, COMPARISON } from "./print.js";

const BaseVisitor = parser.getBaseCstVisitorConstructor<Span, unknown>();

/** Binding strength of the operators in `expression`'s flat chain (`**` is in `unary`). */
const precedence: Record<string, number> = binaryLevel;

/** A real token: lexed, not inserted by recovery. */
function real(token: IToken | undefined): token is IToken {
  return token !== undefined && token.isInsertedInRecovery !== true && !Number.isNaN(token.startOffset);
}

/** The location of a CST node, when recovery left it one. */
function located(node: CstNode, file: string): Span | undefined {
  const loc = node.location;
  if (loc === undefined || Number.isNaN(loc.startOffset) || loc.startLine === undefined) return undefined;
  const end = Number.isNaN(loc.endOffset) ? loc.startOffset : loc.endOffset!;
  return { file, offset: loc.startOffset, line: loc.startLine, col: loc.startColumn!, length: end + 1 - loc.startOffset };
}

function startOf(node: CstNode): number {
  const offset = node.location?.startOffset;
  return offset === undefined || Number.isNaN(offset) ? Infinity : offset;
}

/** From the start of `a` to the end of `b` (which may be on a later line). */
export function join(a: Span, b: Span): Span {
  const end = Math.max(a.offset + a.length, b.offset + b.length);
  return { file: a.file, offset: a.offset, line: a.line, col: a.col, length: end - a.offset };
}

export class AstBuilder extends BaseVisitor implements ICstNodeVisitor<Span, unknown> {
  file = "";
  diagnostics: Diagnostic[] = [];

  constructor() {
    super();
    this.validateVisitor();
  }

  reset(file: string): void {
    this.file = file;
    this.diagnostics = [];
  }

  // --- helpers -------------------------------------------------------------------------------

  private span(token: IToken): Span {
    return {
      file: this.file,
      offset: token.startOffset,
      line: token.startLine!,
      col: token.startColumn!,
      length: token.image.length,
    };
  }

  /** An empty span just after `token`, or `fallback` if the token is not real. */
  private after(token: IToken | undefined, fallback: Span): Span {
    if (!real(token)) return fallback;
    return {
      file: this.file,
      offset: token.endOffset! + 1,
      line: token.endLine!,
      col: token.endColumn! + 1,
      length: 0,
    };
  }

  private expr(node: CstNode | undefined, at: Span): Expr {
    if (node === undefined) return { kind: "Error", span: at };
    // Only brackets take their span from the CST (the rest build theirs from their parts);
    // not making a span per rule saves a third of the time on long scripts.
    const own = node.name === "parenthesized" || node.name === "list" ? located(node, this.file) : undefined;
    return this.visit(node, own ?? at) as Expr;
  }

  private stmts(nodes: CstNode[] | undefined): Stmt[] {
    const out: Stmt[] = [];
    for (const node of nodes ?? []) {
      const stmt = this.visit(node, located(node, this.file) ?? this.nowhere()) as Stmt | undefined;
      if (stmt !== undefined) out.push(stmt);
    }
    return out;
  }

  private nowhere(): Span {
    return { file: this.file, offset: 0, line: 1, col: 1, length: 0 };
  }

  private error(span: Span, message: string, help?: string): void {
    const d: Diagnostic = { code: "E0002", severity: "error", message, span };
    if (help !== undefined) d.help = help;
    this.diagnostics.push(d);
  }

  // --- statements ----------------------------------------------------------------------------

  script(children: ScriptCstChildren): Stmt[] {
    return this.stmts(children.statement);
  }

  block(children: BlockCstChildren): Stmt[] {
    return this.stmts(children.statement);
  }

  statement(children: StatementCstChildren, at: Span): Stmt | undefined {
    const node =
      children.letStatement?.[0] ??
      children.saveStatement?.[0] ??
      children.forStatement?.[0] ??
      children.paramStatement?.[0] ??
      children.defStatement?.[0] ??
      children.importStatement?.[0] ??
      children.passStatement?.[0] ??
      children.assignStatement?.[0];
    if (node === undefined) return undefined;
    return this.visit(node, located(node, this.file) ?? at) as Stmt | undefined;
  }

  statementEnd(_children: StatementEndCstChildren): undefined {
    return undefined;
  }

  letStatement(c: LetStatementCstChildren, at: Span): Stmt | undefined {
    const name = c.Identifier?.[0];
    if (!real(name)) return undefined;
    const value = this.expr(c.expression?.[0], this.after(c.Assign?.[0], this.after(name, at)));
    return { kind: "Let", name: name.image, nameSpan: this.span(name), value, span: at };
  }

  saveStatement(c: SaveStatementCstChildren, at: Span): Stmt | undefined {
    const name = c.Identifier?.[0];
    if (!real(name)) return undefined;
    const assign = c.Assign?.[0];
    const split = real(assign) ? assign.startOffset : Infinity;
    const exprs = c.expression ?? [];
    const hasIndex = c.LBracket !== undefined;
    const indexNode = hasIndex ? exprs.find((e) => startOf(e) < split) : undefined;
    const valueNode = exprs.find((e) => e !== indexNode && (startOf(e) > split || !hasIndex));
    const stmt: Stmt = {
      kind: "Save",
      name: name.image,
      nameSpan: this.span(name),
      value: this.expr(valueNode, this.after(assign, at)),
      span: at,
    };
    if (hasIndex) stmt.index = this.expr(indexNode, this.after(c.LBracket?.[0], at));
    return stmt;
  }

  forStatement(c: ForStatementCstChildren, at: Span): Stmt | undefined {
    const variable = c.Identifier?.[0];
    if (!real(variable)) return undefined;
    const iterNode = c.iterable?.[0];
    const iterAt = this.after(c.In?.[0], this.after(variable, at));
    const iterable: Iterable = iterNode
      ? (this.visit(iterNode, located(iterNode, this.file) ?? iterAt) as Iterable)
      : { kind: "Expr", expr: { kind: "Error", span: iterAt }, span: iterAt };
    const blockNode = c.block?.[0];
    const body = blockNode ? (this.visit(blockNode, at) as Stmt[]) : [];
    return { kind: "For", variable: variable.image, variableSpan: this.span(variable), iterable, body, span: at };
  }

  iterable(c: IterableCstChildren, at: Span): Iterable {
    const [first, second] = c.expression ?? [];
    const start = this.expr(first, at);
    const dots = c.DotDot?.[0];
    if (dots === undefined) return { kind: "Expr", expr: start, span: start.span };
    const end = this.expr(second, this.after(dots, at));
    return { kind: "Range", start, end, span: join(start.span, end.span) };
  }

  paramStatement(c: ParamStatementCstChildren, at: Span): Stmt | undefined {
    const [name, elemType] = c.Identifier ?? [];
    if (!real(name) || !real(elemType)) return undefined;
    const dims: ParamDim[] | null =
      c.LBracket === undefined
        ? null
        : (c.paramDim ?? []).flatMap((d) => {
            const dim = this.visit(d, at) as ParamDim | undefined;
            return dim ? [dim] : [];
          });
    const stmt: Stmt = {
      kind: "Param",
      name: name.image,
      nameSpan: this.span(name),
      elemType: elemType.image,
      elemTypeSpan: this.span(elemType),
      dims,
      span: at,
    };
    if (c.Assign !== undefined) stmt.default = this.expr(c.expression?.[0], this.after(c.Assign[0], at));
    return stmt;
  }

  paramDim(c: ParamDimCstChildren): ParamDim | undefined {
    const int = c.Integer?.[0];
    if (real(int)) return { kind: "Fixed", value: Number(int.image), span: this.span(int) };
    const named = c.Identifier?.[0];
    if (real(named)) return { kind: "Named", name: named.image, span: this.span(named) };
    const unknown = c.Question?.[0];
    if (real(unknown)) return { kind: "Unknown", span: this.span(unknown) };
    return undefined;
  }

  defStatement(c: DefStatementCstChildren, at: Span): Stmt | undefined {
    const [name, ...params] = c.Identifier ?? [];
    if (!real(name)) return undefined;
    const body = this.expr(c.expression?.[0], this.after(c.Assign?.[0], at));
    return {
      kind: "Def",
      name: name.image,
      nameSpan: this.span(name),
      params: params.filter(real).map((p) => ({ name: p.image, span: this.span(p) })),
      body,
      span: at,
    };
  }

  importStatement(c: ImportStatementCstChildren, at: Span): Stmt | undefined {
    const path = c.StringLiteral?.[0];
    const alias = c.Identifier?.[0];
    if (!real(path) || !real(alias)) return undefined;
    return {
      kind: "Import",
      path: decodeString(path.image).value,
      pathSpan: this.span(path),
      alias: alias.image,
      aliasSpan: this.span(alias),
      span: at,
    };
  }

  passStatement(c: PassStatementCstChildren, at: Span): Stmt | undefined {
    const name = c.Identifier?.[0];
    if (!real(name)) return undefined;
    const overrides = (c.override ?? []).flatMap((o) => {
      const kw = this.visit(o, located(o, this.file) ?? at) as KwArg | undefined;
      return kw ? [kw] : [];
    });
    const blockNode = c.block?.[0];
    const body = blockNode ? (this.visit(blockNode, at) as Stmt[]) : [];
    return { kind: "Pass", name: name.image, nameSpan: this.span(name), overrides, body, span: at };
  }

  override(c: OverrideCstChildren, at: Span): KwArg | undefined {
    const ident = c.Identifier?.[0];
    const str = c.StringLiteral?.[0];
    const key = real(ident) ? ident : real(str) ? str : undefined;
    if (key === undefined) return undefined;
    const name = key === str ? decodeString(key.image).value : key.image;
    const value = this.expr(c.expression?.[0], this.after(c.Assign?.[0], at));
    return { name, value, span: join(this.span(key), value.span) };
  }

  assignStatement(c: AssignStatementCstChildren, at: Span): Stmt | undefined {
    const target = this.expr(c.postfix?.[0], at);
    const opToken = c.AssignOp?.[0];
    if (target.kind === "Error" || !real(opToken)) return undefined;
    const op = opToken.image as AssignOperator;
    const value = this.expr(c.expression?.[0], this.after(opToken, at));
    return { kind: "Assign", target, op, value, span: at };
  }

  // --- expressions ---------------------------------------------------------------------------

  /**
   * `unary (op unary)*` with precedence and associativity applied (precedence climbing):
   * `* / @` bind tighter than `+ -`, which bind tighter than comparisons; all left-associative,
   * and a second comparison in one chain (`a < b < c`) is an error.
   */
  expression(c: ExpressionCstChildren, at: Span): Expr {
    const ops = c.BinaryOp;
    if (ops === undefined) return this.expr(c.unary?.[0], at);
    const operands = ops.map((op, i) => this.expr(c.unary?.[i + 1], this.after(op, at)));
    operands.unshift(this.expr(c.unary?.[0], at));
    const comparisons = ops.filter((op) => precedence[op.image] === COMPARISON);
    if (comparisons.length > 1 && real(comparisons[1])) {
      this.error(
        this.span(comparisons[1]),
        `comparisons cannot be chained: \`${comparisons[0]!.image}\` and then \`${comparisons[1].image}\``,
        "add parentheses to say which comparison comes first, or use `where(...)` to combine two conditions",
      );
    }
    let next = 0; // index into ops
    const climb = (minLevel: number): Expr => {
      let left = operands[next]!;
      while (next < ops.length && precedence[ops[next]!.image]! >= minLevel) {
        const op = ops[next]!;
        const level = precedence[op.image]!;
        next++;
        const right = climb(level + 1);
        left = { kind: "Binary", op: op.image as BinaryOp, left, right, span: join(left.span, right.span) };
      }
      return left;
    };
    return climb(COMPARISON);
  }

  unary(c: UnaryCstChildren, at: Span): Expr {
    const base = this.expr(c.postfix?.[0], at);
    const starStar = c.StarStar?.[0];
    let value: Expr = base;
    if (starStar !== undefined) {
      const exponent = this.expr(c.unary?.[0], this.after(starStar, at));
      value = { kind: "Binary", op: "**", left: base, right: exponent, span: join(base.span, exponent.span) };
    }
    const minuses = c.Minus ?? [];
    for (let i = minuses.length - 1; i >= 0; i--) {
      const minus = minuses[i]!;
      const span = real(minus) ? join(this.span(minus), value.span) : value.span;
      value =
        value.kind === "Number" && !value.raw.startsWith("-")
          ? { kind: "Number", value: -value.value, raw: `-${value.raw}`, span }
          : { kind: "Unary", op: "-", operand: value, span };
    }
    return value;
  }

  postfix(c: PostfixCstChildren, at: Span): Expr {
    let object = this.atom(c, at);
    // The CST groups suffixes by kind; their order in the source is their order of application.
    const suffixes = [...(c.memberSuffix ?? []), ...(c.callSuffix ?? []), ...(c.indexSuffix ?? [])];
    if (suffixes.length > 1) suffixes.sort((a, b) => startOf(a) - startOf(b));
    for (const suffix of suffixes) {
      const end = located(suffix, this.file);
      const span = end ? join(object.span, end) : object.span;
      switch (suffix.name) {
        case "memberSuffix": {
          const property = (suffix.children as MemberSuffixCstChildren).Identifier?.[0];
          object = real(property)
            ? { kind: "Member", object, property: property.image, propertySpan: this.span(property), span }
            : { kind: "Error", span };
          break;
        }
        case "callSuffix": {
          const { args, kwargs } = this.visit(suffix, span) as { args: Expr[]; kwargs: KwArg[] };
          object = { kind: "Call", callee: object, args, kwargs, span };
          break;
        }
        default: {
          const items = this.visit(suffix, span) as IndexItem[];
          object = { kind: "Index", object, items, span };
          break;
        }
      }
    }
    return object;
  }

  /** The atom at the start of a postfix expression. */
  private atom(c: PostfixCstChildren, at: Span): Expr {
    const num = c.NumberLiteral?.[0];
    if (real(num)) return { kind: "Number", value: Number(num.image), raw: num.image, span: this.span(num) };
    const name = c.Identifier?.[0];
    if (real(name)) return { kind: "Name", name: name.image, span: this.span(name) };
    const str = c.StringLiteral?.[0];
    if (real(str)) return { kind: "String", value: decodeString(str.image).value, span: this.span(str) };
    const t = c.True?.[0] ?? c.False?.[0];
    if (real(t)) return { kind: "Bool", value: t.image === "true", span: this.span(t) };
    const inner = c.parenthesized?.[0] ?? c.list?.[0];
    if (inner !== undefined) return this.expr(inner, at);
    return { kind: "Error", span: { ...at, length: 0 } };
  }

  memberSuffix(_c: MemberSuffixCstChildren): undefined {
    return undefined; // read directly by `postfix`, which needs the object it applies to
  }

  callSuffix(c: CallSuffixCstChildren, at: Span): { args: Expr[]; kwargs: KwArg[] } {
    const args: Expr[] = [];
    const kwargs: KwArg[] = [];
    for (const node of c.argument ?? []) {
      const arg = this.visit(node, at) as Expr | KwArg;
      if ("kind" in arg) {
        if (kwargs.length > 0 && arg.kind !== "Error") {
          this.error(
            arg.span,
            "positional argument after keyword arguments",
            `move it before \`${kwargs[0]!.name}=\``,
          );
        }
        args.push(arg);
      } else {
        kwargs.push(arg);
      }
    }
    return { args, kwargs };
  }

  argument(c: ArgumentCstChildren, at: Span): Expr | KwArg {
    const name = c.Identifier?.[0];
    if (name === undefined) return this.expr(c.expression?.[0], at);
    const value = this.expr(c.expression?.[0], this.after(c.Assign?.[0], at));
    const start = real(name) ? this.span(name) : value.span;
    return { name: name.image, value, span: join(start, value.span) };
  }

  indexSuffix(c: IndexSuffixCstChildren, at: Span): IndexItem[] {
    return (c.indexItem ?? []).flatMap((node) => {
      const item = this.visit(node, located(node, this.file) ?? at) as IndexItem | undefined;
      return item ? [item] : [];
    });
  }

  indexItem(c: IndexItemCstChildren, at: Span): IndexItem | undefined {
    const ellipsis = c.Ellipsis?.[0];
    if (ellipsis !== undefined) return { kind: "Ellipsis", span: real(ellipsis) ? this.span(ellipsis) : at };
    const colon = c.Colon?.[0];
    const startNode = c.expression?.[0];
    if (colon === undefined) {
      if (startNode === undefined) return undefined;
      const expr = this.expr(startNode, at);
      return { kind: "Expr", expr, span: expr.span };
    }
    const item: Extract<IndexItem, { kind: "Slice" }> = { kind: "Slice", span: at };
    if (startNode !== undefined) item.start = this.expr(startNode, at);
    const rest = c.sliceRest?.[0];
    if (rest !== undefined) {
      const { stop, step } = this.visit(rest, located(rest, this.file) ?? at) as { stop?: Expr; step?: Expr };
      if (stop !== undefined) item.stop = stop;
      if (step !== undefined) item.step = step;
    }
    return item;
  }

  sliceRest(c: SliceRestCstChildren, at: Span): { stop?: Expr; step?: Expr } {
    const colon = c.Colon?.[0];
    const split = real(colon) ? colon.startOffset : Infinity;
    const out: { stop?: Expr; step?: Expr } = {};
    for (const node of c.expression ?? []) {
      const expr = this.expr(node, at);
      if (startOf(node) < split) out.stop = expr;
      else out.step = expr;
    }
    return out;
  }

  parenthesized(c: ParenthesizedCstChildren, at: Span): Expr {
    const inner = this.expr(c.expression?.[0], this.after(c.LParen?.[0], at));
    if (inner.kind === "Error") return inner;
    return { ...inner, span: at };
  }

  list(c: ListCstChildren, at: Span): Expr {
    const elements = (c.expression ?? []).map((node) => this.expr(node, at));
    return { kind: "List", elements, span: at };
  }
}
