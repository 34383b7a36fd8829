// The `.intv` grammar as a Chevrotain `CstParser`.
//
// One instance (`parser`) is built once and reused: set `parser.input = tokens`, call
// `parser.script()`, read `parser.errors`. Error recovery is on, so a run records every syntax
// error it can and returns a CST with partial nodes (`recoveredNode: true`) where it had to
// resynchronise; `toAst.ts` tolerates those.
//
// Statements end with a separator (newline or `;`) or just before a `}` or the end of the file
// (`statementEnd`). Putting the terminator inside `statement` (instead of requiring separators
// between statements in the list) lets recovery treat `let x = 1 let y = 2` as one missing
// separator rather than abandoning the rest of the file.
//
// Precedence, loosest to tightest:
//   comparisons `< <= > >= == !=`  non-associative (a chain is reported by toAst)
//   `+ -`                          left-associative
//   `* / @`                        left-associative
//   prefix `-`
//   `**`                           right-associative; its right operand may start with `-`
//   postfix `.name` `(args)` `[index]`
//   atoms: literals, names, `( expression )`, `[ list ]`
// The three binary levels are one flat rule (`expression`), ordered by `toAst.ts`; the rest is
// one rule per level.

import { CstParser, EMPTY_ALT, EOF, tokenMatcher, type IParserErrorMessageProvider, type TokenType } from "chevrotain";
import {
  As,
  Assign,
  AssignOp,
  BinaryOp,
  Colon,
  Comma,
  Def,
  Dot,
  DotDot,
  Ellipsis,
  False,
  For,
  Identifier,
  Import,
  In,
  Integer,
  LBrace,
  LBracket,
  Let,
  LParen,
  Minus,
  Newline,
  NumberLiteral,
  Param,
  parserTokens,
  Pass,
  Question,
  RBrace,
  RBracket,
  RParen,
  Save,
  Semicolon,
  StarStar,
  StringLiteral,
  True,
} from "./tokens.js";

/**
 * What a parser error was, as data. The error message provider encodes it as JSON in the
 * exception's message; `syntaxErrors.ts` decodes it and writes the human message.
 */
export type SyntaxErrorInfo =
  | { kind: "mismatch"; rule: string; expected: string }
  | { kind: "noViableAlt"; rule: string; expected: string[] }
  | { kind: "earlyExit"; rule: string; expected: string[] }
  | { kind: "notAllInput"; rule: string };

const firstTokenNames = (paths: TokenType[][]): string[] => [
  ...new Set(paths.filter((p) => p.length > 0).map((p) => p[0]!.name)),
];

const structuredMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, ruleName }) =>
    JSON.stringify({ kind: "mismatch", rule: ruleName, expected: expected.name } satisfies SyntaxErrorInfo),
  buildNotAllInputParsedMessage: ({ ruleName }) =>
    JSON.stringify({ kind: "notAllInput", rule: ruleName } satisfies SyntaxErrorInfo),
  buildNoViableAltMessage: ({ expectedPathsPerAlt, ruleName }) =>
    JSON.stringify({
      kind: "noViableAlt",
      rule: ruleName,
      expected: firstTokenNames(expectedPathsPerAlt.flat()),
    } satisfies SyntaxErrorInfo),
  buildEarlyExitMessage: ({ expectedIterationPaths, ruleName }) =>
    JSON.stringify({
      kind: "earlyExit",
      rule: ruleName,
      expected: firstTokenNames(expectedIterationPaths),
    } satisfies SyntaxErrorInfo),
};

const resyncPoints = new Set<TokenType>([Newline, Semicolon, LBrace, RBrace, RParen, RBracket, Comma]);

const boundaryBefore = new Set<TokenType>([Newline, Semicolon, LBrace, RBrace, EOF]);

export class IntvParser extends CstParser {
  /**
   * `validate`: run Chevrotain's checks of the grammar (ambiguous alternatives, left recursion,
   * duplicate rules) while building it. They find mistakes in this file, not in scripts, and took
   * half of the parser's construction (40 ms of every `intv check`), so the one instance below
   * skips them and test/grammar.test.ts builds a validated one.
   */
  constructor(options: { validate?: boolean } = {}) {
    super(parserTokens, {
      recoveryEnabled: true,
      maxLookahead: 3,
      nodeLocationTracking: "full",
      errorMessageProvider: structuredMessages,
      skipValidations: options.validate !== true,
    });
    this.performSelfAnalysis();
  }

