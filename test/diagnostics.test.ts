// Rendering of diagnostics, pinned as text; and "did you mean".

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  didYouMean,
  editDistance,
  renderDiagnostic,
  renderDiagnostics,
  suggest,
  type Diagnostic,
  type Span,
} from "../common/index.js";
import { parse } from "../grammar/index.js";

const FILE = "script.intv";

/** A span by line and column in `source` (the offset is computed, as the lexer would). */
function at(source: string, line: number, col: number, length: number, file = FILE): Span {
  const lines = source.split("\n");
  const offset = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + col - 1;
  return { file, offset, line, col, length };
}

const text = (lines: string[]) => lines.join("\n") + "\n";

describe("renderDiagnostic", () => {
  const source = "let a = 1\nlet b = 2\ntransformer.h[2].mlp.output = transformer.h[8].mlp.output\n";
  const sources = new Map([[FILE, source]]);

  test("the example of the brief: primary span, a label on the same line, a note and help", () => {
    const d: Diagnostic = {
      code: "E0301",
      severity: "error",
      message: "patch of `transformer.h[2].mlp.output` needs a value computed later in the model",
      span: at(source, 3, 1, 27),
      labels: [{ span: at(source, 3, 31, 27), message: "`transformer.h[8].mlp` runs after `transformer.h[2].mlp`" }],
      notes: ["h[2].mlp → h[3] → … → h[8].mlp"],
      help: "read it in a first pass and patch in a second: ...",
    };
    assert.equal(
      renderDiagnostic(d, sources),
      text([
        "script.intv:3:1: error[E0301]: patch of `transformer.h[2].mlp.output` needs a value computed later in the model",
        "  |",
        "3 | transformer.h[2].mlp.output = transformer.h[8].mlp.output",
        "  | ^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        "  |",
        "3 | transformer.h[2].mlp.output = transformer.h[8].mlp.output",
        "  |                               --------------------------- `transformer.h[8].mlp` runs after `transformer.h[2].mlp`",
        "  = note: h[2].mlp → h[3] → … → h[8].mlp",
        "  = help: read it in a first pass and patch in a second: ...",
      ]),
    );
  });

  test("primary span only", () => {
    const d: Diagnostic = { code: "E0101", severity: "error", message: "unknown name `b2`", span: at(source, 2, 5, 1) };
    assert.equal(
      renderDiagnostic(d, sources),
      text(["script.intv:2:5: error[E0101]: unknown name `b2`", "  |", "2 | let b = 2", "  |     ^"]),
    );
  });

  test("a label on another line, a warning, and a gutter wide enough for both line numbers", () => {
    const long = Array.from({ length: 12 }, (_, i) => `let x${i + 1} = ${i}`).join("\n");
    const d: Diagnostic = {
      code: "W0001",
      severity: "warning",
      message: "`x12` is read before the patch that changes it",
      span: at(long, 12, 5, 3),
      labels: [{ span: at(long, 9, 5, 2), message: "patched here" }],
    };
    assert.equal(
      renderDiagnostic(d, new Map([[FILE, long]])),
      text([
        "script.intv:12:5: warning[W0001]: `x12` is read before the patch that changes it",
        "   |",
        "12 | let x12 = 11",
        "   |     ^^^",
        "   |",
        " 9 | let x9 = 8",
        "   |     -- patched here",
      ]),
    );
  });

  test("without a span: the first line, notes and help", () => {
    const d: Diagnostic = {
      code: "E0701",
      severity: "error",
      message: "`model.onnx` has no graph outputs",
      notes: ["an ONNX model needs at least one output"],
      help: "export the model with its outputs",
    };
    assert.equal(
      renderDiagnostic(d, sources),
      text([
        "error[E0701]: `model.onnx` has no graph outputs",
        "  = note: an ONNX model needs at least one output",
        "  = help: export the model with its outputs",
      ]),
    );
  });

  test("tabs are expanded to four spaces, and the carets follow", () => {
    const tabbed = "for l in 0..2 {\n\t\tx\t= y\n}";
    const d: Diagnostic = { code: "E0101", severity: "error", message: "unknown name `y`", span: at(tabbed, 2, 7, 1) };
    assert.equal(
      renderDiagnostic(d, new Map([[FILE, tabbed]])),
      text(["script.intv:2:7: error[E0101]: unknown name `y`", "  |", "2 |         x    = y", "  |                ^"]),
    );
  });

  test("a span over several lines is underlined to the end of its first line", () => {
    const multi = "let xs = [\n  a,\n  b,\n]\n";
    const d: Diagnostic = { code: "E0401", severity: "error", message: "a list is not a tensor", span: at(multi, 1, 10, 17) };
    assert.equal(
      renderDiagnostic(d, new Map([[FILE, multi]])),
      text(["script.intv:1:10: error[E0401]: a list is not a tensor", "  |", "1 | let xs = [", "  |          ^"]),
    );
    const wider: Diagnostic = { ...d, span: at(multi, 1, 5, 23) };
    assert.equal(
      renderDiagnostic(wider, new Map([[FILE, multi]])),
      text(["script.intv:1:5: error[E0401]: a list is not a tensor", "  |", "1 | let xs = [", "  |     ^^^^^^"]),
    );
  });

  test("an empty span at the end of a line gets one caret just past the text", () => {
    const d: Diagnostic = { code: "E0002", severity: "error", message: "expected an expression after `let a =`, found end of line", span: at("let a =\n", 1, 8, 0) };
    assert.equal(
      renderDiagnostic(d, new Map([[FILE, "let a =\n"]])),
      text(["script.intv:1:8: error[E0002]: expected an expression after `let a =`, found end of line", "  |", "1 | let a =", "  |        ^"]),
    );
  });

  test("a label in another file says where; unknown sources fall back to the first line", () => {
    const lib = "def f(x) = x +\n";
    const d: Diagnostic = {
      code: "E0102",
      severity: "error",
      message: "wrong number of arguments to `f`",
      span: at(source, 1, 9, 1),
      labels: [{ span: at(lib, 1, 5, 1, "lib.intv"), message: "`f` is defined here" }],
    };
    const lookup = (file: string) => (file === FILE ? source : file === "lib.intv" ? lib : undefined);
    assert.equal(
      renderDiagnostic(d, lookup),
      text([
        "script.intv:1:9: error[E0102]: wrong number of arguments to `f`",
        "  |",
        "1 | let a = 1",
        "  |         ^",
        " --> lib.intv:1:5",
        "  |",
        "1 | def f(x) = x +",
        "  |     - `f` is defined here",
      ]),
    );
    assert.equal(
      renderDiagnostic(d, () => undefined),
      text(["script.intv:1:9: error[E0102]: wrong number of arguments to `f`", "  = note: lib.intv:1:5: `f` is defined here"]),
    );
  });

  test("control characters are shown as symbols, one column each", () => {
    const { diagnostics } = parse("let x = \u0000 1", FILE);
    assert.equal(
      renderDiagnostics(diagnostics, new Map([[FILE, "let x = \u0000 1"]])),
      text(["script.intv:1:9: error[E0001]: unexpected control character U+0000", "  |", "1 | let x = \u2400 1", "  |         ^"]),
    );
  });

  test("colour only on request; unknown options are rejected by name", () => {
    const d: Diagnostic = { code: "E0101", severity: "error", message: "unknown name `b2`", span: at(source, 2, 5, 1) };
    const ESC = "\u001b";
    assert.ok(!renderDiagnostic(d, sources).includes(ESC));
    assert.ok(renderDiagnostic(d, sources, { color: true }).includes(`${ESC}[1;31merror[E0101]${ESC}[0m`));
    assert.throws(() => renderDiagnostic(d, sources, { colour: true } as never), /unknown render option `colour`/);
  });
});

