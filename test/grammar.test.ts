// The grammar stage against hand-written tokens and ASTs (syntax errors: grammar-errors.test.ts).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { cstTypesSource } from "../grammar/cstTypes.js";
import { buildLexer } from "../grammar/lexer.js";
import { IntvParser } from "../grammar/parser.js";
import { parse, printExpr, tokenize, type Stmt } from "../grammar/index.js";
import { FILE, SEED_EXAMPLES, bin, call, expr, index, item, member, n, name, ok, path, shape, span, tokenNames, where } from "./grammar-helpers.js";

// ---------------------------------------------------------------------------------------------

describe("grammar definition", () => {
  // The parser and lexer the compiler uses skip Chevrotain's checks of their own definitions (they
  // cost 40 ms of every command that parses); built here with them, they throw on an ambiguous
  // alternative, left recursion, a token that can never match, and the like.
  test("Chevrotain's validations pass", () => {
    assert.doesNotThrow(() => buildLexer({ validate: true }));
    // performSelfAnalysis throws "Parser Definition Errors detected" with the list.
    assert.doesNotThrow(() => new IntvParser({ validate: true }));
  });
});

describe("tokens", () => {
  test("ranges, floats, exponents", () => {
    assert.deepEqual(tokenNames("0..12"), ["Integer", "DotDot", "Integer"]);
    assert.deepEqual(tokenNames("1e-3 2.5 1.5E+10 7"), ["Float", "Float", "Float", "Integer"]);
    assert.deepEqual(tokenNames("0.5..2"), ["Float", "DotDot", "Integer"]);
  });

  test("operators: longest first", () => {
    assert.deepEqual(tokenNames("** * *= += -= /= + - / @"), [
      "StarStar", "Star", "StarAssign", "PlusAssign", "MinusAssign", "SlashAssign", "Plus", "Minus", "Slash", "At",
    ]);
    assert.deepEqual(tokenNames("... .. . == = != <= >= < >"), [
      "Ellipsis", "DotDot", "Dot", "EqEq", "Assign", "NotEq", "LtEq", "GtEq", "Lt", "Gt",
    ]);
    assert.deepEqual(tokenNames("x[..., 0:10]"), [
      "Identifier", "LBracket", "Ellipsis", "Comma", "Integer", "Colon", "Integer", "RBracket",
    ]);
    assert.deepEqual(tokenNames("a**-1"), ["Identifier", "StarStar", "Minus", "Integer"]);
  });

  test("keywords, and names that merely start like one", () => {
    assert.deepEqual(tokenNames("let save for in param def import as pass true false"), [
      "Let", "Save", "For", "In", "Param", "Def", "Import", "As", "Pass", "True", "False",
    ]);
    assert.deepEqual(
      tokenNames("input inputs output outputs weight letter passes import_ trueish _x x1"),
      Array(11).fill("Identifier"),
    );
  });

  test("comments and whitespace are skipped; newlines and `;` separate", () => {
    assert.deepEqual(tokenNames("let x = 1 # one\n\tlet y = 2; z = 3\r\n"), [
      "Let", "Identifier", "Assign", "Integer", "Newline",
      "Let", "Identifier", "Assign", "Integer", "Semicolon",
      "Identifier", "Assign", "Integer", "Newline",
    ]);
  });

  test("newlines inside ( ) and [ ] are dropped, not inside { }", () => {
    assert.deepEqual(tokenNames("f(1,\n 2)\n[\n3\n]"), [
      "Identifier", "LParen", "Integer", "Comma", "Integer", "RParen", "Newline", "LBracket", "Integer", "RBracket",
    ]);
    assert.deepEqual(tokenNames("{\n}"), ["LBrace", "Newline", "RBrace"]);
  });

  test("positions are 1-based lines and columns in UTF-16 units", () => {
    const { tokens } = tokenize('# é😀\n  let s = "😀" ; x', FILE);
    const x = tokens[tokens.length - 1]!;
    assert.equal(x.image, "x");
    assert.equal(x.startLine, 2);
    assert.equal(x.startColumn, 18); // the emoji counts two units
  });
});

