// The table of diagnostic codes (common/diagnostics/codes.ts) and the docs agree: docs/errors.md
// lists every code once, under the heading the table names; docs/language.md's table of
// diagnostics gives each code the table's title; every code either doc mentions is in the table;
// every pinned diagnostic (test/fixtures/diagnostics/CODE.intv) is one. Each example in
// docs/errors.md's tables gives the code of its row, and docs/language.md lists every built-in
// function of the registry (compiler/resolve/builtins/index.ts). (`Diagnostic.code` is typed by the table, so
// the compiler itself cannot raise a code that is not in it.)

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { compile, DIAGNOSTIC_CODES, isDiagnosticCode, type DiagnosticCode } from "../compiler/index.js";
import { BUILTINS } from "../compiler/resolve/index.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const doc = readFileSync(join(ROOT, "docs/errors.md"), "utf8");
const language = readFileSync(join(ROOT, "docs/language.md"), "utf8");
const codes = Object.keys(DIAGNOSTIC_CODES) as DiagnosticCode[];

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces as dashes. */
const anchor = (heading: string): string => heading.trim().toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-");

/** Rows `| CODE | meaning | example |` of the tables, with the heading each is under. */
const rows: { code: string; meaning: string; example: string; section: string }[] = [];
let section = "";
for (const line of doc.split("\n")) {
  const heading = /^## (.*)$/.exec(line);
  if (heading) section = anchor(heading[1]!);
  const row = /^\| ([EW]0\d{3}) \| (.*) \| (.*) \|$/.exec(line);
  if (row) rows.push({ code: row[1]!, meaning: row[2]!, example: row[3]!, section });
}

describe("docs/errors.md", () => {
  test("lists every code of the table once, under the heading the table names", () => {
    assert.ok(codes.length > 30, `${codes.length} codes in the table`);
    const listed = rows.map((r) => r.code);
    assert.equal(new Set(listed).size, listed.length, "a code listed twice");
    for (const code of listed) assert.ok(isDiagnosticCode(code), `${code} is in docs/errors.md but not in the table`);
    for (const code of codes) {
      const row = rows.find((r) => r.code === code);
      assert.ok(row, `${code} is in the table but not in docs/errors.md`);
      assert.equal(row.section, DIAGNOSTIC_CODES[code].docs, `${code}: listed under #${row.section}, the table says #${DIAGNOSTIC_CODES[code].docs}`);
    }
  });

  test("each example gives its row's code", async () => {
    let tried = 0;
    for (const { code, example } of rows) {
      const m = /^(?:(ResNet|ViT|BERT|LLaMA): )?`([^`]+)`$/.exec(example);
      if (!m) continue; // a situation, not a script
      const models: Record<string, string> = { ResNet: "test/fixtures/cnn/model.onnx", ViT: "test/fixtures/zoo/vit/model.onnx", BERT: "test/fixtures/zoo/bert/model.onnx", LLaMA: "test/fixtures/zoo/llama/model.onnx" };
      const model = m[1] ? models[m[1]]! : "examples/gpt2.onnx";
      const r = await compile({ source: m[2]!, filename: join(ROOT, "examples/doc.intv"), model: join(ROOT, model) });
      const given: string[] = r.diagnostics.map((d) => d.code);
      assert.ok(given.includes(code), `${code}: \`${m[2]}\` gives ${given.join(", ") || "no diagnostic"}`);
      tried++;
    }
    assert.ok(tried >= 30, `${tried} examples`);
  });
});

describe("docs/language.md#diagnostics", () => {
  const table = language.slice(language.indexOf("## Diagnostics"));
  const entries = [...table.matchAll(/^\| ([EW]0\d{3})(?:–([EW]0\d{3}))? \| (.*) \|$/gm)].map((m) => ({ from: m[1]!, to: m[2], title: m[3]! }));

  test("gives every code the table's title", () => {
    const covered = new Set<string>();
    for (const e of entries) {
      assert.ok(isDiagnosticCode(e.from), `${e.from} is in docs/language.md but not in the table`);
      if (e.to === undefined) {
        assert.equal(e.title, DIAGNOSTIC_CODES[e.from].title, `${e.from}: docs/language.md and the table differ`);
        covered.add(e.from);
      } else {
        // A range row (`E0601–E0603`) stands for the codes between its ends.
        const range = codes.filter((c) => c >= e.from && c <= e.to!);
        assert.ok(isDiagnosticCode(e.to) && range.length > 1, `${e.from}–${e.to}`);
        range.forEach((c) => covered.add(c));
      }
    }
    for (const code of codes) assert.ok(covered.has(code), `${code} is in the table but not in docs/language.md's table`);
  });

  test("codes mentioned anywhere in either doc are in the table", () => {
    for (const m of `${language}\n${doc}`.matchAll(/\b([EW]0\d{3})\b/g)) assert.ok(isDiagnosticCode(m[1]!), `${m[1]} is not in the table`);
  });

  test("every pinned diagnostic is a code of the table", () => {
    for (const file of readdirSync(join(ROOT, "test/fixtures/diagnostics")).filter((f) => f.endsWith(".intv"))) {
      assert.ok(isDiagnosticCode(file.split(".")[0]!), file);
    }
  });
});

describe("docs/language.md#built-in-functions", () => {
  test("the built-in functions section lists every built-in of the registry", () => {
    const section = language.slice(language.indexOf("### Built-in functions"), language.indexOf("## Order"));
    for (const f of BUILTINS) assert.match(section, new RegExp(`\`[^\`]*\\b${f.name}\\b[^\`]*\``), `${f.name} is not in docs/language.md#built-in-functions`);
  });
});