describe("renderDiagnostics", () => {
  test("syntax errors of a real script, separated by blank lines", () => {
    const source = "let a = 1\nsave x + 2\npass clean {\n  save y = 1\n";
    const { diagnostics } = parse(source, FILE);
    assert.equal(
      renderDiagnostics(diagnostics, new Map([[FILE, source]])),
      [
        "script.intv:2:8: error[E0002]: expected `=` after `save x`, found `+`",
        "  |",
        "2 | save x + 2",
        "  |        ^",
        "  = help: a `save` statement is `save NAME = expression`, or `save NAME[index] = expression` in a loop",
        "",
        "script.intv:4:13: error[E0002]: expected `}`, found end of file",
        "  |",
        "4 |   save y = 1",
        "  |             ^",
        "  |",
        "3 | pass clean {",
        "  |            - unclosed `{`",
        "  = help: add `}` to close the `{` on line 3",
        "",
      ].join("\n"),
    );
  });

  test("nothing to render is the empty string", () => {
    assert.equal(renderDiagnostics([], new Map()), "");
  });
});

describe("suggest", () => {
  test("editDistance counts insertions, deletions, substitutions and adjacent swaps", () => {
    assert.equal(editDistance("", ""), 0);
    assert.equal(editDistance("", "abc"), 3);
    assert.equal(editDistance("abc", ""), 3);
    assert.equal(editDistance("mlp", "mlp"), 0);
    assert.equal(editDistance("mpl", "mlp"), 1); // one swap
    assert.equal(editDistance("kitten", "sitting"), 3);
    assert.equal(editDistance("attn", "atn"), 1);
    assert.equal(editDistance("ln_2", "ln_1"), 1);
    assert.equal(editDistance("ca", "abc"), 3); // optimal string alignment, not unrestricted
    assert.equal(editDistance("😀a", "a😀"), 1); // code points, not UTF-16 units
    assert.equal(editDistance("mlp", "mpl"), editDistance("mpl", "mlp"));
  });

  test("suggest picks the closest candidate within one edit per three characters", () => {
    const children = ["ln_1", "attn", "ln_2", "mlp"];
    assert.equal(suggest("mpl", children), "mlp");
    assert.equal(suggest("atn", children), "attn");
    assert.equal(suggest("MLP", children), "mlp");
    assert.equal(suggest("ln_3", children), "ln_1"); // a tie goes to the first candidate
    assert.equal(suggest("transfromer", ["transformer", "lm_head"]), "transformer");
    assert.equal(suggest("softmx", ["softmax", "sigmoid"]), "softmax");
    assert.equal(suggest("decoder", children), undefined);
    assert.equal(suggest("ml", ["mlp"]), "mlp");
    assert.equal(suggest("x", ["y", "xs"]), undefined); // one letter is too little to guess from
    assert.equal(suggest("mlp", ["mlp"]), undefined);
    assert.equal(suggest("", ["a"]), undefined);
    assert.equal(suggest("mpl", new Set(children)), "mlp");
  });

  test("didYouMean phrases it for help text", () => {
    assert.equal(didYouMean("mpl", ["mlp"]), "did you mean `mlp`?");
    assert.equal(didYouMean("zzz", ["mlp"]), undefined);
  });
});
