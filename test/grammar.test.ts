// The grammar stage against hand-written tokens, ASTs and diagnostics.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { cstTypesSource } from "../grammar/cstTypes.js";
import { parse, printExpr, tokenize, type Expr, type Stmt } from "../grammar/index.js";

const FILE = "t.intv";

/** Token type names, without the trivia the lexer skips. */
function tokenNames(source: string): string[] {
  const { tokens, diagnostics } = tokenize(source, FILE);
  assert.deepEqual(diagnostics, []);
  return tokens.map((t) => t.tokenType.name);
}

/** A deep copy without spans, to compare shapes. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== "span" && !k.endsWith("Span"))
        .map(([k, v]) => [k, shape(v)]),
    );
  }
  return value;
}

function ok(source: string): Stmt[] {
  const { script, diagnostics } = parse(source, FILE);
  assert.deepEqual(diagnostics, [], `unexpected diagnostics for ${JSON.stringify(source)}`);
  return script.statements;
}

/** The value of `let e = <source>`. */
function expr(source: string): Expr {
  const [stmt] = ok(`let e = ${source}`);
  assert.equal(stmt?.kind, "Let");
  return (stmt as Extract<Stmt, { kind: "Let" }>).value;
}

const n = (value: number, raw = String(value)) => ({ kind: "Number", value, raw });
const name = (s: string) => ({ kind: "Name", name: s });
const bin = (op: string, left: unknown, right: unknown) => ({ kind: "Binary", op, left, right });
const member = (object: unknown, property: string) => ({ kind: "Member", object, property });
const index = (object: unknown, ...items: unknown[]) => ({ kind: "Index", object, items });
const item = (e: unknown) => ({ kind: "Expr", expr: e });
const call = (callee: unknown, args: unknown[], kwargs: unknown[] = []) => ({ kind: "Call", callee, args, kwargs });
const path = (...parts: (string | number)[]) =>
  parts.slice(1).reduce<unknown>(
    (obj, p) => (typeof p === "number" ? index(obj, item(n(p))) : member(obj, p)),
    name(String(parts[0])),
  );

function span(line: number, col: number, length: number) {
  return { line, col, length };
}
function where(s: { line: number; col: number; length: number }) {
  return { line: s.line, col: s.col, length: s.length };
}

// ---------------------------------------------------------------------------------------------

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

const SEED_EXAMPLES = `# 1. Replace MLP 8's output with MLP 2's: fine, layer 2 runs first.
transformer.h[8].mlp.output = transformer.h[2].mlp.output

# 2. The reverse is a cycle: compile-time error naming h[2] and h[8], suggesting two passes.
transformer.h[2].mlp.output = transformer.h[8].mlp.output

# 3. The reverse done right, with two passes compiled into one model and one run.
pass first  { save mlp8 = transformer.h[8].mlp.output }
pass second { transformer.h[2].mlp.output = first.mlp8 }

# 4. Skip every MLP: each MLP's output becomes its layer norm's input.
for l in 0..len(transformer.h) {
  transformer.h[l].mlp.output = transformer.h[l].ln_2.input
}

# 5. Layer by layer, each patch computed from all MLP inputs so far (a cross-layer replacement).
def fancy_op(xs) = mean(stack(xs), axis=0)
let cache = []
for l in 0..len(transformer.h) {
  cache = cache + [transformer.h[l].ln_2.input]
  transformer.h[l].mlp.output = fancy_op(cache)
}

# 6. The same, collecting all inputs first: equal results to 5, and no false cycle.
let cache = []
for l in 0..len(transformer.h) { cache = cache + [transformer.h[l].ln_2.input] }
let stacked = unbind(stack(cache), axis=0)
for l in 0..len(transformer.h) {
  transformer.h[l].mlp.output = fancy_op(stacked[0:l+1])
}
`;

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