// ---------------------------------------------------------------------------------------------

describe("statements", () => {
  test("let, rebinding, save, indexed save", () => {
    assert.deepEqual(shape(ok("let x = 1\nx = 2\nsave y = x\nsave y[l] = x")), [
      { kind: "Let", name: "x", value: n(1) },
      { kind: "Assign", target: name("x"), op: "=", value: n(2) },
      { kind: "Save", name: "y", value: name("x") },
      { kind: "Save", name: "y", index: name("l"), value: name("x") },
    ]);
  });

  test("spans of a statement and its parts", () => {
    const [stmt] = ok("\n  save acts[l] = transformer.h[l].output  # c");
    assert.equal(stmt?.kind, "Save");
    if (stmt?.kind !== "Save") return;
    assert.deepEqual(where(stmt.span), span(2, 3, 38));
    assert.equal(stmt.span.offset, 3);
    assert.equal(stmt.span.file, FILE);
    assert.deepEqual(where(stmt.nameSpan), span(2, 8, 4));
    assert.deepEqual(where(stmt.index!.span), span(2, 13, 1));
    assert.deepEqual(where(stmt.value.span), span(2, 18, 23));
    const value = stmt.value;
    assert.equal(value.kind, "Member");
    if (value.kind !== "Member") return;
    assert.deepEqual(where(value.propertySpan), span(2, 35, 6));
    assert.deepEqual(where(value.object.span), span(2, 18, 16)); // transformer.h[l]
  });

  test("patches: plain, sliced, compound", () => {
    const stmts = ok(
      "transformer.h[2].mlp.output = 0\n" +
        "transformer.h[2].mlp.output[:, -1, :] = x\n" +
        "model.output += 1; a -= 1; b *= 2; c /= 2",
    );
    assert.deepEqual(shape(stmts[0]), { kind: "Assign", target: path("transformer", "h", 2, "mlp", "output"), op: "=", value: n(0) });
    assert.deepEqual(shape(stmts[1]), {
      kind: "Assign",
      target: index(path("transformer", "h", 2, "mlp", "output"), { kind: "Slice" }, item(n(-1, "-1")), { kind: "Slice" }),
      op: "=",
      value: name("x"),
    });
    assert.deepEqual(
      stmts.slice(2).map((s) => (s.kind === "Assign" ? s.op : s.kind)),
      ["+=", "-=", "*=", "/="],
    );
  });

  test("for over a range, a list, and up to len(...); nested, one line or several", () => {
    const stmts = ok(
      "for l in 0..12 { }\n" +
        "for l in [0, 3, 7] { save a[l] = 1 }\n" +
        "for l in 0..len(transformer.h) {\n  for k in 0..2 {\n    x = 1\n  }\n}",
    );
    assert.deepEqual(shape(stmts[0]), { kind: "For", variable: "l", iterable: { kind: "Range", start: n(0), end: n(12) }, body: [] });
    assert.deepEqual(shape(stmts[1]), {
      kind: "For",
      variable: "l",
      iterable: { kind: "Expr", expr: { kind: "List", elements: [n(0), n(3), n(7)] } },
      body: [{ kind: "Save", name: "a", index: name("l"), value: n(1) }],
    });
    assert.deepEqual(shape(stmts[2]), {
      kind: "For",
      variable: "l",
      iterable: { kind: "Range", start: n(0), end: call(name("len"), [path("transformer", "h")]) },
      body: [
        {
          kind: "For",
          variable: "k",
          iterable: { kind: "Range", start: n(0), end: n(2) },
          body: [{ kind: "Assign", target: name("x"), op: "=", value: n(1) }],
        },
      ],
    });
    const outer = stmts[2]!;
    assert.deepEqual(where(outer.span), span(3, 1, 66));
    if (outer.kind === "For") {
      assert.deepEqual(where(outer.variableSpan), span(3, 5, 1));
      assert.deepEqual(where(outer.iterable.span), span(3, 10, 21));
    }
  });

  test("param: scalar, dims of every kind, empty dims, default", () => {
    assert.deepEqual(
      shape(ok("param steer: float32[768]\nparam x: float32[batch, ?, 768]\nparam alpha: float32 = 4.0\nparam v: int64[]")),
      [
        { kind: "Param", name: "steer", elemType: "float32", dims: [{ kind: "Fixed", value: 768 }] },
        {
          kind: "Param",
          name: "x",
          elemType: "float32",
          dims: [{ kind: "Named", name: "batch" }, { kind: "Unknown" }, { kind: "Fixed", value: 768 }],
        },
        { kind: "Param", name: "alpha", elemType: "float32", dims: null, default: n(4, "4.0") },
        { kind: "Param", name: "v", elemType: "int64", dims: [] },
      ],
    );
    const [p] = ok("param alpha: float32 = 4.0");
    if (p?.kind !== "Param") return assert.fail();
    assert.deepEqual(where(p.elemTypeSpan), span(1, 14, 7));
    assert.deepEqual(where(p.default!.span), span(1, 24, 3));
  });

  test("def and import", () => {
    assert.deepEqual(shape(ok('def fancy(xs) = mean(stack(xs), axis=0)\nimport "transcoder.onnx" as tc\ny = tc(x)[1]')), [
      {
        kind: "Def",
        name: "fancy",
        params: [{ name: "xs" }],
        body: call(name("mean"), [call(name("stack"), [name("xs")])], [{ name: "axis", value: n(0) }]),
      },
      { kind: "Import", path: "transcoder.onnx", alias: "tc" },
      { kind: "Assign", target: name("y"), op: "=", value: index(call(name("tc"), [name("x")]), item(n(1))) },
    ]);
    const [d, i] = ok('def f(a, b) = a\nimport "m.onnx" as m');
    if (d?.kind !== "Def" || i?.kind !== "Import") return assert.fail();
    assert.deepEqual(d.params.map((p) => where(p.span)), [span(1, 7, 1), span(1, 10, 1)]);
    assert.deepEqual(where(i.pathSpan), span(2, 8, 8));
    assert.deepEqual(where(i.aliasSpan), span(2, 20, 1));
  });

  test("passes, with and without input overrides", () => {
    assert.deepEqual(shape(ok("pass clean { save x = 1 }\npass corrupt(input_ids = corrupt_ids) {\n  y = clean.x\n}")), [
      { kind: "Pass", name: "clean", overrides: [], body: [{ kind: "Save", name: "x", value: n(1) }] },
      {
        kind: "Pass",
        name: "corrupt",
        overrides: [{ name: "input_ids", value: name("corrupt_ids") }],
        body: [{ kind: "Assign", target: name("y"), op: "=", value: member(name("clean"), "x") }],
      },
    ]);
    const [p] = ok('pass p("input.1" = x, mask = m,) { }');
    if (p?.kind !== "Pass") return assert.fail();
    assert.deepEqual(p.overrides.map((o) => o.name), ["input.1", "mask"]);
    assert.deepEqual(where(p.overrides[0]!.span), span(1, 8, 13));
  });

  test("separators: blank lines, `;`, comments, braces on one line", () => {
    const stmts = ok("\n\n# only a comment\nlet a = 1;;let b = 2 ;\n\npass p { let c = 3; let d = 4; }\n# end");
    assert.deepEqual(
      stmts.map((s) => s.kind),
      ["Let", "Let", "Pass"],
    );
    assert.equal((stmts[2] as Extract<Stmt, { kind: "Pass" }>).body.length, 2);
    assert.deepEqual(ok(""), []);
    assert.deepEqual(ok("# nothing\n"), []);
  });

  test("an expression may continue over lines inside brackets", () => {
    assert.deepEqual(shape(ok("let xs = [\n  a,\n  b,\n]\nlet y = f(\n  x,\n  axis=-1\n)")), [
      { kind: "Let", name: "xs", value: { kind: "List", elements: [name("a"), name("b")] } },
      { kind: "Let", name: "y", value: call(name("f"), [name("x")], [{ name: "axis", value: n(-1, "-1") }]) },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("expressions", () => {
  test("literals", () => {
    assert.deepEqual(shape(expr("2")), n(2));
    assert.deepEqual(shape(expr("-0.5")), n(-0.5, "-0.5"));
    assert.deepEqual(shape(expr("1e-3")), n(0.001, "1e-3"));
    assert.deepEqual(shape(expr("true")), { kind: "Bool", value: true });
    assert.deepEqual(shape(expr("false")), { kind: "Bool", value: false });
    assert.deepEqual(shape(expr('"a\\"b\\\\c\\n\\u{1F600}"')), { kind: "String", value: 'a"b\\c\n😀' });
    assert.deepEqual(shape(expr("[]")), { kind: "List", elements: [] });
  });

  test("references: model, ports, inputs by name, tensors by ONNX name", () => {
    assert.deepEqual(shape(expr('model.inputs["input_ids"]')), index(path("model", "inputs"), item({ kind: "String", value: "input_ids" })));
    assert.deepEqual(shape(expr('tensor("/transformer/h.2/attn/Softmax_output_0")')), call(name("tensor"), [{ kind: "String", value: "/transformer/h.2/attn/Softmax_output_0" }]));
    assert.deepEqual(shape(expr("transformer.h[-1].output")), member(index(path("transformer", "h"), item(n(-1, "-1"))), "output"));
    assert.deepEqual(shape(expr("transformer.h[2].mlp.outputs[1]")), path("transformer", "h", 2, "mlp", "outputs", 1));
    assert.deepEqual(shape(expr("transformer.h[2].attn.inputs[1]")), path("transformer", "h", 2, "attn", "inputs", 1));
    assert.deepEqual(shape(expr("transformer.h[2].mlp.c_fc.weight")), path("transformer", "h", 2, "mlp", "c_fc", "weight"));
    assert.deepEqual(shape(expr("M.calls[1].input")), path("M", "calls", 1, "input"));
  });

  test("indexing and slicing", () => {
    const slice = (start?: unknown, stop?: unknown, step?: unknown) => ({
      kind: "Slice",
      ...(start !== undefined ? { start } : {}),
      ...(stop !== undefined ? { stop } : {}),
      ...(step !== undefined ? { step } : {}),
    });
    assert.deepEqual(shape(expr("x[0]")), index(name("x"), item(n(0))));
    assert.deepEqual(shape(expr("x[:, -1, :]")), index(name("x"), slice(), item(n(-1, "-1")), slice()));
    assert.deepEqual(shape(expr("x[..., 0:10]")), index(name("x"), { kind: "Ellipsis" }, slice(n(0), n(10))));
    assert.deepEqual(shape(expr("x[1:3:2]")), index(name("x"), slice(n(1), n(3), n(2))));
    assert.deepEqual(shape(expr("x[::2]")), index(name("x"), slice(undefined, undefined, n(2))));
    assert.deepEqual(shape(expr("x[1:]")), index(name("x"), slice(n(1))));
    assert.deepEqual(shape(expr("x[:l+1]")), index(name("x"), slice(undefined, bin("+", name("l"), n(1)))));
    assert.deepEqual(shape(expr("x[a::]")), index(name("x"), slice(name("a"))));
    assert.deepEqual(shape(expr("xs[0:l]")), index(name("xs"), slice(n(0), name("l"))));
    const e = expr("x[..., 0:10]");
    if (e.kind !== "Index") return assert.fail();
    assert.deepEqual(e.items.map((i) => where(i.span)), [span(1, 11, 3), span(1, 16, 4)]);
  });

  test("calls: positional and keyword arguments, trailing comma, chained postfix", () => {
    assert.deepEqual(
      shape(expr("softmax(x, axis=-1, keepdims=true,)")),
      call(name("softmax"), [name("x")], [
        { name: "axis", value: n(-1, "-1") },
        { name: "keepdims", value: { kind: "Bool", value: true } },
      ]),
    );
    assert.deepEqual(shape(expr("f()")), call(name("f"), []));
    assert.deepEqual(shape(expr("a.b(c)[0].d")), member(index(call(member(name("a"), "b"), [name("c")]), item(n(0))), "d"));
    const e = expr("f(x, axis = 0)");
    if (e.kind !== "Call") return assert.fail();
    assert.deepEqual(where(e.span), span(1, 9, 14));
    assert.deepEqual(where(e.kwargs[0]!.span), span(1, 14, 8));
  });

  test("precedence and associativity", () => {
    const cases: [string, unknown][] = [
      ["a + b * c", bin("+", name("a"), bin("*", name("b"), name("c")))],
      ["a - b - c", bin("-", bin("-", name("a"), name("b")), name("c"))],
      ["a * b @ c / d", bin("/", bin("@", bin("*", name("a"), name("b")), name("c")), name("d"))],
      ["-x**2", { kind: "Unary", op: "-", operand: bin("**", name("x"), n(2)) }],
      ["-2**2", { kind: "Unary", op: "-", operand: bin("**", n(2), n(2)) }],
      ["2**-1", bin("**", n(2), n(-1, "-1"))],
      ["2**-x", bin("**", n(2), { kind: "Unary", op: "-", operand: name("x") })],
      ["a**b**c", bin("**", name("a"), bin("**", name("b"), name("c")))],
      ["-a * b", bin("*", { kind: "Unary", op: "-", operand: name("a") }, name("b"))],
      ["--a", { kind: "Unary", op: "-", operand: { kind: "Unary", op: "-", operand: name("a") } }],
      ["a < b + 1", bin("<", name("a"), bin("+", name("b"), n(1)))],
      ["a + 1 >= b * 2", bin(">=", bin("+", name("a"), n(1)), bin("*", name("b"), n(2)))],
      ["a == b", bin("==", name("a"), name("b"))],
      ["a != -1", bin("!=", name("a"), n(-1, "-1"))],
      ["(a + b) * c", bin("*", bin("+", name("a"), name("b")), name("c"))],
      ["x.y**2", bin("**", member(name("x"), "y"), n(2))],
      ["cache + [x]", bin("+", name("cache"), { kind: "List", elements: [name("x")] })],
      ["(a < b) == c", bin("==", bin("<", name("a"), name("b")), name("c"))],
    ];
    for (const [source, expected] of cases) assert.deepEqual(shape(expr(source)), expected, source);
  });

  test("spans of compound expressions; parentheses widen a span", () => {
    const e = expr("(a + b) * c");
    assert.deepEqual(where(e.span), span(1, 9, 11));
    if (e.kind !== "Binary") return assert.fail();
    assert.deepEqual(where(e.left.span), span(1, 9, 7));
    const u = expr("-x**2");
    assert.deepEqual(where(u.span), span(1, 9, 5));
  });

  test("printExpr prints what parses back to the same tree", () => {
    for (const source of [
      "a + b * c",
      "(a + b) * c",
      "a - (b - c)",
      "-x**2",
      "(-x)**2",
      "(-1)**2",
      "2**-1",
      "(a**b)**c",
      "a**b**c",
      "-(a + b)",
      "(a < b) == c",
      "(a + b).c[0:1, ..., ::2](x, axis=-1)",
      'model.inputs["input_ids"]',
      '"q\\"\\n"',
      "[1, -2.5, true, [x]]",
      "-(-1)",
    ]) {
      const tree = expr(source);
      assert.equal(printExpr(tree), source, source);
      assert.deepEqual(shape(expr(printExpr(tree))), shape(tree), source);
    }
  });
});

// ---------------------------------------------------------------------------------------------


describe("the seed examples", () => {
  test("all six parse, verbatim, into the expected statements", () => {
    const stmts = ok(SEED_EXAMPLES);
    assert.deepEqual(
      stmts.map((s) => s.kind),
      ["Assign", "Assign", "Pass", "Pass", "For", "Def", "Let", "For", "Let", "For", "Let", "For"],
    );
    const mlp = (l: unknown) => member(member(index(path("transformer", "h"), item(l)), "mlp"), "output");
    const ln2 = (l: unknown) => member(member(index(path("transformer", "h"), item(l)), "ln_2"), "input");
    const layers = { kind: "Range", start: n(0), end: call(name("len"), [path("transformer", "h")]) };
    assert.deepEqual(shape(stmts[0]), { kind: "Assign", target: mlp(n(8)), op: "=", value: mlp(n(2)) });
    assert.deepEqual(shape(stmts[1]), { kind: "Assign", target: mlp(n(2)), op: "=", value: mlp(n(8)) });
    assert.deepEqual(shape(stmts[2]), { kind: "Pass", name: "first", overrides: [], body: [{ kind: "Save", name: "mlp8", value: mlp(n(8)) }] });
    assert.deepEqual(shape(stmts[3]), {
      kind: "Pass",
      name: "second",
      overrides: [],
      body: [{ kind: "Assign", target: mlp(n(2)), op: "=", value: member(name("first"), "mlp8") }],
    });
    assert.deepEqual(shape(stmts[4]), {
      kind: "For",
      variable: "l",
      iterable: layers,
      body: [{ kind: "Assign", target: mlp(name("l")), op: "=", value: ln2(name("l")) }],
    });
    assert.deepEqual(shape(stmts[7]), {
      kind: "For",
      variable: "l",
      iterable: layers,
      body: [
        { kind: "Assign", target: name("cache"), op: "=", value: bin("+", name("cache"), { kind: "List", elements: [ln2(name("l"))] }) },
        { kind: "Assign", target: mlp(name("l")), op: "=", value: call(name("fancy_op"), [name("cache")]) },
      ],
    });
    assert.deepEqual(shape(stmts[10]), {
      kind: "Let",
      name: "stacked",
      value: call(name("unbind"), [call(name("stack"), [name("cache")])], [{ name: "axis", value: n(0) }]),
    });
    assert.deepEqual(shape(stmts[11]), {
      kind: "For",
      variable: "l",
      iterable: layers,
      body: [
        {
          kind: "Assign",
          target: mlp(name("l")),
          op: "=",
          value: call(name("fancy_op"), [
            index(name("stacked"), { kind: "Slice", start: n(0), stop: bin("+", name("l"), n(1)) }),
          ]),
        },
      ],
    });
    // Spans point into the file: example 2's patch is on line 5.
    assert.deepEqual(where(stmts[1]!.span), span(5, 1, 57));
    const pass = stmts[2]!;
    assert.deepEqual(where(pass.span), span(8, 1, 55));
  });

  test("each example also parses on its own", () => {
    const chunks = SEED_EXAMPLES.split(/\n(?=# \d\.)/);
    assert.equal(chunks.length, 6);
    for (const chunk of chunks) ok(chunk);
  });

  test("the script node covers the whole file", () => {
    const { script } = parse(SEED_EXAMPLES, "seed.intv");
    assert.equal(script.file, "seed.intv");
    assert.equal(script.source, SEED_EXAMPLES);
    assert.deepEqual(script.span, { file: "seed.intv", offset: 0, line: 1, col: 1, length: SEED_EXAMPLES.length });
  });
});

// ---------------------------------------------------------------------------------------------

test("grammar/cst.ts is what generateCstDts makes of the current grammar", () => {
  const checkedIn = readFileSync(fileURLToPath(new URL("../../grammar/cst.ts", import.meta.url)), "utf8");
  assert.equal(
    checkedIn,
    cstTypesSource(),
    "grammar/cst.ts is out of date: run `npx tsc -p tsconfig.json && node dist/tools/gen-cst-dts.js`",
  );
});

test("a script of thousands of lines parses", () => {
  const lines: string[] = [];
  for (let i = 0; i < 2000; i++) lines.push(`let x${i} = transformer.h[${i % 12}].mlp.output * ${i}.5 + f(a, axis=-1)[..., 0:10]`);
  const { script, diagnostics } = parse(lines.join("\n"), FILE);
  assert.equal(diagnostics.length, 0);
  assert.equal(script.statements.length, 2000);
  assert.equal(script.statements[1999]!.span.line, 2000);
});