  // --- statements ----------------------------------------------------------------------------

  public script = this.RULE("script", () => {
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(Newline) },
        { ALT: () => this.CONSUME(Semicolon) },
        { ALT: () => this.SUBRULE(this.statement) },
      ]);
    });
  });

  public block = this.RULE("block", () => {
    this.CONSUME(LBrace);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(Newline) },
        { ALT: () => this.CONSUME(Semicolon) },
        { ALT: () => this.SUBRULE(this.statement) },
      ]);
    });
    this.CONSUME(RBrace);
  });

  public statement = this.RULE("statement", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.letStatement) },
      { ALT: () => this.SUBRULE(this.saveStatement) },
      { ALT: () => this.SUBRULE(this.forStatement) },
      { ALT: () => this.SUBRULE(this.paramStatement) },
      { ALT: () => this.SUBRULE(this.defStatement) },
      { ALT: () => this.SUBRULE(this.importStatement) },
      { ALT: () => this.SUBRULE(this.passStatement) },
      { ALT: () => this.SUBRULE(this.assignStatement) },
    ]);
    this.SUBRULE(this.statementEnd);
  });

  /** A newline or `;`, or nothing right before a `}` or the end of the input. */
  public statementEnd = this.RULE("statementEnd", () => {
    this.OR([
      { ALT: () => this.CONSUME(Newline) },
      { ALT: () => this.CONSUME(Semicolon) },
      {
        GATE: () => {
          const next = this.LA(1).tokenType;
          return next === RBrace || next === EOF;
        },
        ALT: EMPTY_ALT(),
      },
    ]);
  });

  /** `let NAME = expr` */
  public letStatement = this.RULE("letStatement", () => {
    this.CONSUME(Let);
    this.CONSUME(Identifier);
    this.CONSUME(Assign);
    this.SUBRULE(this.expression);
  });

  /** `save NAME = expr` or `save NAME[index] = expr` */
  public saveStatement = this.RULE("saveStatement", () => {
    this.CONSUME(Save);
    this.CONSUME(Identifier);
    this.OPTION(() => {
      this.CONSUME(LBracket);
      this.SUBRULE(this.expression);
      this.CONSUME(RBracket);
    });
    this.CONSUME(Assign);
    this.SUBRULE2(this.expression);
  });

  /** `for NAME in iterable { ... }` */
  public forStatement = this.RULE("forStatement", () => {
    this.CONSUME(For);
    this.CONSUME(Identifier);
    this.CONSUME(In);
    this.SUBRULE(this.iterable);
    this.SUBRULE(this.block);
  });

  /** `a..b` (a range) or any expression (a list). */
  public iterable = this.RULE("iterable", () => {
    this.SUBRULE(this.expression);
    this.OPTION(() => {
      this.CONSUME(DotDot);
      this.SUBRULE2(this.expression);
    });
  });

  /** `param NAME: TYPE`, `param NAME: TYPE[dims]`, optionally `= default`. */
  public paramStatement = this.RULE("paramStatement", () => {
    this.CONSUME(Param);
    this.CONSUME(Identifier);
    this.CONSUME(Colon);
    this.CONSUME2(Identifier);
    this.OPTION(() => {
      this.CONSUME(LBracket);
      this.OPTION2(() => {
        this.SUBRULE(this.paramDim);
        this.MANY(() => {
          this.CONSUME(Comma);
          this.SUBRULE2(this.paramDim);
        });
        this.OPTION3(() => this.CONSUME2(Comma));
      });
      this.CONSUME(RBracket);
    });
    this.OPTION4(() => {
      this.CONSUME(Assign);
      this.SUBRULE(this.expression);
    });
  });

  /** `768`, `seq`, `?` */
  public paramDim = this.RULE("paramDim", () => {
    this.OR([
      { ALT: () => this.CONSUME(Integer) },
      { ALT: () => this.CONSUME(Identifier) },
      { ALT: () => this.CONSUME(Question) },
    ]);
  });

  /** `def NAME(a, b) = expr` */
  public defStatement = this.RULE("defStatement", () => {
    this.CONSUME(Def);
    this.CONSUME(Identifier);
    this.CONSUME(LParen);
    this.OPTION(() => {
      this.CONSUME2(Identifier);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.CONSUME3(Identifier);
      });
      this.OPTION2(() => this.CONSUME2(Comma));
    });
    this.CONSUME(RParen);
    this.CONSUME(Assign);
    this.SUBRULE(this.expression);
  });

  /** `import "file.onnx" as NAME` */
  public importStatement = this.RULE("importStatement", () => {
    this.CONSUME(Import);
    this.CONSUME(StringLiteral);
    this.CONSUME(As);
    this.CONSUME(Identifier);
  });

  /** `pass NAME { ... }`, `pass NAME(input = expr, ...) { ... }`; `pass NAME[expr] ...` in a loop. */
  public passStatement = this.RULE("passStatement", () => {
    this.CONSUME(Pass);
    this.CONSUME(Identifier);
    this.OPTION4(() => {
      this.CONSUME(LBracket);
      this.SUBRULE2(this.expression);
      this.CONSUME(RBracket);
    });
    this.OPTION(() => {
      this.CONSUME(LParen);
      this.OPTION2(() => {
        this.SUBRULE(this.override);
        this.MANY(() => {
          this.CONSUME(Comma);
          this.SUBRULE2(this.override);
        });
        this.OPTION3(() => this.CONSUME2(Comma));
      });
      this.CONSUME(RParen);
    });
    this.SUBRULE(this.block);
  });

  /** `input_ids = expr`; a model input whose name is not an identifier may be a string. */
  public override = this.RULE("override", () => {
    this.OR([{ ALT: () => this.CONSUME(Identifier) }, { ALT: () => this.CONSUME(StringLiteral) }]);
    this.CONSUME(Assign);
    this.SUBRULE(this.expression);
  });

  /** `target = expr`, `target += expr`, …: a patch or a rebinding (the resolver decides). */
  public assignStatement = this.RULE("assignStatement", () => {
    this.SUBRULE(this.postfix);
    this.CONSUME(AssignOp);
    this.SUBRULE(this.expression);
  });

  // --- expressions ---------------------------------------------------------------------------

  /**
   * A flat chain `unary (op unary)*` over every binary operator but `**`; `toAst.ts` applies
   * precedence and associativity (one rule per level would cost seven rule calls per operand).
   */
  public expression = this.RULE("expression", () => {
    this.SUBRULE(this.unary);
    this.MANY(() => {
      this.CONSUME(BinaryOp);
      this.SUBRULE2(this.unary);
    });
  });

  /** `-`* then a power: `-x**2` is `-(x**2)`; the exponent is again a `unary`, so `2**-1` parses. */
  public unary = this.RULE("unary", () => {
    this.MANY(() => this.CONSUME(Minus));
    this.SUBRULE(this.postfix);
    this.OPTION(() => {
      this.CONSUME(StarStar);
      this.SUBRULE(this.unary);
    });
  });

  /** An atom followed by any number of `.name`, `(args)` and `[index]`. */
  public postfix = this.RULE("postfix", () => {
    this.OR([
      { ALT: () => this.CONSUME(NumberLiteral) },
      { ALT: () => this.CONSUME(StringLiteral) },
      { ALT: () => this.CONSUME(True) },
      { ALT: () => this.CONSUME(False) },
      { ALT: () => this.CONSUME(Identifier) },
      { ALT: () => this.SUBRULE(this.parenthesized) },
      { ALT: () => this.SUBRULE(this.list) },
    ]);
    this.MANY(() => {
      this.OR2([
        { ALT: () => this.SUBRULE(this.memberSuffix) },
        { ALT: () => this.SUBRULE(this.callSuffix) },
        { ALT: () => this.SUBRULE(this.indexSuffix) },
      ]);
    });
  });

  public memberSuffix = this.RULE("memberSuffix", () => {
    this.CONSUME(Dot);
    this.CONSUME(Identifier);
  });

  public callSuffix = this.RULE("callSuffix", () => {
    this.CONSUME(LParen);
    this.OPTION(() => {
      this.SUBRULE(this.argument);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.argument);
      });
      this.OPTION2(() => this.CONSUME2(Comma));
    });
    this.CONSUME(RParen);
  });

  /** `name = expr` (keyword argument) or `expr` (positional). */
  public argument = this.RULE("argument", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(Identifier);
          this.CONSUME(Assign);
          this.SUBRULE(this.expression);
        },
      },
      { ALT: () => this.SUBRULE2(this.expression) },
    ]);
  });

  public indexSuffix = this.RULE("indexSuffix", () => {
    this.CONSUME(LBracket);
    this.SUBRULE(this.indexItem);
    this.MANY(() => {
      this.CONSUME(Comma);
      this.SUBRULE2(this.indexItem);
    });
    this.OPTION(() => this.CONSUME2(Comma));
    this.CONSUME(RBracket);
  });

  /** `...`, `expr`, or a slice `start:stop:step` with any part left out. */
  public indexItem = this.RULE("indexItem", () => {
    this.OR([
      { ALT: () => this.CONSUME(Ellipsis) },
      {
        ALT: () => {
          this.CONSUME(Colon);
          this.SUBRULE(this.sliceRest);
        },
      },
      {
        ALT: () => {
          this.SUBRULE(this.expression);
          this.OPTION(() => {
            this.CONSUME2(Colon);
            this.SUBRULE2(this.sliceRest);
          });
        },
      },
    ]);
  });

  /** What follows the first `:` of a slice: `stop? (: step?)?`. */
  public sliceRest = this.RULE("sliceRest", () => {
    this.OPTION(() => this.SUBRULE(this.expression));
    this.OPTION2(() => {
      this.CONSUME(Colon);
      this.OPTION3(() => this.SUBRULE2(this.expression));
    });
  });

  public parenthesized = this.RULE("parenthesized", () => {
    this.CONSUME(LParen);
    this.SUBRULE(this.expression);
    this.CONSUME(RParen);
  });

  public list = this.RULE("list", () => {
    this.CONSUME(LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.expression);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.expression);
      });
      this.OPTION2(() => this.CONSUME2(Comma));
    });
    this.CONSUME(RBracket);
  });

  /** A missing `{` is not invented: `for l in xs y {` should drop `y`, not open a block at it. */
  protected override canTokenTypeBeInsertedInRecovery(type: TokenType): boolean {
    return type !== LBrace;
  }

  /**
   * After a token that cannot start a statement (`+ 3` at the start of a line), Chevrotain skips
   * ahead and re-enters the statement loop at the first token that could start one — here `3`,
   * which gives a second, bogus error. In the statement lists of `script` and `block`, only
   * re-enter at a statement boundary: after a separator or a brace, or at a separator.
   * (Shadows an undeclared method of Chevrotain's recovery trait.)
   */
  tryInRepetitionRecovery(rule: unknown, args: unknown, lookahead: () => boolean, expected: TokenType): void {
    const internals = this as unknown as { getCurrRuleFullName(): string };
    const inherited = (Object.getPrototypeOf(IntvParser.prototype) as Record<string, (...a: unknown[]) => void>)
      .tryInRepetitionRecovery!;
    const name = internals.getCurrRuleFullName();
    const guarded =
      name === "script" || name === "block"
        ? function (this: IntvParser): boolean {
            return this.atStatementBoundary() && lookahead.call(this);
          }
        : lookahead;
    inherited.call(this, rule, args, guarded, expected);
  }

  private atStatementBoundary(): boolean {
    const next = this.LA(1).tokenType;
    const previous = this.LA(0).tokenType;
    return next === Newline || next === Semicolon || boundaryBefore.has(previous);
  }

  /**
   * Where to resume after an error. Chevrotain resumes at the first token ahead that may follow
   * any rule on the rule stack; in a line-based language that is too eager (any name or number
   * may start the next statement, so `save y + 2` would restart a statement at `2` and report a
   * second, bogus error). Here only separators, brackets and commas are resumption points.
   * (Shadows an undeclared method of Chevrotain's recovery trait.)
   */
  findReSyncTokenType(): TokenType {
    const follows = (this as unknown as { flattenFollowSet(): TokenType[] }).flattenFollowSet();
    for (let k = 1; ; k++) {
      // Looking further than this for each error made a long run of errors quadratic (1 MB of
      // stray punctuation took a minute; found by test/fuzz.test.ts): give up on the rest instead.
      if (k > MAX_RESYNC_LOOKAHEAD) return EOF;
      const next = this.LA(k);
      if (next.tokenType === EOF || resyncPoints.has(next.tokenType)) {
        const match = follows.find((type) => tokenMatcher(next, type));
        if (match !== undefined) return match;
      }
      if (next.tokenType === EOF) return EOF;
    }
  }
}

/** Tokens looked at to find where to resume after an error. */
const MAX_RESYNC_LOOKAHEAD = 1000;

/** The one parser instance (building one runs the grammar analysis; reuse it). */
export const parser = new IntvParser();

