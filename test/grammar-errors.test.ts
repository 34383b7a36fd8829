// The grammar stage's syntax errors: recovery (every mistake reported, good statements kept),
// positions, messages and help, against hand-written diagnostics.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "../grammar/index.js";
import { FILE, SEED_EXAMPLES, shape, span, where } from "./grammar-helpers.js";

function errors(source: string): string[] {
  return parse(source, FILE).diagnostics.map((d) => `${d.span!.line}:${d.span!.col} ${d.code} ${d.message}`);
}

describe("syntax errors", () => {
  test("three separate mistakes give three diagnostics, and the good statements survive", () => {
    const source = [
      "let a = 1",
      "save x + 2", // missing `=`
      "let b = 2",
      "for l in 0..12 {",
      "  c = f(l,, 1)", // stray comma
      "  save y[l] = c",
      "}",
      "let d = (3", // unclosed paren
      "let e = 4",
    ].join("\n");
    const { script, diagnostics } = parse(source, FILE);
    assert.deepEqual(
      diagnostics.map((d) => `${d.span!.line}:${d.span!.col} ${d.message}`),
      [
        "2:8 expected `=` after `save x`, found `+`",
        "5:11 expected an expression or `)` after `c = f(l,`, found `,`",
        "8:11 expected `)` after `let d = (3`, found end of line",
      ],
    );
    assert.ok(diagnostics.every((d) => d.code === "E0002" && d.severity === "error"));
    assert.deepEqual(
      script.statements.map((s) => `${s.kind}${"name" in s ? " " + s.name : ""}`),
      ["Let a", "Save x", "Let b", "For", "Let d", "Let e"],
    );
    const loop = script.statements[3]!;
    assert.equal(loop.kind, "For");
    if (loop.kind === "For") assert.deepEqual(loop.body.map((s) => s.kind), ["Assign", "Save"]);
    const save = script.statements[1]!;
    if (save.kind === "Save") assert.equal(save.value.kind, "Error");
  });

  test("messages name what was expected, after what, and what was found", () => {
    assert.deepEqual(errors("save x + 1"), ["1:8 E0002 expected `=` after `save x`, found `+`"]);
    assert.deepEqual(errors("let = 5"), ["1:5 E0002 expected a name after `let`, found `=`"]);
    assert.deepEqual(errors("let x = "), ["1:8 E0002 expected an expression after `let x =`, found end of file"]);
    assert.deepEqual(errors("let x = 1 let y = 2"), ["1:11 E0002 expected end of line or `;` after `let x = 1`, found `let`"]);
    assert.deepEqual(errors("for l 0..3 { }"), ["1:7 E0002 expected `in` after `for l`, found `0`"]);
    assert.deepEqual(errors("for l in 0..3 x { }"), ["1:15 E0002 expected `{` after `for l in 0..3`, found `x`"]);
    assert.deepEqual(errors("param p float32"), ["1:9 E0002 expected `:` after `param p`, found `float32`"]);
    assert.deepEqual(errors("param p: float32[1.5]"), [
      "1:18 E0002 expected a dimension (a number, a name or `?`) or `]` after `param p: float32[`, found `1.5`",
    ]);
    assert.deepEqual(errors('import tc as "x"'), ["1:8 E0002 expected a string after `import`, found `tc`"]);
    assert.deepEqual(errors("x[] = 1"), ["1:3 E0002 expected an index, a slice or `...` after `x[`, found `]`"]);
    assert.deepEqual(errors("y = f(1 2)"), ["1:9 E0002 expected `,` or `)` after `y = f(1`, found `2`"]);
    assert.deepEqual(errors("+ 3\nlet y = 2"), ["1:1 E0002 expected a statement, found `+`"]);
    assert.deepEqual(errors("mean(x)"), ["1:8 E0002 expected `=` after `mean(x)`, found end of file"]);
    assert.deepEqual(errors("let x = a < b < c"), ["1:15 E0002 comparisons cannot be chained: `<` and then `<`"]);
    assert.deepEqual(errors("let x = f(a=1, 2)"), ["1:16 E0002 positional argument after keyword arguments"]);
    // What may stand left of `=` is the resolver's question (E0211), not a syntax error.
    assert.deepEqual(errors("2 = x"), []);
  });

  test("help shows the form of the statement the error is in", () => {
    const help = (source: string) => parse(source, FILE).diagnostics.map((d) => d.help);
    assert.deepEqual(help("save x + 1"), [
      "a `save` statement is `save NAME = expression`, or `save NAME[index] = expression` in a loop",
    ]);
    assert.deepEqual(help("for l 0..3 { }"), ["a loop is `for NAME in START..END { ... }` or `for NAME in [a, b, c] { ... }`"]);
    assert.deepEqual(help("import tc"), ['an import is `import "file.onnx" as NAME`']);
    assert.deepEqual(help("param p: float32[1.5]"), [
      "a parameter is `param NAME: TYPE`, `param NAME: TYPE[768, seq, ?]`, optionally with `= default`",
    ]);
  });

  test("a keyword where a name should be says so", () => {
    const [d] = parse("let in = 3", FILE).diagnostics;
    assert.equal(d?.message, "expected a name after `let`, found `in`");
    assert.equal(d?.help, "`in` is a keyword and cannot be used as a name");
  });

  test("CRLF and CR line endings count lines like LF", () => {
    for (const eol of ["\r\n", "\r"]) {
      const { script, diagnostics } = parse(`let a = 1${eol}${eol}save x + 2${eol}let b = 2`, FILE);
      assert.deepEqual(diagnostics.map((d) => [d.span!.line, d.span!.col]), [[3, 8]]);
      assert.deepEqual(script.statements.map((s) => s.span.line), [1, 3, 4]);
    }
  });

  test("a stray closing brace", () => {
    const [d] = parse("let a = 1\n}", FILE).diagnostics;
    assert.equal(d?.message, "unexpected `}`");
    assert.equal(d?.help, "there is no open `{` for it to close");
  });

  test("an unclosed `{` is labelled where it was opened", () => {
    const { script, diagnostics } = parse("pass clean {\n  save x = 1\n\nlet y = 2\n", FILE);
    assert.equal(diagnostics.length, 1);
    const d = diagnostics[0]!;
    assert.equal(d.message, "expected `}`, found end of file");
    assert.deepEqual(d.labels?.map((l) => [where(l.span), l.message]), [[span(1, 12, 1), "unclosed `{`"]]);
    assert.equal(d.help, "add `}` to close the `{` on line 1");
    assert.equal(script.statements[0]?.kind, "Pass");
  });

  test("an unclosed `(` is labelled; the next statement still parses", () => {
    const { script, diagnostics } = parse("let z = mean(x,\nlet w = 1", FILE);
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0]!.message, "expected an expression or `)` after `let z = mean(x,`, found end of line");
    assert.deepEqual(diagnostics[0]!.labels?.map((l) => where(l.span)), [span(1, 13, 1)]);
    assert.deepEqual(script.statements.map((s) => s.kind), ["Let", "Let"]);
  });

  test("E0001: characters and strings the lexer cannot read", () => {
    assert.deepEqual(errors("let x = $ + 1"), ["1:9 E0001 unexpected character `$`"]);
    assert.deepEqual(errors("let x = \u0000 1"), ["1:9 E0001 unexpected control character U+0000"]);
    assert.deepEqual(errors("\u0000"), ["1:1 E0001 unexpected control character U+0000"]);
    assert.deepEqual(errors("let x = 1\u0007\nlet y = 2"), ["1:10 E0001 unexpected control character U+0007"]);
    assert.deepEqual(errors('let s = "abc\nlet t = 1'), ["1:9 E0001 unterminated string"]);
    assert.deepEqual(errors('let s = "a\\qb"'), ["1:11 E0001 unknown escape `\\q` in string"]);
    assert.deepEqual(errors("let s = 'x'"), ["1:9 E0001 strings use double quotes"]);
    const d = parse("let s = 'x'", FILE).diagnostics[0]!;
    assert.equal(d.help, 'write "x"');
    // The single-quoted string still parses as a string.
    const s = parse("let s = 'x'", FILE).script.statements[0]!;
    assert.deepEqual(shape(s), { kind: "Let", name: "s", value: { kind: "String", value: "x" } });
  });

  test("every diagnostic has an in-bounds span, and nothing throws, on every prefix of the seed examples", () => {
    for (let i = 0; i <= SEED_EXAMPLES.length; i++) {
      const source = SEED_EXAMPLES.slice(0, i);
      const { diagnostics } = parse(source, FILE);
      for (const d of diagnostics) {
        assert.ok(d.span, `no span at prefix ${i}`);
        assert.ok(d.span.offset >= 0 && d.span.offset + d.span.length <= source.length, `span out of bounds at prefix ${i}`);
        assert.ok(d.span.line >= 1 && d.span.col >= 1);
        assert.match(d.message, /^[a-z]/);
      }
    }
  });

  test("random token soup never throws", () => {
    const pieces = [
      "let", "save", "for", "in", "param", "def", "import", "as", "pass", "x", "h", "1", "2.5", '"s"', "..", "...",
      ".", "(", ")", "[", "]", "{", "}", ",", ":", ";", "\n", "=", "+=", "+", "-", "*", "**", "/", "@", "<", "==", "?",
      "$", "'", "#c\n",
    ];
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 1500; round++) {
      const length = Math.floor(random() * 30);
      const source = Array.from({ length }, () => pieces[Math.floor(random() * pieces.length)]).join(" ");
      const { script } = parse(source, FILE);
      assert.ok(Array.isArray(script.statements));
    }
  });

  test("the parser is reusable: a clean parse after a broken one has no leftover errors", () => {
    parse("let = = =", FILE);
    assert.deepEqual(parse("let x = 1", FILE).diagnostics, []);
  });
});
